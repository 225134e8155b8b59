/* Reports go to stderr, or to the files the options name: log_path (text,
 * PATH.PID), json (JSON lines, one file for every process) and log_dir
 * (DIR/PID.json, after a record of the process: a program writes it when it
 * starts, so that the launcher also lists the processes that reported
 * nothing; a forked child that does not exec writes its own file when it
 * first reports, so its reports are never taken for its parent's).
 *
 * A file is opened on first use in a process, never through a symbolic
 * link, and checked before each write to still be the one lockrace opened:
 * a program may close any descriptor and open a file of its own under the
 * same number, and lockrace must not write into it. A file that cannot be
 * opened or written is said once on stderr and the program runs on; its
 * text reports then go to stderr. A file the process may not write, found
 * at its start (another user's: a daemon's helper, started after the
 * daemon switched users), is said with its first report instead: until
 * then the process's stderr is as it is natively, and its program may
 * read it. All of this runs under report_lock. */
#include "report/output.h"
#include "support/arena.h"
#include "support/options.h"
#include "support/util.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

/* The stderr the process started with (and its stdout, for
 * log_path=stdout). A program may close descriptor 2 and open a file of
 * its own there (a data file, a socket): lockrace writes its text to a
 * copy of descriptor 2 made at start (close-on-exec, at a high number, out
 * of the way of the program's own), while the copy is still that file (a
 * program that closes every descriptor may have opened another under its
 * number), else to descriptor 2 while it is still that file, else nowhere.
 * A forked child closes the copy: a daemon that forks and sends its stdio
 * to /dev/null must not keep its parent's stderr pipe open, or whoever
 * reads that pipe to its end waits as long as the daemon lives. Before
 * lr_report_init, descriptor 2 as it is. */
typedef struct stream {
    int num;                    /* 2, or 1 */
    int ready;                  /* lr_report_init ran */
    int known;                  /* there was such a stream at start: dev and ino are its */
    int fd;                     /* the copy, -1 none */
    dev_t dev;
    ino_t ino;
} stream;

static stream err_out = { .num = 2, .fd = -1 }, std_out = { .num = 1, .fd = -1 };

static int is_stream(const stream *s, int fd)
{
    struct stat st;
    return fd >= 0 && s->known && fstat(fd, &st) == 0 && st.st_dev == s->dev && st.st_ino == s->ino;
}

/* A close-on-exec copy of fd three quarters up the soft limit, at most
 * 768: above the numbers a program opens or closes by themselves, and the
 * kernel's table of descriptors stays small. */
static int high_copy(int fd)
{
    struct rlimit rl;
    rlim_t limit = getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < 1024 ? rl.rlim_cur : 1024;
    int copy = fcntl(fd, F_DUPFD_CLOEXEC, (int)(limit - limit / 4));
    return copy >= 0 ? copy : fcntl(fd, F_DUPFD_CLOEXEC, 3);
}

/* fd, moved up there (closed, and its copy returned); fd itself when
 * no number is free up there. */
static int move_high(int fd)
{
    int copy = high_copy(fd);
    if (copy < 0)
        return fd;
    close(fd);
    return copy;
}

static void stream_keep(stream *s)
{
    struct stat st;
    s->ready = 1;
    if (fstat(s->num, &st) < 0)
        return;                 /* started without it: text has nowhere to go */
    s->known = 1;
    s->dev = st.st_dev;
    s->ino = st.st_ino;
    s->fd = high_copy(s->num);
}

/* log_dir's directory, opened at start and kept like stderr's copy: a
 * forked process that shut itself in an empty root (chroot: unbound's and
 * named -t's workers) or went elsewhere still makes its file there. */
static stream dir_at = { .fd = -1 };

static void dir_keep(const char *path)
{
    struct stat st;
    int fd = open(path, O_PATH | O_DIRECTORY | O_CLOEXEC);
    if (fd >= 0 && fstat(fd, &st) == 0) {
        dir_at.known = 1;
        dir_at.dev = st.st_dev;
        dir_at.ino = st.st_ino;
        dir_at.fd = move_high(fd);
    } else if (fd >= 0) {
        close(fd);
    }
}

/* A file of log_dir's, `path`, as a name relative to *at: to the
 * directory while that is still the one opened at start, else the path
 * itself (AT_FDCWD). */
static const char *in_log_dir(const char *path, int *at)
{
    *at = is_stream(&dir_at, dir_at.fd) ? dir_at.fd : AT_FDCWD;
    return *at == AT_FDCWD ? path : strrchr(path, '/') + 1;
}

/* Writes text to the stream as it was at start (see err_out); under
 * report_lock once lr_report_init ran. */
static void stream_write(const stream *s, const char *data, size_t len)
{
    int fd = !s->ready ? s->num : is_stream(s, s->fd) ? s->fd : is_stream(s, s->num) ? s->num : -1;
    if (fd >= 0)
        lr_write_text(fd, data, len);
}

static void stderr_write(const char *data, size_t len)
{
    stream_write(&err_out, data, len);
}

