/* The lockrace command: `lockrace [options] -- COMMAND [ARGS]`. It checks
 * the options against the same table the library parses, puts them in
 * LOCKRACE_OPTIONS, prepends liblockrace.so to LD_PRELOAD (keeping what
 * the user had) and execs the command, whose exit status becomes its own:
 * the library turns it into `exitcode` when something was reported. */
#include "options.h"
#include "util.h"

#include <errno.h>
#include <libgen.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#ifndef LR_VERSION
#define LR_VERSION "0"
#endif
#ifndef LR_LIBDIR_FROM_BINDIR
#define LR_LIBDIR_FROM_BINDIR "../lib"
#endif

static void usage(int fd)
{
    dprintf(fd,
            "usage: lockrace [OPTION...] [--] COMMAND [ARGS...]\n"
            "Runs COMMAND with lockrace watching its locks: lock-order inversions are\n"
            "reported as they are found (stderr, or log_path / json files).\n"
            "\n"
            "Options (also accepted as LOCKRACE_OPTIONS=\"name=value:name=value\"):\n");
    lr_options_describe(fd, LR_DESCRIBE_TEXT);
    dprintf(fd, "\n  written --name=value or --name value; '-' and '_' are the same in names\n"
                "  --ci                   CI mode: also watch for whole-process hangs (watchdog=1)\n"
                "  --help                 this text\n"
                "  --version              lockrace's version\n"
                "  --help-markdown        the options as a markdown table (the README's)\n"
                "  --help-man             the options as roff (the lockrace(1) man page's)\n");
}

static void die(const char *msg, int status)
{
    dprintf(2, "lockrace: %s\n", msg);
    exit(status);
}

/* LOCKRACE_OPTIONS separates settings with ':'; one followed by a number
 * stays in the value (watch=stats+8:8), any other would split it. */
static int colon_problem(const char *value)
{
    for (const char *c = strchr(value, ':'); c; c = strchr(c + 1, ':'))
        if (c[1] < '0' || c[1] > '9' || strchr(c, '='))
            return 1;
    return 0;
}

static int find_library(char *out, size_t len)
{
    char self[PATH_MAX];
    ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);
    if (n <= 0)
        return -1;
    self[n] = 0;
    const char *dir = dirname(self);
    /* the build tree, then the installation this command belongs to */
    const char *candidates[] = { "%s/liblockrace.so", "%s/" LR_LIBDIR_FROM_BINDIR "/liblockrace.so" };
    for (size_t i = 0; i < sizeof candidates / sizeof candidates[0]; i++) {
        char path[PATH_MAX];
        snprintf(path, sizeof path, candidates[i], dir);
        if (access(path, R_OK) == 0 && realpath(path, out) && strlen(out) < len)
            return 0;
    }
    return -1;
}

int main(int argc, char **argv)
{
    static char settings[8192];
    size_t used = 0;
    char err[512];
    int i = 1;
    const char *env = getenv("LOCKRACE_OPTIONS");
    if (env)
        used += snprintf(settings, sizeof settings, "%s", env);

    for (; i < argc; i++) {
        const char *arg = argv[i];
        if (!strcmp(arg, "--")) {
            i++;
            break;
        }
        if (strncmp(arg, "--", 2) != 0)
            break;
        if (!strcmp(arg, "--help")) {
            usage(1);
            return 0;
        }
        if (!strcmp(arg, "--version")) {
            printf("lockrace %s\n", LR_VERSION);
            return 0;
        }
        if (!strcmp(arg, "--ci")) {
            /* before the flags that follow, which may turn it off again */
            used += snprintf(settings + used, sizeof settings - used, "%swatchdog=1", used ? ":" : "");
            continue;
        }
        if (!strcmp(arg, "--help-markdown")) {
            lr_options_describe(1, LR_DESCRIBE_MARKDOWN);
            return 0;
        }
        if (!strcmp(arg, "--help-man")) {
            lr_options_describe(1, LR_DESCRIBE_MAN);
            return 0;
        }
        const char *name = arg + 2, *eq = strchr(name, '='), *value;
        size_t namelen = eq ? (size_t)(eq - name) : strlen(name);
        if (eq) {
            value = eq + 1;
        } else if (i + 1 < argc) {
            value = argv[++i];
        } else {
            snprintf(err, sizeof err, "option --%s needs a value (see lockrace --help)", name);
            die(err, 2);
        }
        lr_options probe;
        lr_options_defaults(&probe);
        if (lr_options_set(&probe, name, namelen, value, err, sizeof err) < 0)
            die(err, 2);
        if (strpbrk(value, " \t\n") || colon_problem(value)) {
            snprintf(err, sizeof err, "--%.*s=%s: values cannot contain spaces, or a ':' that is "
                     "not followed by a number", (int)namelen, name, value);
            die(err, 2);
        }
        used += snprintf(settings + used, sizeof settings - used, "%s%.*s=%s", used ? ":" : "",
                         (int)namelen, name, value);
        if (used >= sizeof settings)
            die("too many options", 2);
    }
    if (i >= argc) {
        usage(2);
        return 2;
    }

    /* LOCKRACE_OPTIONS from the environment is checked too: a bad value
     * there would otherwise stop the command itself before main. */
    lr_options all;
    lr_options_defaults(&all);
    if (lr_options_parse(&all, settings, err, sizeof err) < 0)
        die(err, 2);
    /* the library takes '_' names only */
    for (char *p = settings; *p; p++) {
        char *eq = strchr(p, '=');
        if (!eq)
            break;
        for (; p < eq; p++)
            if (*p == '-')
                *p = '_';
        p = strchr(eq, ':');
        if (!p)
            break;
    }

    char lib[PATH_MAX];
    if (find_library(lib, sizeof lib) < 0)
        die("cannot find liblockrace.so next to the lockrace command, nor in "
            LR_LIBDIR_FROM_BINDIR " from it (where cmake --install puts it)", 2);
    const char *preload = getenv("LD_PRELOAD");
    static char preload_value[2 * PATH_MAX];
    snprintf(preload_value, sizeof preload_value, "%s%s%s", lib, preload && *preload ? ":" : "",
             preload ? preload : "");
    setenv("LD_PRELOAD", preload_value, 1);
    if (used)
        setenv("LOCKRACE_OPTIONS", settings, 1);

    execvp(argv[i], argv + i);
    snprintf(err, sizeof err, "cannot run '%s': %s", argv[i], strerror(errno));
    die(err, errno == ENOENT ? 127 : 126);
}
