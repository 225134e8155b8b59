/* What the Check suites share: stacks made from a fake call site, and the
 * main that runs one suite (each test in its own process: Check's fork
 * mode, so the engines' global state starts empty every time). */
#ifndef LR_UNIT_H
#define LR_UNIT_H

#include "support/stack.h"

#include <check.h>
#include <stdint.h>
#include <stdlib.h>

/* The call site lr_stack_capture reports while a test has installed
 * unit_site_stack as lr_stack_capture_override. */
static uintptr_t current_site;

static inline lr_stack_id unit_site_stack(void)
{
    return lr_stack_intern(&current_site, 1);
}

#define LR_UNIT_MAIN(make_suite)                                                         \
    int main(void)                                                                       \
    {                                                                                    \
        SRunner *sr = srunner_create(make_suite());                                      \
        srunner_run_all(sr, CK_NORMAL);                                                  \
        int failed = srunner_ntests_failed(sr);                                          \
        srunner_free(sr);                                                                \
        return failed ? EXIT_FAILURE : EXIT_SUCCESS;                                     \
    }

#endif
