# SPDX-License-Identifier: Apache-2.0
# Every CTest test runs under tests/support/bounded.c (the target ccz_bounded), so that nothing
# a test starts can outlive it and hold CTest's pipe open (CTest then waits forever, whatever the
# test's TIMEOUT).
#
#   ccz_add_test(NAME name COMMAND command [arg...])   add_test, through ccz_bounded
#   ccz_bound_tests()   at the end of a directory's list file: every test of the directory
#                       gets a TIMEOUT (CCZ_TEST_DEFAULT_TIMEOUT where it set none) and, a little
#                       under it, CCZ_TEST_TIMEOUT, past which ccz_bounded names what still runs
#                       and stops it
set(CCZ_TEST_DEFAULT_TIMEOUT 300)

function(ccz_add_test)
  cmake_parse_arguments(PARSE_ARGV 0 T "" "NAME" "COMMAND")
  if(T_UNPARSED_ARGUMENTS OR NOT T_NAME OR NOT T_COMMAND)
    message(FATAL_ERROR "ccz_add_test(NAME name COMMAND command [arg...]): ${ARGV}")
  endif()
  list(POP_FRONT T_COMMAND command)
  if(TARGET ${command}) # add_test's own rule: a target's name stands for its file
    set(command $<TARGET_FILE:${command}>)
  endif()
  if(TARGET ccz_bounded)
    add_test(NAME ${T_NAME} COMMAND $<TARGET_FILE:ccz_bounded> ${T_NAME} ${command} ${T_COMMAND})
  else()
    add_test(NAME ${T_NAME} COMMAND ${command} ${T_COMMAND})
  endif()
endfunction()

function(ccz_bound_tests)
  get_property(tests DIRECTORY PROPERTY TESTS)
  foreach(t ${tests})
    get_test_property(${t} TIMEOUT timeout)
    if(NOT timeout)
      set(timeout ${CCZ_TEST_DEFAULT_TIMEOUT})
      set_tests_properties(${t} PROPERTIES TIMEOUT ${timeout})
    endif()
    # ten seconds for ccz_bounded to name and stop what runs, before CTest's own kill
    math(EXPR inner "${timeout} - 10")
    if(inner LESS 10)
      math(EXPR inner "${timeout} * 2 / 3")
    endif()
    set_property(TEST ${t} APPEND PROPERTY ENVIRONMENT "CCZ_TEST_TIMEOUT=${inner}")
  endforeach()
endfunction()
