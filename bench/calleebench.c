/* calleebench: the cost of following a watched variable's address into
 * a callee (bench/watch_callee.sh). One thread calls bump() N times:
 *
 *   calleebench other N     always with a variable of its own: the call
 *                           site that passes the watched address (once,
 *                           first) is another one
 *   calleebench watched N   always with &stats from one call site: both
 *                           members go through the callee's copy
 *
 * Watch stats (both members watched) or stats.hits (misses is reached
 * through the same pointer but is not watched: turned away when it runs).
 * With spare->hits watched too (a member through a global pointer, whose
 * object may be anywhere), a copy can no longer turn misses away by the
 * bounds of the static variables: it calls lockrace, which does. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct stats {
    long hits;
    long misses;
};

struct stats stats;
struct stats *spare;            /* only for watch=spare->hits */

__attribute__((noinline)) void bump(struct stats *s, long v)
{
    s->hits += v;
    s->misses += v & 1;
}

int main(int argc, char **argv)
{
    long n = argc > 2 ? atol(argv[2]) : 10000000;
    int watched = argc > 1 && !strcmp(argv[1], "watched");
    struct stats mine = { 0, 0 };
    bump(&stats, 1);
    for (long i = 0; i < n; i++) {
        if (watched)
            bump(&stats, i);
        else
            bump((struct stats *)(((volatile struct stats *)&mine)), i);
    }
    printf("%ld %ld %ld %ld\n", stats.hits, stats.misses, mine.hits, mine.misses);
    return 0;
}
