/* The lockrace command: `lockrace [options] -- COMMAND [ARGS]`. It checks
 * the options against the same table the library parses, puts them in
 * LOCKRACE_OPTIONS with a run directory (log_dir), prepends liblockrace.so
 * to LD_PRELOAD (keeping what the user had), and runs the command, passing
 * on the signals meant for it. Every process of the command's tree writes
 * its reports to its own file in the run directory; when the command ends
 * the launcher gathers them into a summary, SARIF and JUnit (run.h), and
 * ends with the command's exit status, or `exitcode` when something was
 * reported and the command otherwise succeeded. */
#include "support/options.h"
#include "launcher/run.h"
#include "support/util.h"

#include <dirent.h>
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#ifndef LR_SANITIZER_RUNTIME
#define LR_SANITIZER_RUNTIME ""
#endif
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
            "Runs COMMAND, and every program it starts, with lockrace watching their locks:\n"
            "reports are printed as they are found (stderr, or log_path / json files), and\n"
            "gathered when COMMAND ends (a summary when there were several processes).\n"
            "\n"
            "Options (also accepted as LOCKRACE_OPTIONS=\"name=value:name=value\", or with ',' or spaces between):\n");
    lr_options_describe(fd, LR_DESCRIBE_TEXT);
    dprintf(fd, "\n  written --name=value or --name value, a bool also bare (--watchdog: =1); '-' and '_'\n"
                "  are the same in names\n"
                "  --ci                   CI mode: also watch for whole-process hangs (watchdog=1)\n"
                "  --sarif FILE           write the reports of the whole run as SARIF 2.1.0\n"
                "  --source-root DIR      SARIF file names relative to DIR (default: the repository that\n"
                "                         holds the sources, else the current directory)\n"
                "  --junit FILE           write JUnit XML: a test case per program that used threads or\n"
                "                         locks, reported, crashed or was killed; failed when it reported\n"
                "                         or crashed\n"
                "  --junit-all            a test case for every process, shells and tools too\n"
                "  --junit-skip NAME,...  no test case for these programs (by file name, as ctest),\n"
                "                         unless they reported\n"
                "  --graph FILE           draw the lock-order graph of every process (order_graph=1) as\n"
                "                         Graphviz DOT; FILE.svg: also drawn as SVG by Graphviz's dot, and\n"
                "                         FILE.dot: the SVG next to it too, when dot is installed\n"
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

/* The launcher's own flags that take a value (those without one, --ci,
 * --junit-all, --help ..., are matched whole before this is asked). */
static int launcher_takes_value(const char *name, size_t len)
{
    static const char *const names[] = { "sarif", "junit", "source-root", "source_root", "junit-skip",
                                         "junit_skip", "graph" };
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
        if (strlen(names[i]) == len && !strncmp(names[i], name, len))
            return 1;
    return 0;
}

/* An option neither the launcher nor the library knows: named with what is
 * accepted, as a bad value is. `arg` is the name after "--", or a whole
 * single-dash argument. */
static void unknown_option(const char *arg, size_t len)
{
    char keys[512], shown[80], err[1024];
    lr_options_accepted(keys, sizeof keys);
    snprintf(err, sizeof err, "unknown option '%s' (accepted: %s, as --NAME=VALUE or --NAME VALUE, a "
             "bool also bare; and --ci, --sarif, --junit, --junit-all, --junit-skip, --source-root, "
             "--graph, --help, --version; see lockrace --help)", lr_shown(shown, sizeof shown, arg, len), keys);
    die(err, 2);
}

/* LOCKRACE_OPTIONS separates settings with ':', ',' or spaces; a ':' or
 * ',' stays in the value when no "key=" follows it, and a ':' only before
 * a number or as C++'s "::" (watch=counter,stats+8:8,stats::hits). A value
 * the library would split is refused here (lr_options_value_continues). */
static int separator_problem(const char *value)
{
    for (const char *c = value; (c = strpbrk(c, ":,")); c++) {
        if (!lr_options_value_continues(c))
            return 1;
        if (c[0] == ':' && c[1] == ':')
            c++;                /* C++'s "::", one piece */
    }
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

/* The libraries liblockrace.so loads at run time, looked for once here
 * rather than in every process of the tree: libunwind (stacks of signal
 * contexts). libdw, which it is linked with, the loader checks (and says
 * "cannot be preloaded" without it); libcapstone, only for --watch, the
 * command says it needs. */
static void check_dependencies(void)
{
    const char *name = getenv("LOCKRACE_LIBUNWIND");
    name = name && *name ? name : LR_LIBUNWIND;
    void *h = dlopen(name, RTLD_LAZY | RTLD_LOCAL);
    if (h)
        dlclose(h);
    else
        lr_say_missing_unwinder(2, name);
}

/* ---- the run directory ---- */

static int has_entries(const char *dir)
{
    DIR *d = opendir(dir);
    struct dirent *e;
    int found = 0;
    while (d && !found && (e = readdir(d)))
        found = strcmp(e->d_name, ".") && strcmp(e->d_name, "..");
    if (d)
        closedir(d);
    return found;
}

/* log_dir when the user named one, made absolute (the command may change
 * directory) and kept; else a new temporary directory. A named directory
 * that holds files already (an earlier run's, or those of a lockrace
 * running this one) gets a new subdirectory, so that this launcher
 * gathers its own tree and nothing else. */
static void run_dir_prepare(const char *named, char *out, size_t len)
{
    char err[PATH_MAX + 200], cwd[PATH_MAX];
    if (!*named) {
        const char *tmp = getenv("TMPDIR");
        snprintf(out, len, "%s/lockrace.XXXXXX", tmp && *tmp ? tmp : "/tmp");
    } else {
        int n = named[0] == '/' || !getcwd(cwd, sizeof cwd) ? snprintf(out, len, "%s", named)
                                                            : snprintf(out, len, "%s/%s", cwd, named);
        if (n < 0 || (size_t)n >= len - 16) {
            snprintf(err, sizeof err, "log_dir=%s: the path is too long", named);
            die(err, 2);
        }
        if (mkdir(out, 0755) < 0 && errno != EEXIST) {
            snprintf(err, sizeof err, "log_dir=%s: cannot create it (%s)", named, strerror(errno));
            die(err, 2);
        }
        if (!has_entries(out))
            return;
        strncat(out, "/run.XXXXXX", len - strlen(out) - 1);
    }
    if (!mkdtemp(out)) {
        snprintf(err, sizeof err, "cannot create the run directory %s (%s)", out, strerror(errno));
        die(err, 2);
    }
}

/* Removes the entry `name` of the directory open at `at`, and all it
 * holds, through descriptors: a link is removed, never followed (the run
 * directory's writers may be other users); at most `depth` levels down. */
static void remove_tree(int at, const char *name, int depth)
{
    if (unlinkat(at, name, 0) == 0 || (errno != EISDIR && errno != EPERM) || depth <= 0)
        return;
    int fd = openat(at, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    DIR *d = fd >= 0 ? fdopendir(fd) : NULL;
    if (!d) {
        if (fd >= 0)
            close(fd);
        return;
    }
    for (struct dirent *e; (e = readdir(d));)
        if (strcmp(e->d_name, ".") && strcmp(e->d_name, ".."))
            remove_tree(dirfd(d), e->d_name, depth - 1);
    closedir(d);
    unlinkat(at, name, AT_REMOVEDIR);
}

/* The directory the processes write in, inside the temporary run
 * directory `run` that mkdtemp made (0700): `run` itself, or as root, whose command's
 * workers may switch to other users (nginx's, apache2's, which write their
 * own files as they first report), a subdirectory any user may write in
 * (sticky: none removes another's file), its name known only to whoever
 * can read the processes' environment: `run`, no longer listable but by
 * root, hides it. The launcher reads what is there without following a
 * link (lr_run_read). */
static void writers_dir(const char *run, char *out, size_t len)
{
    snprintf(out, len, "%s", run);
    if (geteuid() != 0)
        return;
    char err[PATH_MAX + 200];
    if (snprintf(out, len, "%s/w.XXXXXX", run) >= (int)len || chmod(run, 0711) != 0 || !mkdtemp(out) ||
        chmod(out, 01733) != 0) {
        snprintf(err, sizeof err, "cannot create the run directory %s/w.XXXXXX (%s)", run, strerror(errno));
        remove_tree(AT_FDCWD, run, 1);
        die(err, 2);
    }
}

/* A relative path the user gave names a file where they typed it, not in
 * the working directory of each process of the tree (make -C sub, a test
 * runner that enters each test's directory): made absolute here, before it
 * goes into LOCKRACE_OPTIONS. One that would then not fit there (too long,
 * or the directory's name has a ':', ',' or space, which separate
 * settings) is left as it was, which works when nothing changes directory. */
static void absolute_path(const char *option, char *path, size_t len)
{
    char cwd[PATH_MAX], full[PATH_MAX + 256];
    if (!path[0] || path[0] == '/' || !getcwd(cwd, sizeof cwd))
        return;
    int n = snprintf(full, sizeof full, "%s/%s", cwd, path);
    if (n < 0 || (size_t)n >= len || (option && strpbrk(cwd, ":, \t\n\r")))
        return;
    memcpy(path, full, (size_t)n + 1);
}

/* ---- running the command ---- */

static const int forwarded[] = { SIGINT, SIGTERM, SIGHUP, SIGQUIT };

/* The processes the launcher reaped, the command and the orphans of its
 * tree, with how and when each ended: of the others, their parents hear. */
typedef struct reaped {
    pid_t pid;
    int status;
    double when;
} reaped;

static reaped *reaps;
static size_t nreaps;

static double wall_clock(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static void note_reaped(pid_t pid, int status)
{
    reaped *r = realloc(reaps, (nreaps + 1) * sizeof *r);
    if (!r)
        return;         /* its JUnit test case then says less */
    reaps = r;
    reaps[nreaps++] = (reaped){ pid, status, wall_clock() };
}

/* A signal the command did not get itself: the terminal sends its signals
 * (SI_KERNEL) to the whole foreground process group, the command included. */
static int for_the_command(const siginfo_t *si, pid_t child)
{
    return si->si_code != SI_KERNEL && si->si_pid != child;
}

/* Runs the command and waits for it, passing on the signals meant for it;
 * its exit status as a shell gives it (128 + the signal that ended it).
 * *running says whether processes it started outlive it: as the
 * subreaper of the tree the launcher inherits them. */
static int run_command(char **argv, int *running)
{
    sigset_t mask, old;
    sigemptyset(&mask);
    for (size_t i = 0; i < sizeof forwarded / sizeof forwarded[0]; i++)
        sigaddset(&mask, forwarded[i]);
    sigaddset(&mask, SIGCHLD);
    sigprocmask(SIG_BLOCK, &mask, &old);
    prctl(PR_SET_CHILD_SUBREAPER, 1);
    pid_t child = fork();
    if (child < 0)
        die("cannot fork to run the command", 2);
    if (child == 0) {
        sigprocmask(SIG_SETMASK, &old, NULL);
        execvp(argv[0], argv);
        char err[PATH_MAX + 100];
        int status = errno == ENOENT ? 127 : 126;
        snprintf(err, sizeof err, "cannot run '%s': %s", argv[0], strerror(errno));
        die(err, status);
    }
    int status = -1;
    while (status < 0) {
        siginfo_t si;
        int sig = sigwaitinfo(&mask, &si);
        if (sig > 0 && sig != SIGCHLD && for_the_command(&si, child))
            kill(child, sig);
        int st;
        pid_t pid;
        while ((pid = waitpid(-1, &st, WNOHANG)) > 0) {
            note_reaped(pid, st);
            if (pid == child)
                status = WIFSIGNALED(st) ? 128 + WTERMSIG(st) : WEXITSTATUS(st);
        }
    }
    /* A process the command killed or let go as it ended may take a moment
     * to go (a Python multiprocessing helper ends when the main process's
     * pipe closes, then runs its own exit under lockrace): up to 2 s, no
     * longer than the last one takes. */
    int st, tries = 0;
    pid_t pid;
    while ((*running = (pid = waitpid(-1, &st, WNOHANG)) >= 0) && tries++ < 200) {
        if (pid > 0)
            note_reaped(pid, st);
        else
            usleep(10000);
    }
    return status;
}

/* A file the user asked for, checked before the command runs rather than
 * after a test run of an hour. */
static void check_writable(const char *flag, const char *path, int mode)
{
    int fd = lr_output_open(path, 1, mode);
    if (fd < 0) {
        char err[PATH_MAX + 200];
        snprintf(err, sizeof err, "%s %s: cannot write it (%s)", flag, path, lr_output_error(fd));
        die(err, 2);
    }
    close(fd);
}

/* Writes a whole file; 0, or -1 once said on stderr. */
static int write_file(const char *flag, const char *path, const lr_buf *b, int mode)
{
    int fd = lr_output_open(path, 0, mode);
    int rc = fd < 0 ? fd : lr_write_all(fd, b->data ? b->data : "", b->len);
    if (fd >= 0 && close(fd) < 0 && rc == 0)
        rc = -errno;
    if (rc < 0)
        dprintf(2, "lockrace: %s %s: cannot write it (%s)\n", flag, path, lr_output_error(rc));
    return rc < 0 ? -1 : 0;
}

/* The LD_PRELOAD the launcher was started with: Graphviz runs without lockrace. */
static char *preload_before;

/* Runs Graphviz's dot on the DOT file `from`, its SVG written to fd;
 * 127 when dot is not installed, its exit status otherwise. */
static int run_dot(const char *from, int fd)
{
    pid_t child = fork();
    if (child < 0)
        return -1;
    if (child == 0) {
        if (preload_before)
            setenv("LD_PRELOAD", preload_before, 1);
        else
            unsetenv("LD_PRELOAD");
        unsetenv("LOCKRACE_OPTIONS");
        dup2(fd, 1);
        execlp("dot", "dot", "-Tsvg", from, (char *)NULL);
        _exit(errno == ENOENT ? 127 : 126);
    }
    int st;
    while (waitpid(child, &st, 0) < 0 && errno == EINTR)
        ;
    return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

static int ends_with(const char *s, const char *end)
{
    size_t n = strlen(s), k = strlen(end);
    return n >= k && !strcmp(s + n - k, end);
}

/* --graph FILE: the DOT, and the SVG when it is asked for (FILE.svg: the
 * DOT beside it, as FILE.dot) or can be made beside it (FILE.dot). 0, or
 * -1 once said on stderr. */
static int write_graph(const char *file, const lr_run *run, int mode)
{
    lr_buf b = { 0 }, dot_path = { 0 }, svg_path = { 0 };
    lr_dot_build(&b, run);
    int want_svg = ends_with(file, ".svg");
    if (want_svg) {
        lr_buf_printf(&dot_path, "%.*s.dot", (int)(strlen(file) - 4), file);
        lr_buf_puts(&svg_path, file);
    } else {
        lr_buf_puts(&dot_path, file);
        if (ends_with(file, ".dot"))
            lr_buf_printf(&svg_path, "%.*s.svg", (int)(strlen(file) - 4), file);
    }
    int rc = write_file("--graph", dot_path.data, &b, mode);
    if (rc == 0 && svg_path.data) {
        int fd = lr_output_open(svg_path.data, 0, mode);
        int st = fd < 0 ? -1 : run_dot(dot_path.data, fd);
        if (fd >= 0)
            close(fd);
        if (fd < 0) {
            dprintf(2, "lockrace: --graph %s: cannot write %s (%s)\n", file, svg_path.data,
                    lr_output_error(fd));
            rc = -1;
        } else if (st == 127 && want_svg) {
            unlink(svg_path.data);
            dprintf(2, "lockrace: --graph %s: Graphviz's dot is not installed (Debian: graphviz); "
                       "the graph is in %s\n", file, dot_path.data);
        } else if (st == 127) {
            unlink(svg_path.data);      /* DOT was asked for; the SVG only when it comes free */
        } else if (st != 0) {
            dprintf(2, "lockrace: --graph %s: dot -Tsvg %s failed (status %d)\n", file,
                    dot_path.data, st);
            rc = -1;
        }
    }
    lr_buf_free(&b);
    lr_buf_free(&dot_path);
    lr_buf_free(&svg_path);
    return rc;
}

/* The run read back: summary, SARIF, JUnit, the graph; the exit status. */
typedef struct outputs {
    const char *sarif, *junit, *graph;
    const char *source_root;    /* "": found from the reports */
    int junit_all;              /* every process a test case, tools and shells too */
    const char *junit_skip;     /* programs that are no test case, by name: "ctest,make" */
} outputs;

static int gather(const char *dir, const lr_options *o, const outputs *out, char **command,
                  int command_status, int running, double started)
{
    lr_run run;
    char err[PATH_MAX + 200];
    double elapsed = wall_clock() - started;
    if (lr_run_read(&run, dir, err, sizeof err) < 0) {
        dprintf(2, "lockrace: %s\n", err);
        return command_status ? command_status : 2;
    }
    for (size_t i = 0; i < nreaps; i++)
        lr_run_reaped(&run, reaps[i].pid, reaps[i].status, reaps[i].when);
    int status = command_status;
    if (status == 0 && run.nreports && o->exitcode)
        status = o->exitcode;
    /* one process printed its own summary line already */
    if (o->verbosity >= 2 || (o->verbosity >= 1 && run.nreports && run.nprocs > 1))
        lr_run_summary(&run, 2, status, command_status);
    if (running && o->verbosity >= 1)
        dprintf(2, "lockrace: processes the command started are still running; what they report "
                   "from now on is not gathered\n");
    int failed = 0;
    lr_buf b = { 0 };
    if (out->sarif) {
        lr_sarif_build(&b, &run, command, status, *out->source_root ? out->source_root : NULL);
        failed |= write_file("--sarif", out->sarif, &b, o->file_mode) < 0;
        lr_buf_free(&b);
    }
    if (out->junit) {
        lr_junit_options junit = { started, elapsed, out->junit_all, out->junit_skip };
        lr_junit_build(&b, &run, &junit);
        failed |= write_file("--junit", out->junit, &b, o->file_mode) < 0;
        lr_buf_free(&b);
    }
    if (out->graph)
        failed |= write_graph(out->graph, &run, o->file_mode) < 0;
    lr_run_free(&run);
    return failed && status == 0 ? 2 : status;
}

int main(int argc, char **argv)
{
    lr_buf settings = { 0 };    /* LOCKRACE_OPTIONS for the command */
    char err[512];
    const char *sarif = NULL, *junit = NULL, *graph = NULL;
    char source_root[PATH_MAX] = "";
    lr_buf junit_skip = { 0 };  /* --junit-skip, each time given */
    int i = 1, junit_all = 0;
    const char *env = getenv("LOCKRACE_OPTIONS");
    lr_buf_puts(&settings, env ? env : "");

    for (; i < argc; i++) {
        const char *arg = argv[i];
        if (!strcmp(arg, "--")) {
            i++;
            break;
        }
        if (arg[0] != '-' || !arg[1])
            break;              /* the command */
        if (arg[1] != '-')      /* -x: no short options; a command is not named -x */
            unknown_option(arg, strlen(arg));
        if (!strcmp(arg, "--help")) {
            usage(1);
            return 0;
        }
        if (!strcmp(arg, "--version")) {
            printf("lockrace %s\n", LR_VERSION);
            return 0;
        }
        if (!strcmp(arg, "--junit-all")) {
            junit_all = 1;
            continue;
        }
        if (!strcmp(arg, "--ci")) {
            /* before the flags that follow, which may turn it off again */
            lr_buf_printf(&settings, "%swatchdog=1", settings.len ? ":" : "");
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
        int is_bool = launcher_takes_value(name, namelen) ? 0 : lr_options_is_bool(name, namelen);
        if (is_bool < 0)
            unknown_option(name, namelen);
        if (eq) {
            value = eq + 1;
        } else if (is_bool) {
            /* bare: 1, unless a boolean's word follows (--watchdog 0) */
            lr_options probe;
            char ignored[512];
            lr_options_defaults(&probe);
            value = "1";
            if (i + 1 < argc && lr_options_set(&probe, name, namelen, argv[i + 1], ignored, sizeof ignored) == 0)
                value = argv[++i];
        } else if (i + 1 < argc && strncmp(argv[i + 1], "--", 2) != 0) {
            value = argv[++i];
        } else {
            /* `--sarif -- ./prog` would write SARIF to a file named "--" */
            snprintf(err, sizeof err, "option --%s needs a value (see lockrace --help)", name);
            die(err, 2);
        }
        /* the launcher's own: files made from the whole run */
        if ((namelen == 5 && !strncmp(name, "sarif", 5)) || (namelen == 5 && !strncmp(name, "junit", 5))) {
            *(name[0] == 's' ? &sarif : &junit) = value;
            continue;
        }
        if (namelen == 11 && (!strncmp(name, "source-root", 11) || !strncmp(name, "source_root", 11))) {
            struct stat st;
            if (!realpath(value, source_root) || stat(source_root, &st) < 0 || !S_ISDIR(st.st_mode)) {
                snprintf(err, sizeof err, "--source-root %.300s: not a directory", value);
                die(err, 2);
            }
            continue;
        }
        if (namelen == 10 && (!strncmp(name, "junit-skip", 10) || !strncmp(name, "junit_skip", 10))) {
            lr_buf_printf(&junit_skip, "%s%s", junit_skip.len ? "," : "", value);
            continue;
        }
        if (namelen == 5 && !strncmp(name, "graph", 5)) {
            graph = value;
            lr_buf_printf(&settings, "%sorder_graph=1", settings.len ? ":" : "");
            continue;
        }
        lr_options probe;
        lr_options_defaults(&probe);
        if (lr_options_set(&probe, name, namelen, value, err, sizeof err) < 0)
            die(err, 2);
        if (strpbrk(value, " \t\n") || separator_problem(value)) {
            char shown[300];
            snprintf(err, sizeof err, "--%.*s=%s: values cannot contain spaces, a ':' that is "
                     "not followed by a number (or C++'s '::'), or a ':' or ',' followed by name= or nothing", (int)namelen, name,
                     lr_shown(shown, sizeof shown, value, strlen(value)));
            die(err, 2);
        }
        lr_buf_printf(&settings, "%s%.*s=%s", settings.len ? ":" : "", (int)namelen, name, value);
    }
    if (i >= argc) {
        usage(2);
        return 2;
    }

    /* LOCKRACE_OPTIONS from the environment is checked too: a bad value
     * there would otherwise stop the command itself before main. */
    lr_options all;
    lr_options_defaults(&all);
    if (!settings.data)
        die("out of memory for the options", 2);
    if (lr_options_parse(&all, settings.data, err, sizeof err) < 0)
        die(err, 2);
    absolute_path("suppressions", all.suppressions, sizeof all.suppressions);
    absolute_path("json", all.json, sizeof all.json);
    if (strcmp(all.log_path, "stdout") && strcmp(all.log_path, "stderr"))
        absolute_path("log_path", all.log_path, sizeof all.log_path);
    char sarif_path[PATH_MAX], junit_path[PATH_MAX];
    if (sarif && snprintf(sarif_path, sizeof sarif_path, "%s", sarif) < (int)sizeof sarif_path) {
        absolute_path(NULL, sarif_path, sizeof sarif_path);
        sarif = sarif_path;
    }
    if (junit && snprintf(junit_path, sizeof junit_path, "%s", junit) < (int)sizeof junit_path) {
        absolute_path(NULL, junit_path, sizeof junit_path);
        junit = junit_path;
    }
    if (sarif)
        check_writable("--sarif", sarif, all.file_mode);
    if (junit)
        check_writable("--junit", junit, all.file_mode);
    if (graph)
        check_writable("--graph", graph, all.file_mode);
    char dir[PATH_MAX];
    int keep = all.log_dir[0] != 0;
    run_dir_prepare(all.log_dir, dir, sizeof dir);
    /* passed on as they came out: each once, in the library's spelling */
    if (strlen(dir) + (keep ? 1 : sizeof "/w.XXXXXX") > sizeof all.log_dir || strpbrk(dir, ": \t\n")) {
        snprintf(err, sizeof err, "the run directory %.300s cannot be passed in LOCKRACE_OPTIONS "
                 "(no ':' or spaces, at most %zu characters): name another with --log-dir, or set TMPDIR", dir,
                 sizeof all.log_dir - (keep ? 1 : sizeof "/w.XXXXXX"));
        if (!keep)
            rmdir(dir);
        die(err, 2);
    }
    if (!keep)
        writers_dir(dir, all.log_dir, sizeof all.log_dir);
    else
        strcpy(all.log_dir, dir);
    lr_buf_free(&settings);
    lr_options_format(&all, &settings);
    if (!settings.data)
        die("out of memory for the options", 2);

    check_dependencies();
    char lib[PATH_MAX];
    if (find_library(lib, sizeof lib) < 0)
        die("cannot find liblockrace.so next to the lockrace command, nor in "
            LR_LIBDIR_FROM_BINDIR " from it (where cmake --install puts it)", 2);
    /* A lockrace built with LOCKRACE_SANITIZE needs the ASan runtime
     * loaded into the command too, right after itself (CMakeLists.txt) */
    const char *runtime = LR_SANITIZER_RUNTIME;
    const char *preload = getenv("LD_PRELOAD");
    preload_before = preload ? strdup(preload) : NULL;
    lr_buf preload_value = { 0 };
    lr_buf_printf(&preload_value, "%s%s%s%s%s", lib, *runtime ? ":" : "", runtime,
                  preload && *preload ? ":" : "", preload ? preload : "");
    if (!preload_value.data)
        die("out of memory for LD_PRELOAD", 2);
    setenv("LD_PRELOAD", preload_value.data, 1);
    setenv("LOCKRACE_OPTIONS", settings.data, 1);
    /* the command the user named is this process's child: the library
     * tells it from the rest of the tree by its parent (watch.c) */
    char pid[24];
    snprintf(pid, sizeof pid, "%d", (int)getpid());
    setenv("LOCKRACE_LAUNCHER_PID", pid, 1);

    int running;
    double started = wall_clock();
    int command_status = run_command(argv + i, &running);
    outputs out = { sarif, junit, graph, source_root, junit_all, junit_skip.data };
    int status = gather(dir, &all, &out, argv + i, command_status, running, started);
    if (!keep)
        remove_tree(AT_FDCWD, dir, 16);
    return status;
}
