/* Lock vs RLock: deposit() holds the account's lock and calls
 * log_balance(), which takes the same lock again. With a normal mutex (the
 * default here, like Python's Lock) the second lock waits for the thread
 * itself: it hangs forever natively; lockrace reports the self-deadlock and
 * ends the program. With --recursive the mutex is recursive (Python's
 * RLock): the same thread may take it again, and the program is clean. */
#define _GNU_SOURCE
#include <pthread.h>
#include <stdio.h>
#include <string.h>

static pthread_mutex_t account_lock;
static long balance;

static void log_balance(void)
{
    pthread_mutex_lock(&account_lock);          /* already held by deposit() */
    printf("balance is %ld\n", balance);
    pthread_mutex_unlock(&account_lock);
}

static void deposit(long amount)
{
    pthread_mutex_lock(&account_lock);
    balance += amount;
    log_balance();
    pthread_mutex_unlock(&account_lock);
}

int main(int argc, char **argv)
{
    pthread_mutexattr_t attr;
    pthread_mutexattr_init(&attr);
    if (argc > 1 && strcmp(argv[1], "--recursive") == 0)
        pthread_mutexattr_settype(&attr, PTHREAD_MUTEX_RECURSIVE);
    pthread_mutex_init(&account_lock, &attr);
    deposit(100);
    deposit(50);
    return 0;
}
