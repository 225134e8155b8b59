/* early (buggy): early_lib's constructor took early_outer then early_inner
 * before main, before lockrace's constructor ran; main takes them the other
 * way round. Expected: one cycle of 2, made by the main thread alone. */
#include <pthread.h>
#include <stdio.h>

extern pthread_mutex_t early_outer, early_inner;

int main(void)
{
    pthread_mutex_lock(&early_inner);
    pthread_mutex_lock(&early_outer);
    pthread_mutex_unlock(&early_outer);
    pthread_mutex_unlock(&early_inner);
    puts("early: done");
    return 0;
}
