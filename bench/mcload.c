/* mcload: a bounded load on a memcached over loopback, for bench/programs.sh.
 * CONNS connections, a thread each; each does WARMUP untimed set/get pairs,
 * then all together PAIRS timed ones, with the text protocol, one request in
 * flight per connection. Every get must return the bytes just set (each
 * thread has its own keys), so a wrong answer fails the run, not only a slow
 * one. Prints "requests=N seconds=S rps=R" for the timed part, and with
 * --server-pid the server's CPU time (user + system) per timed request. */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define KEYS_PER_CONN 1024
#define MAX_VALUE 4096

static struct {
    int port, conns, value_size, server_pid;
    long pairs, warmup;
    double wait_s;
} opt = { .conns = 4, .value_size = 64, .pairs = 50000, .warmup = 5000, .wait_s = 30 };

static pthread_barrier_t ready, go;

static void die(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fputs("mcload: ", stderr);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
    exit(1); /* from any thread: one failed connection fails the run */
}

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

/* Process pid's state letter (Z once it ended, 0 when it is gone) and CPU
 * seconds so far (user + system); -1 when /proc does not say. */
static double stat_of(int pid, char *state)
{
    char path[64], buf[1024];
    *state = 0;
    snprintf(path, sizeof path, "/proc/%d/stat", pid);
    FILE *f = fopen(path, "r");
    if (!f)
        return -1;
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[n] = '\0';
    /* after the command name, which may hold spaces: the state is field 3,
     * utime and stime fields 14 and 15 */
    char *p = strrchr(buf, ')');
    unsigned long utime, stime;
    if (!p || sscanf(p + 2, "%c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %lu %lu", state, &utime, &stime) != 3)
        return -1;
    return (double)(utime + stime) / (double)sysconf(_SC_CLK_TCK);
}

static double cpu_of(int pid)
{
    char state;
    return stat_of(pid, &state);
}

static int ended(int pid)
{
    char state;
    stat_of(pid, &state);
    return state == 0 || state == 'Z' || state == 'X';
}

/* A connection with a buffer for its replies. */
struct conn {
    int fd, id;
    size_t have, used;
    char buf[2 * MAX_VALUE];
};

/* Retries until the deadline: the server may still be starting (under
 * helgrind that takes seconds). */
static void conn_open(struct conn *c)
{
    struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons((uint16_t)opt.port),
                              .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
    double deadline = now() + opt.wait_s;
    for (;;) {
        c->fd = socket(AF_INET, SOCK_STREAM, 0);
        if (c->fd < 0)
            die("socket: %s", strerror(errno));
        if (connect(c->fd, (struct sockaddr *)&sa, sizeof sa) == 0)
            break;
        int err = errno;
        close(c->fd);
        if (opt.server_pid && ended(opt.server_pid))
            die("the server (pid %d) ended before it accepted a connection", opt.server_pid);
        if (now() > deadline)
            die("no memcached on 127.0.0.1:%d after %.0f s: %s", opt.port, opt.wait_s, strerror(err));
        usleep(50 * 1000);
    }
    int one = 1;
    setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    c->have = c->used = 0;
}

static void conn_send(struct conn *c, const char *p, size_t n)
{
    while (n > 0) {
        ssize_t w = send(c->fd, p, n, MSG_NOSIGNAL);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            die("connection %d: send: %s", c->id, w < 0 ? strerror(errno) : "closed");
        p += w;
        n -= (size_t)w;
    }
}

/* The next n bytes of the reply stream. */
static const char *conn_take(struct conn *c, size_t n)
{
    if (n > sizeof c->buf)
        die("connection %d: reply of %zu bytes does not fit", c->id, n);
    if (c->have - c->used < n) {
        memmove(c->buf, c->buf + c->used, c->have - c->used);
        c->have -= c->used;
        c->used = 0;
        while (c->have < n) {
            ssize_t r = recv(c->fd, c->buf + c->have, sizeof c->buf - c->have, 0);
            if (r < 0 && errno == EINTR)
                continue;
            if (r <= 0)
                die("connection %d: recv: %s", c->id, r < 0 ? strerror(errno) : "server closed the connection");
            c->have += (size_t)r;
        }
    }
    const char *p = c->buf + c->used;
    c->used += n;
    return p;
}

/* Fails unless the reply stream continues with exactly want. */
static void conn_expect(struct conn *c, const char *want, size_t n, const char *what)
{
    const char *got = conn_take(c, n);
    if (memcmp(got, want, n) != 0)
        die("connection %d: %s: got \"%.*s\", expected \"%.*s\"", c->id, what, (int)n, got, (int)n, want);
}

/* Value i of connection id: its own bytes, so a reply meant for another key
 * or another round does not match. */
static void make_value(char *v, int id, long i)
{
    int n = snprintf(v, (size_t)opt.value_size + 1, "%d:%ld:", id, i);
    for (int j = n < opt.value_size ? n : opt.value_size; j < opt.value_size; j++)
        v[j] = (char)('a' + (i + j) % 26);
}

