/* c11_inversion (buggy): C11 threads.h only. Two thrd_create'd threads,
 * one after the other, take mtx_a and mtx_b in opposite orders; a recursive
 * mtx_t is relocked and a condition is waited on with cnd_timedwait, both
 * clean. Expected: one cycle of 2 (mtx_a, mtx_b), and the threads' results
 * come back through thrd_join. */
#include <stdio.h>
#include <threads.h>
#include <time.h>

mtx_t mtx_a, mtx_b, rec;
cnd_t never;

static int forward(void *arg)
{
    (void)arg;
    mtx_lock(&mtx_a);
    mtx_lock(&mtx_b);
    mtx_unlock(&mtx_b);
    mtx_unlock(&mtx_a);
    mtx_lock(&rec);
    mtx_lock(&rec);
    struct timespec soon;
    timespec_get(&soon, TIME_UTC);
    soon.tv_nsec += 1000000;
    if (soon.tv_nsec >= 1000000000) {
        soon.tv_sec++;
        soon.tv_nsec -= 1000000000;
    }
    int rc = cnd_timedwait(&never, &rec, &soon);
    mtx_unlock(&rec);
    mtx_unlock(&rec);
    return rc == thrd_timedout ? 7 : 1;
}

static int backward(void *arg)
{
    (void)arg;
    mtx_lock(&mtx_b);
    mtx_lock(&mtx_a);
    mtx_unlock(&mtx_a);
    mtx_unlock(&mtx_b);
    return 8;
}

int main(void)
{
    mtx_init(&mtx_a, mtx_plain);
    mtx_init(&mtx_b, mtx_plain);
    mtx_init(&rec, mtx_recursive);
    cnd_init(&never);
    thrd_t t;
    int r1 = 0, r2 = 0;
    thrd_create(&t, forward, NULL);
    thrd_join(t, &r1);
    thrd_create(&t, backward, NULL);
    thrd_join(t, &r2);
    printf("c11_inversion: results %d %d\n", r1, r2);
    return r1 == 7 && r2 == 8 ? 0 : 1;
}