/* log_path=stdout and log_path=stderr name the streams, as in
 * ThreadSanitizer, not files stdout.PID and stderr.PID */
static int log_to(const char *name)
{
    return strcmp(lr_opt.log_path, name) == 0;
}

/* The wall-clock time, in seconds since the epoch, to the microsecond:
 * the launcher's JUnit times come from it. */
static void now(lr_buf *b)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    lr_buf_printf(b, "%lld.%06ld", (long long)ts.tv_sec, ts.tv_nsec / 1000);
}

static void process_record(lr_buf *b)
{
    enum { MAX_CMDLINE = 65536 };
    lr_buf_printf(b, "{\"lockrace\":1,\"kind\":\"process\",\"pid\":%d,\"ppid\":%d,\"start\":",
                  (int)getpid(), (int)getppid());
    now(b);
    lr_buf_puts(b, ",\"cmdline\":[");
    char *raw = lr_map(MAX_CMDLINE);
    int fd = raw ? open("/proc/self/cmdline", O_RDONLY | O_CLOEXEC) : -1;
    size_t len = 0;
    ssize_t n = 0;
    while (fd >= 0 && len < MAX_CMDLINE - 1 &&
           ((n = read(fd, raw + len, MAX_CMDLINE - 1 - len)) > 0 || (n < 0 && errno == EINTR)))
        len += n > 0 ? (size_t)n : 0;
    if (fd >= 0)
        close(fd);
    if (raw)
        raw[len] = 0;   /* a command line longer than MAX_CMDLINE ends in a cut argument */
    for (size_t at = 0; at < len; at += strlen(raw + at) + 1) {
        lr_buf_puts(b, at ? "," : "");
        lr_buf_json_string(b, raw + at);
    }
    if (raw)
        lr_unmap(raw, MAX_CMDLINE);
    lr_buf_puts(b, "]}\n");
}

typedef struct output {
    const char *option;     /* for messages */
    const char *value;      /* the option's value: lr_opt's field */
    const char *format;     /* the file's path from value and pid */
    int per_process;        /* each process has a file of its own */
    char path[sizeof lr_opt.log_path + 32];    /* the file last opened, from format */
    int fd;                 /* -1: not open in this process */
    pid_t pid;              /* the process that last used it */
    dev_t dev;
    ino_t ino;
    int failed;             /* said why it cannot be used: not tried again */
    int unsaid;             /* the error of a failure not said yet (failed is set), 0 none */
    int recorded;           /* log_dir: this program wrote its process record (an exec
                               starts again with 0, a forked child opens a new file) */
} output;

static output text_out = { .option = "log_path", .value = lr_opt.log_path, .format = "%s.%d",
                           .per_process = 1, .fd = -1 };
static output json_out = { .option = "json", .value = lr_opt.json, .format = "%s", .fd = -1 };
static output dir_out = { .option = "log_dir", .value = lr_opt.log_dir, .format = "%s/%d.json",
                          .per_process = 1, .fd = -1 };

static int still_ours(const output *o)
{
    struct stat st;
    return o->fd >= 0 && fstat(o->fd, &st) == 0 && st.st_dev == o->dev && st.st_ino == o->ino;
}

static void say_failed(const output *o, const char *what, int error)
{
    char msg[PATH_MAX + 400];
    snprintf(msg, sizeof msg, "lockrace: %s=%s: cannot %s %s (%s); %s\n", o->option, o->value, what,
             o->path, lr_output_error(error),
             o == &text_out ? "reports go to stderr instead" : "JSON reports are not written there (the text reports are)");
    stderr_write(msg, strlen(msg));
}

static void output_failed(output *o, const char *what, int error)
{
    say_failed(o, what, error);
    if (still_ours(o))
        close(o->fd);
    o->fd = -1;
    o->failed = 1;
}

/* lr_out_init is opening the files */
static int starting;

/* A file another user's: this process may not write it */
static int not_ours(int error)
{
    return error == -EACCES || error == -EPERM || error == LR_OUTPUT_NOT_OWNED;
}

/* A report is written: the failure its file's start kept back is said
 * (in a forked child, a file of its parent's per-process kind is not its
 * own: it tries its own) */
static void say_unsaid(output *o)
{
    if (o->unsaid && (o->pid == getpid() || !o->per_process)) {
        say_failed(o, "open", o->unsaid);
        o->unsaid = 0;
    }
}

/* o's descriptor in this process, opened now if need be; -1 when its
 * option is not set or it cannot be used. */
