// watch_static_init: a function-local static whose constructor fills a
// global (watched). One thread runs the constructor, slowly; a second
// meets the static meanwhile and waits on its guard; a third meets it
// long after, when the compiler's inline check of the guard lets it
// through without a call. C++ orders the constructor before every use of
// the static: each thread reads the global after instance() returns,
// and nothing races. With "racy", two threads then write the global
// without a lock: that race is reported.
#include <pthread.h>
#include <cstdio>
#include <cstring>
#include <unistd.h>

int g_config;

struct Config {
    Config()
    {
        g_config = 42;          // the constructor's write
        usleep(100000);
    }
};

static Config &instance()
{
    static Config c;
    return c;
}

static bool racy;
static long seen[3];

static void *worker(void *arg)
{
    long me = (long)arg;
    if (me == 2)
        usleep(300000);         // long after: the inline check, no call
    else if (me == 1)
        usleep(20000);          // meets the static while it is being made
    instance();
    seen[me] = g_config;        // a read after the static is made
    if (racy && me != 0)
        g_config = (int)me;     /* the racy write */
    return nullptr;
}

int main(int argc, char **argv)
{
    racy = argc > 1 && strcmp(argv[1], "racy") == 0;
    pthread_t t[3];
    for (long i = 0; i < 3; i++)
        pthread_create(&t[i], nullptr, worker, (void *)i);
    for (auto &x : t)
        pthread_join(x, nullptr);
    printf("%ld %ld %ld\n", seen[0], seen[1], seen[2]);
    return 0;
}