static void set_get(struct conn *c, long i)
{
    char key[32], req[MAX_VALUE + 128], value[MAX_VALUE + 1], head[64 + MAX_VALUE];
    snprintf(key, sizeof key, "c%d:%ld", c->id, i % KEYS_PER_CONN);
    make_value(value, c->id, i);
    int n = snprintf(req, sizeof req, "set %s 0 0 %d\r\n", key, opt.value_size);
    memcpy(req + n, value, (size_t)opt.value_size);
    memcpy(req + n + opt.value_size, "\r\n", 2);
    conn_send(c, req, (size_t)n + (size_t)opt.value_size + 2);
    conn_expect(c, "STORED\r\n", 8, key);

    n = snprintf(req, sizeof req, "get %s\r\n", key);
    conn_send(c, req, (size_t)n);
    n = snprintf(head, sizeof head, "VALUE %s 0 %d\r\n", key, opt.value_size);
    memcpy(head + n, value, (size_t)opt.value_size);
    memcpy(head + n + opt.value_size, "\r\nEND\r\n", 7);
    conn_expect(c, head, (size_t)n + (size_t)opt.value_size + 7, key);
}

static void *client(void *arg)
{
    struct conn *c = arg;
    conn_open(c);
    for (long i = 0; i < opt.warmup; i++)
        set_get(c, i);
    pthread_barrier_wait(&ready);
    pthread_barrier_wait(&go);
    for (long i = 0; i < opt.pairs; i++)
        set_get(c, opt.warmup + i);
    close(c->fd);
    return NULL;
}

/* Prints a loopback port that is free now, for the caller to start the
 * server on. */
static int free_port(void)
{
    struct sockaddr_in sa = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
    socklen_t len = sizeof sa;
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    if (fd < 0 || bind(fd, (struct sockaddr *)&sa, sizeof sa) != 0
        || getsockname(fd, (struct sockaddr *)&sa, &len) != 0)
        die("no free loopback port: %s", strerror(errno));
    printf("%d\n", ntohs(sa.sin_port));
    close(fd);
    return 0;
}

static long number(const char *flag, const char *s, long lo, long hi)
{
    char *end;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (errno || end == s || *end || v < lo || v > hi)
        die("%s %s: expected a whole number from %ld to %ld", flag, s, lo, hi);
    return v;
}

static const char usage[] =
    "usage: mcload [--conns N] [--pairs N] [--warmup N] [--value-size N] [--wait S]\n"
    "              [--server-pid PID] PORT\n"
    "       mcload --free-port\n"
    "  N connections to memcached on 127.0.0.1:PORT (4), a thread each; each does\n"
    "  --warmup untimed (5000), then --pairs timed (50000) set/get pairs of\n"
    "  --value-size bytes (64), waiting up to --wait seconds (30) for the server;\n"
    "  with --server-pid, also prints the server's CPU time per timed request,\n"
    "  and stops waiting if that process ends.\n";

int main(int argc, char **argv)
{
    int i;
    for (i = 1; i < argc && strncmp(argv[i], "--", 2) == 0; i += 2) {
        const char *f = argv[i];
        if (strcmp(f, "--free-port") == 0 && argc == 2)
            return free_port();
        if (i + 1 >= argc) {
            fputs(usage, stderr);
            return 2;
        }
        if (strcmp(f, "--conns") == 0)
            opt.conns = (int)number(f, argv[i + 1], 1, 256);
        else if (strcmp(f, "--pairs") == 0)
            opt.pairs = number(f, argv[i + 1], 1, 1000000000);
        else if (strcmp(f, "--warmup") == 0)
            opt.warmup = number(f, argv[i + 1], 0, 1000000000);
        else if (strcmp(f, "--value-size") == 0)
            opt.value_size = (int)number(f, argv[i + 1], 16, MAX_VALUE);
        else if (strcmp(f, "--wait") == 0)
            opt.wait_s = (double)number(f, argv[i + 1], 1, 3600);
        else if (strcmp(f, "--server-pid") == 0)
            opt.server_pid = (int)number(f, argv[i + 1], 1, 1 << 30);
        else {
            fprintf(stderr, "mcload: unknown flag %s\n%s", f, usage);
            return 2;
        }
    }
    if (i != argc - 1) {
        fputs(usage, stderr);
        return 2;
    }
    opt.port = (int)number("PORT", argv[i], 1, 65535);

    struct conn *conns = calloc((size_t)opt.conns, sizeof *conns);
    pthread_t *threads = calloc((size_t)opt.conns, sizeof *threads);
    if (!conns || !threads)
        die("out of memory");
    pthread_barrier_init(&ready, NULL, (unsigned)opt.conns + 1);
    pthread_barrier_init(&go, NULL, (unsigned)opt.conns + 1);
    for (int c = 0; c < opt.conns; c++) {
        conns[c].id = c;
        int err = pthread_create(&threads[c], NULL, client, &conns[c]);
        if (err)
            die("pthread_create: %s", strerror(err));
    }
    pthread_barrier_wait(&ready);
    double cpu_start = opt.server_pid ? cpu_of(opt.server_pid) : -1;
    double start = now();
    pthread_barrier_wait(&go);
    for (int c = 0; c < opt.conns; c++)
        pthread_join(threads[c], NULL);
    double seconds = now() - start;
    double cpu_end = opt.server_pid ? cpu_of(opt.server_pid) : -1;
    long requests = 2 * opt.pairs * opt.conns;
    printf("requests=%ld seconds=%.3f rps=%.0f", requests, seconds, requests / seconds);
    if (opt.server_pid) {
        if (cpu_start < 0 || cpu_end < 0)
            die("no CPU time for process %d in /proc", opt.server_pid);
        printf(" server_cpu_us=%.2f", (cpu_end - cpu_start) * 1e6 / (double)requests);
    }
    putchar('\n');
    return 0;
}
