/* SPDX-License-Identifier: Apache-2.0 */
/* A probe of the harness's skip rule, run by harness_honesty.sh: "skip-first" skips before any
 * check (exit 77, or 1 under CI=true); "check-then-skip" runs a passing check and then asks to
 * skip, which must fail (exit 1) rather than discard the check; "fail-then-skip" likewise after
 * a failing check. */
#include <string.h>

#include "test.h"

int main(int argc, char **argv)
{
    const char *mode = argc > 1 ? argv[1] : "";
    test_name = mode;
    if (strcmp(mode, "check-then-skip") == 0)
        CHECK(1 + 1 == 2);
    else if (strcmp(mode, "fail-then-skip") == 0)
        CHECK(1 + 1 == 3);
    else if (strcmp(mode, "skip-first") != 0)
        return 2;
    test_skip(false, "the probe's prerequisite is absent");
}
