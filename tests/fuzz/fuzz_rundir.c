/* Fuzz target: what the launcher reads back from a run directory
 * (src/launcher/run.c, src/launcher/json.c) and what it makes of it: the summary, SARIF and
 * JUnit (src/launcher/summary.c, sarif.c, junit.c). Each process writes its own
 * DIR/PID.json; a process killed while writing leaves a line cut short,
 * and a program could write anything there. Whatever a file holds, reading
 * it never fails, and the SARIF made from it is one strict JSON value. */
#include "fuzz.h"
#include "json_check.h"
#include "launcher/run.h"

#include <fcntl.h>
#include <stdint.h>
#include <string.h>
#include <unistd.h>

static char dir[] = "/tmp/lockrace-fuzz-rundir-XXXXXX";

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    CHECK(mkdtemp(dir) != NULL);
    return 0;
}

static void write_file(const char *name, const uint8_t *data, size_t size)
{
    char path[sizeof dir + 32];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    CHECK(fd >= 0);
    CHECK(write(fd, data, size) == (ssize_t)size);
    close(fd);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    /* two processes' files: the input up to a form feed, and the rest */
    const uint8_t *cut = memchr(data, '\f', size);
    size_t first = cut ? (size_t)(cut - data) : size;
    write_file("4242.json", data, first);
    write_file("4343.json", cut ? cut + 1 : data, cut ? size - first - 1 : 0);

    lr_run run;
    char err[512];
    CHECK(lr_run_read(&run, dir, err, sizeof err) == 0);
    CHECK(run.nprocs <= run.nlines);
    int devnull = open("/dev/null", O_WRONLY);
    lr_run_summary(&run, devnull, 66, 0);
    close(devnull);

    char *command[] = { "prog", "an argument", "it's", NULL };
    lr_buf b = { 0 };
    lr_sarif_build(&b, &run, command, 66, NULL);
    size_t where = 0;
    CHECK(b.data != NULL);
    if (json_check(b.data, b.len, NULL, NULL, &where) != 0) {
        fprintf(stderr, "SARIF is not JSON at %zu: %.*s\n", where, (int)(b.len - where < 80 ? b.len - where : 80),
                b.data + where);
        CHECK(!"SARIF is one JSON value");
    }
    lr_buf_free(&b);
    lr_junit_options all = { 0, 0, 1, NULL };
    lr_junit_build(&b, &run, &all);
    CHECK(b.data != NULL && strlen(b.data) == b.len);
    lr_buf_free(&b);
    lr_run_free(&run);
    return 0;
}
