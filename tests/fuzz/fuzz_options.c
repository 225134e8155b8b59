/* Fuzz target: the options parser (src/support/options.c), as LOCKRACE_OPTIONS
 * reaches it (a whole string) and as the launcher's flags do (one key and
 * a value that may hold any byte). Whatever the input, a value is either
 * accepted and in range or refused with one line of error. */
#include "fuzz.h"
#include "support/options.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

static void check_error(int rc, const char *err, size_t errlen)
{
    if (rc == 0)
        return;
    CHECK(err[0] != 0);
    CHECK(strlen(err) < errlen);
    CHECK(strchr(err, '\n') == NULL);   /* one line */
}

static void check_ranges(const lr_options *o)
{
    CHECK(o->exitcode >= 0 && o->exitcode <= 255);
    CHECK(o->stack_depth >= 1 && o->stack_depth <= 64);
    CHECK(o->verbosity >= 0 && o->verbosity <= 2);
    CHECK(o->single_thread_cycles == 0 || o->single_thread_cycles == 1);
    CHECK(o->show_gated == 0 || o->show_gated == 1);
    CHECK(o->watchdog == 0 || o->watchdog == 1);
    CHECK(o->deadlock >= LR_DEADLOCK_ABORT && o->deadlock <= LR_DEADLOCK_OFF);
    CHECK(o->hang_ms >= 100 && o->hang_ms <= 3600000);
    CHECK(o->stall_ms >= 0 && o->stall_ms <= 3600000);
    const char *paths[] = { o->log_path, o->json, o->log_dir, o->suppressions, o->watch };
    for (size_t i = 0; i < sizeof paths / sizeof paths[0]; i++)
        CHECK(memchr(paths[i], 0, sizeof o->log_path) != NULL);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    /* as getenv gives it: a NUL ends the string */
    char *s = malloc(size + 1);
    memcpy(s, data, size);
    s[size] = 0;

    lr_options o, again;
    char err[512] = "", err2[512] = "";
    lr_options_defaults(&o);
    int rc = lr_options_parse(&o, s, err, sizeof err);
    check_error(rc, err, sizeof err);
    check_ranges(&o);
    /* the same string, the same outcome */
    lr_options_defaults(&again);
    CHECK(lr_options_parse(&again, s, err2, sizeof err2) == rc);
    CHECK(memcmp(&o, &again, sizeof o) == 0 && strcmp(err, err2) == 0);

    /* a launcher flag: --KEY VALUE, the value as given (any byte but NUL) */
    const char *eq = memchr(data, '=', size);
    if (eq) {
        size_t keylen = (size_t)(eq - (const char *)data);
        lr_options_defaults(&o);
        rc = lr_options_set(&o, s, keylen, s + keylen + 1, err, sizeof err);
        check_error(rc, err, sizeof err);
        check_ranges(&o);
    }
    /* a caller's small error buffer cuts the line, never overflows it */
    char tiny[8];
    lr_options_defaults(&o);
    if (lr_options_parse(&o, s, tiny, sizeof tiny) < 0)
        CHECK(strlen(tiny) < sizeof tiny);
    free(s);
    return 0;
}
