# SPDX-License-Identifier: Apache-2.0
# The README's two commands. Each installs what is missing (scripts/setup) and builds first.
#   make demo    the zoo's end-to-end scenario on the simulated TEE
#   make check   all tests, then the ASan+UBSan build of the tests (without those labelled
#                long, which run once, in the first pass), then a short fuzz run
#                (FUZZ_SECONDS per target; the whole fuzz run stays under a minute)
#   make images  the services' container images (deploy/containers; not part of check)
BUILD ?= build
JOBS ?= $(shell nproc 2>/dev/null || echo 2)
FUZZ_SECONDS ?= 4
# CI (CI=true) builds with warnings as errors; a developer's build only prints them
WERROR := -DCCZ_WERROR=$(if $(filter true 1,$(CI)),ON,OFF)
MAKEFLAGS += --no-print-directory

.PHONY: all setup build demo check test asan fuzz install clean images

all: build

setup:
	@scripts/setup

build: setup
	@cmake -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=RelWithDebInfo $(WERROR) > /dev/null
	@cmake --build $(BUILD) -j$(JOBS)

demo: build
	@scripts/demo $(BUILD)/ccz

# ctest over the build tree $(1) with the arguments $(2); what each test left running is logged
# to $(1)/Testing/strays.log and printed after (scripts/strays); the status is ctest's
run_ctest = rm -f $(1)/Testing/strays.log; \
	CCZ_TEST_STRAYS=$(abspath $(1))/Testing/strays.log \
	    ctest --test-dir $(1) --output-on-failure -j$(JOBS) $(2); \
	    rc=$$?; scripts/strays $(1)/Testing/strays.log; exit $$rc

test: build
	$(call run_ctest,$(BUILD))

asan: setup
	@cmake -S . -B build-asan -DCMAKE_BUILD_TYPE=Debug -DCCZ_SANITIZE=ON $(WERROR) > /dev/null
	@cmake --build build-asan -j$(JOBS)
	export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 \
	    UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1; $(call run_ctest,build-asan,-LE long)

fuzz: setup
	@CC=clang cmake -S . -B build-fuzz -DCMAKE_BUILD_TYPE=RelWithDebInfo -DBUILD_FUZZERS=ON \
	    -DBUILD_TESTS=OFF -DBUILD_CLI=OFF -DCCZ_SANITIZE=ON $(WERROR) \
	    -DCMAKE_C_FLAGS=-fsanitize=fuzzer-no-link > /dev/null
	@cmake --build build-fuzz -j$(JOBS)
	@scripts/fuzz-short build-fuzz $(FUZZ_SECONDS)

check: test asan fuzz

install: build
	cmake --install $(BUILD) $(if $(PREFIX),--prefix $(PREFIX))

# the container images: localhost/ccz-SERVICE:VERSION, on the local Debian base
# (deploy/containers/base.sh makes it); deploy/containers/smoke.sh starts and checks them
images:
	@scripts/setup images
	@deploy/containers/build.sh

clean:
	rm -rf $(BUILD) build-asan build-fuzz