static int output_fd(output *o)
{
    if (!o->value[0])
        return -1;
    pid_t pid = getpid();
    if (o->pid != pid && o->per_process) {
        /* the parent's file, inherited by fork: this process has its own */
        if (still_ours(o))
            close(o->fd);
        o->fd = -1;
        o->failed = 0;
        o->unsaid = 0;
    }
    o->pid = pid;
    if (o->failed)
        return -1;
    if (still_ours(o))
        return o->fd;
    snprintf(o->path, sizeof o->path, o->format, o->value, (int)pid);
    int at = AT_FDCWD;
    const char *name = o == &dir_out ? in_log_dir(o->path, &at) : o->path;
    int fd = lr_output_open_at(at, name, 1, lr_opt.file_mode);
    if (fd < 0 && starting && not_ours(fd)) {
        o->fd = -1;
        o->failed = 1;
        o->unsaid = fd;
        return -1;
    }
    if (fd < 0) {
        o->fd = -1;
        output_failed(o, "open", fd);
        return -1;
    }
    /* up with stderr's copy: a file lockrace opens at a program's start
     * must not take the number the program's own first file gets */
    fd = move_high(fd);
    struct stat st;
    fstat(fd, &st);
    o->fd = fd;
    o->dev = st.st_dev;
    o->ino = st.st_ino;
    /* a new file, or the file of a process that exec'd this program: the
     * lines after the record are this program's */
    if (o == &dir_out && (st.st_size == 0 || !o->recorded)) {
        o->recorded = 1;
        lr_buf b = { 0 };
        process_record(&b);
        int rc = b.data ? lr_write_all(fd, b.data, b.len) : 0;
        lr_buf_free(&b);
        if (rc < 0) {
            output_failed(o, "write", rc);
            return -1;
        }
    }
    return fd;
}

static void output_write(output *o, const char *data, size_t len)
{
    say_unsaid(o);
    if (o == &text_out && log_to("stdout")) {
        stream_write(&std_out, data, len);
        return;
    }
    int fd = o == &text_out && log_to("stderr") ? -1 : output_fd(o);
    if (fd >= 0) {
        /* text is read on a terminal (lr_write_text escapes what it would
         * act on); JSON escapes by itself */
        int rc = o == &text_out ? lr_write_text(fd, data, len) : lr_write_all(fd, data, len);
        if (rc == 0)
            return;
        output_failed(o, "write", rc);
    }
    if (o == &text_out)
        stderr_write(data, len);
}

void lr_out_init(void)
{
    stream_keep(&err_out);
    if (log_to("stdout"))
        stream_keep(&std_out);
    if (dir_out.value[0])
        dir_keep(dir_out.value);
    /* opened now, so that a file that cannot be written is said at the
     * start (one of another user's, at the first report) */
    starting = 1;
    output_fd(&dir_out);
    output_fd(&json_out);
    starting = 0;
}

void lr_out_text(const char *data, size_t len)
{
    output_write(&text_out, data, len);
}

void lr_out_json(const char *data, size_t len)
{
    output_write(&json_out, data, len);
    output_write(&dir_out, data, len);
}

int lr_out_json_wanted(void)
{
    say_unsaid(&json_out);
    say_unsaid(&dir_out);
    return output_fd(&json_out) >= 0 || output_fd(&dir_out) >= 0;
}

void lr_out_exit(int status, uint32_t threads, uint32_t locks)
{
    if (!dir_out.value[0] || dir_out.failed || dir_out.pid != getpid() || !still_ours(&dir_out))
        return;
    lr_buf b = { 0 };
    lr_buf_printf(&b, "{\"lockrace\":1,\"kind\":\"exit\",\"pid\":%d,\"status\":%d,\"end\":",
                  (int)getpid(), status);
    now(&b);
    lr_buf_printf(&b, ",\"threads\":%u,\"locks\":%u}\n", threads, locks);
    int rc = b.data ? lr_write_all(dir_out.fd, b.data, b.len) : 0;
    lr_buf_free(&b);
    if (rc < 0)
        output_failed(&dir_out, "write", rc);
}

void lr_out_child_exit(pid_t pid, int code, int signaled)
{
    char path[sizeof dir_out.path];
    if (!dir_out.value[0])
        return;
    snprintf(path, sizeof path, dir_out.format, dir_out.value, (int)pid);
    int at;
    const char *name = in_log_dir(path, &at);
    int fd = openat(at, name, O_WRONLY | O_APPEND | O_NOFOLLOW | O_NOCTTY | O_CLOEXEC);
    struct stat st;
    if (fd < 0)
        return;
    if (fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && st.st_size > 0) {
        lr_buf b = { 0 };
        lr_buf_printf(&b, "{\"lockrace\":1,\"kind\":\"exit\",\"pid\":%d,\"%s\":%d,\"end\":",
                      (int)pid, signaled ? "signal" : "status", code);
        now(&b);
        lr_buf_printf(&b, ",\"reaped_by\":%d}\n", (int)getpid());
        if (b.data)
            lr_write_all(fd, b.data, b.len);    /* the child's record: nothing to say if it fails */
        lr_buf_free(&b);
    }
    close(fd);
}

void lr_out_fork_child(void)
{
    if (is_stream(&err_out, err_out.fd))
        close(err_out.fd);
    err_out.fd = -1;
    if (is_stream(&std_out, std_out.fd))
        close(std_out.fd);
    std_out.fd = -1;
}
