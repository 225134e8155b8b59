/* self_deadlock (buggy): the main thread locks a normal mutex it already
 * holds, through a helper that does not know. Natively it hangs forever;
 * lockrace reports a deadlock of one thread and ends it. */
#include <pthread.h>
#include <stdio.h>

pthread_mutex_t config_lock = PTHREAD_MUTEX_INITIALIZER;
static int setting;

static void set_default(void)
{
    pthread_mutex_lock(&config_lock);
    setting = 1;
    pthread_mutex_unlock(&config_lock);
}

int main(void)
{
    pthread_mutex_lock(&config_lock);
    set_default();                  /* relocks config_lock */
    pthread_mutex_unlock(&config_lock);
    printf("self_deadlock: setting=%d (it should have hung)\n", setting);
    return 0;
}
