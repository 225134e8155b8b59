/* Buffers filled and emptied by system calls, watched by name (watch=inbox
 * or outbox): the call's side of the race is the call itself. The two
 * threads are ordered only by a plain flag lockrace cannot see, unless
 * argv[1] says they share a mutex. Built without annotations.
 *   read-into    T1 read(2)s into inbox, T2 then reads inbox[0]: a race
 *   write-out    T1 stores into outbox, T2 then write(2)s it out: a race
 *   recv-into    as read-into, with recv(2) on a socket pair
 *   locked       both of the above, each side under one mutex: clean */
#define _GNU_SOURCE
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

char inbox[64];
char outbox[64];
static int fds[2];
static int step;                        /* a plain flag: no order lockrace sees */
static const char *mode;
static pthread_mutex_t m = PTHREAD_MUTEX_INITIALIZER;

static int is(const char *name) { return strcmp(mode, name) == 0; }

static void lock(void) { if (is("locked")) pthread_mutex_lock(&m); }
static void unlock(void) { if (is("locked")) pthread_mutex_unlock(&m); }

static void __attribute__((noinline)) fill_inbox(void)
{
    lock();
    ssize_t n = is("recv-into") ? recv(fds[0], inbox, sizeof inbox, 0)
                                : read(fds[0], inbox, sizeof inbox);
    unlock();
    if (n <= 0)
        perror("read");
}

static void __attribute__((noinline)) fill_outbox(void)
{
    lock();
    outbox[0] = 'x';
    unlock();
}

static void *first(void *arg)
{
    (void)arg;
    if (is("write-out"))
        fill_outbox();
    else
        fill_inbox();
    if (is("locked"))
        fill_outbox();
    __atomic_store_n(&step, 1, __ATOMIC_RELEASE);
    return NULL;
}

static void *second(void *arg)
{
    (void)arg;
    while (!__atomic_load_n(&step, __ATOMIC_ACQUIRE))
        sched_yield();
    lock();
    if (is("write-out") || is("locked")) {
        if (write(fds[1], outbox, sizeof outbox) != sizeof outbox)
            perror("write");
    }
    if (!is("write-out"))
        printf("inbox starts with %c\n", inbox[0]);
    unlock();
    return NULL;
}

int main(int argc, char **argv)
{
    mode = argc > 1 ? argv[1] : "read-into";
    if (socketpair(AF_UNIX, SOCK_STREAM, 0, fds) != 0)
        return 1;
    char message[64];
    memset(message, 'm', sizeof message);
    if (!is("write-out") && write(fds[1], message, sizeof message) != sizeof message)
        return 1;
    pthread_t a, b;
    pthread_create(&a, NULL, first, NULL);
    pthread_create(&b, NULL, second, NULL);
    pthread_join(a, NULL);
    pthread_join(b, NULL);
    return 0;
}
