/* A lost update in locked code. Every access to the balance holds the
 * account's lock, so there is no data race; but deposit() reads the
 * balance, lets the lock go while it "checks the deposit", and takes it
 * again to write balance + amount. Another teller's deposit can land in
 * that gap and be overwritten. lockrace reports a lost update and says
 * that the lock was released between the read and the write.
 *
 * With --fixed, deposit() keeps the lock from the read to the write: clean. */
#include "lockrace.h"

#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>

#define TELLERS 3
#define DEPOSITS 20000

struct account {
    pthread_mutex_t lock;
    long balance;
};

static struct account account = { PTHREAD_MUTEX_INITIALIZER, 0 };
static int fixed;

static int check_deposit(long amount)
{
    sched_yield();              /* a fraud check, a log line, a system call ... */
    return amount > 0;
}

static void deposit(struct account *a, long amount)
{
    pthread_mutex_lock(&a->lock);
    long balance = LOCKRACE_LOAD(a->balance);
    if (!fixed)
        pthread_mutex_unlock(&a->lock);         /* the bug: the lock is let go here */
    int ok = check_deposit(amount);
    if (!fixed)
        pthread_mutex_lock(&a->lock);
    if (ok)
        LOCKRACE_STORE(a->balance, balance + amount);
    pthread_mutex_unlock(&a->lock);
}

static void *teller(void *arg)
{
    (void)arg;
    for (int i = 0; i < DEPOSITS; i++)
        deposit(&account, 1);
    return NULL;
}

int main(int argc, char **argv)
{
    fixed = argc > 1 && strcmp(argv[1], "--fixed") == 0;
    LOCKRACE_WATCH(account.balance, "account.balance");
    pthread_t t[TELLERS];
    for (int i = 0; i < TELLERS; i++)
        pthread_create(&t[i], NULL, teller, NULL);
    for (int i = 0; i < TELLERS; i++)
        pthread_join(t[i], NULL);
    long expected = (long)TELLERS * DEPOSITS;
    printf("deposited %ld, balance %ld: %ld lost\n", expected, account.balance,
           expected - account.balance);
    return 0;
}
