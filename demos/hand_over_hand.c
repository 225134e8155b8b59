/* hand_over_hand: a sorted linked list with one mutex per node, walked and
 * extended by four threads with lock coupling (hold at most two neighbours).
 * Locks are always taken in list order, so lockrace should report nothing. */
#define _GNU_SOURCE
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>

#define INITIAL_NODES 100
#define NTHREADS 4
#define OPS 200

struct node {
    pthread_mutex_t lock;
    int value;
    struct node *next;
};

/* Sentinel head with a value below any key, so insertion never replaces it. */
static struct node head = { PTHREAD_MUTEX_INITIALIZER, -1, NULL };

static struct node *new_node(int value, struct node *next)
{
    struct node *n = malloc(sizeof *n);

    if (!n)
        abort();
    pthread_mutex_init(&n->lock, NULL);
    n->value = value;
    n->next = next;
    return n;
}

/* Insert value unless present. Returns 1 when inserted. */
static int insert(int value)
{
    struct node *prev = &head, *cur;
    int inserted = 0;

    pthread_mutex_lock(&prev->lock);
    while ((cur = prev->next) != NULL) {
        pthread_mutex_lock(&cur->lock);
        if (cur->value >= value)
            break;
        pthread_mutex_unlock(&prev->lock);
        prev = cur;
    }
    if (!cur || cur->value != value) {
        /* Nodes are never removed or moved, so list order is a fixed lock order. */
        prev->next = new_node(value, cur);
        inserted = 1;
    }
    if (cur)
        pthread_mutex_unlock(&cur->lock);
    pthread_mutex_unlock(&prev->lock);
    return inserted;
}

/* Walk the whole list, checking it stays sorted; returns its length. */
static int walk(void)
{
    struct node *prev = &head, *cur;
    int count = 0;

    pthread_mutex_lock(&prev->lock);
    while ((cur = prev->next) != NULL) {
        pthread_mutex_lock(&cur->lock);
        if (cur->value <= prev->value) {
            fprintf(stderr, "hand_over_hand: list out of order\n");
            exit(1);
        }
        pthread_mutex_unlock(&prev->lock);
        prev = cur;
        count++;
    }
    pthread_mutex_unlock(&prev->lock);
    return count;
}

static void *worker(void *arg)
{
    unsigned seed = (unsigned)(long)arg;
    char name[16];
    long inserted = 0;

    snprintf(name, sizeof name, "walker-%u", seed);
    pthread_setname_np(pthread_self(), name);
    for (int i = 0; i < OPS; i++) {
        if (i % 4 == 0)
            walk();
        else
            inserted += insert(rand_r(&seed) % 10000);
    }
    return (void *)inserted;
}

int main(void)
{
    pthread_t t[NTHREADS];
    long inserted = 0;
    int length;

    /* Build from the back so each new node goes to the front: values 0, 100, ... */
    for (int i = INITIAL_NODES - 1; i >= 0; i--)
        head.next = new_node(i * 100, head.next);

    for (int i = 0; i < NTHREADS; i++)
        pthread_create(&t[i], NULL, worker, (void *)(long)(i + 1));
    for (int i = 0; i < NTHREADS; i++) {
        void *r;
        pthread_join(t[i], &r);
        inserted += (long)r;
    }

    length = walk();
    printf("hand_over_hand: %d threads inserted %ld nodes, list has %d nodes\n",
           NTHREADS, inserted, length);

    for (struct node *n = head.next, *next; n; n = next) {
        next = n->next;
        pthread_mutex_destroy(&n->lock);
        free(n);
    }
    return length == INITIAL_NODES + inserted ? 0 : 1;
}
