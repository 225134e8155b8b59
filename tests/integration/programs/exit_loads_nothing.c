/* exit_loads_nothing: calls exit() holding a mutex, so that lockrace writes
 * a report (exit-holding-locks) from inside exit(), symbolizing a stack
 * that runs through libc. Before it exits it says so on stderr, so that
 * the test can check, with LD_DEBUG=files, that nothing was loaded into
 * the process after that line: a tool must not dlopen libraries into a
 * program that is exiting (libdw would load libdebuginfod, and with it
 * libcurl, gnutls and about thirty more, whose constructors run there). */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static pthread_mutex_t held_at_exit = PTHREAD_MUTEX_INITIALIZER;

int main(void)
{
    static const char line[] = "exit_loads_nothing: exit\n";
    pthread_mutex_lock(&held_at_exit);
    if (write(2, line, strlen(line)) < 0)
        return 1;
    exit(0);
}
