/* bank: transfers that lock the two accounts in argument order invert when two
 * tellers transfer in opposite directions. With --ordered, transfer() locks the
 * lower account id first and the inversion is gone. */
#define _GNU_SOURCE
#include <pthread.h>
#include <stdio.h>
#include <string.h>

#define NACCOUNTS 4
#define TRANSFERS 5

struct account {
    int id;
    long balance;
    pthread_mutex_t lock;
} accounts[NACCOUNTS];

static int ordered;

static void
transfer(struct account *from, struct account *to, long amount)
{
    struct account *first = from, *second = to;

    if (ordered && second->id < first->id) {
        first = to;
        second = from;
    }
    pthread_mutex_lock(&first->lock);
    pthread_mutex_lock(&second->lock);
    from->balance -= amount;
    to->balance += amount;
    pthread_mutex_unlock(&second->lock);
    pthread_mutex_unlock(&first->lock);
}

struct teller {
    const char *name;
    int from, to;
    long amount;
};

static void *teller(void *arg)
{
    struct teller *t = arg;

    pthread_setname_np(pthread_self(), t->name);
    for (int i = 0; i < TRANSFERS; i++)
        transfer(&accounts[t->from], &accounts[t->to], t->amount);
    return NULL;
}

int main(int argc, char **argv)
{
    struct teller tellers[] = { { "teller-1", 0, 1, 10 }, { "teller-2", 1, 0, 4 } };
    long total = 0;

    ordered = argc > 1 && strcmp(argv[1], "--ordered") == 0;
    for (int i = 0; i < NACCOUNTS; i++) {
        accounts[i].id = i;
        accounts[i].balance = 100;
        pthread_mutex_init(&accounts[i].lock, NULL);
    }

    /* teller-2 starts after teller-1 is done, so the unordered mode cannot hang
     * in this run even though its lock order can deadlock. */
    for (size_t i = 0; i < sizeof tellers / sizeof tellers[0]; i++) {
        pthread_t t;
        pthread_create(&t, NULL, teller, &tellers[i]);
        pthread_join(t, NULL);
    }

    printf("bank (%s):", ordered ? "ordered" : "argument order");
    for (int i = 0; i < NACCOUNTS; i++) {
        printf(" account %d=%ld", i, accounts[i].balance);
        total += accounts[i].balance;
        pthread_mutex_destroy(&accounts[i].lock);
    }
    printf(" total=%ld\n", total);
    return total == 100 * NACCOUNTS ? 0 : 1;
}
