/* fd_reuse FILE [stderr]: closes every descriptor above stderr, as daemons
 * and process spawners do, opens a file of its own (it gets the number
 * lockrace's report file had), then makes a lock-order inversion. lockrace
 * must write its report to its own file and nothing into the program's:
 * the program checks its file holds exactly what it wrote. With "stderr"
 * it closes descriptor 2 instead, so that its file is descriptor 2: the
 * text report goes to the stderr the program was started with. */
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

static pthread_mutex_t a = PTHREAD_MUTEX_INITIALIZER, b = PTHREAD_MUTEX_INITIALIZER;

int main(int argc, char **argv)
{
    if (argc != 2 && !(argc == 3 && !strcmp(argv[2], "stderr"))) {
        fprintf(stderr, "usage: fd_reuse FILE [stderr]\n");
        return 2;
    }
    if (argc == 3) {
        close(2);
    } else {
        for (int fd = 3; fd < 64; fd++)
            close(fd);
    }
    int fd = open(argv[1], O_RDWR | O_CREAT | O_TRUNC, 0644);
    if (argc == 3 && fd != 2)
        return 4;
    const char data[] = "the program's own data\n";
    if (fd < 0 || write(fd, data, strlen(data)) != (ssize_t)strlen(data))
        return 3;
    pthread_mutex_lock(&a);
    pthread_mutex_lock(&b);
    pthread_mutex_unlock(&b);
    pthread_mutex_unlock(&a);
    pthread_mutex_lock(&b);
    pthread_mutex_lock(&a);
    pthread_mutex_unlock(&a);
    pthread_mutex_unlock(&b);
    char back[256];
    ssize_t n = pread(fd, back, sizeof back, 0);
    if (n != (ssize_t)strlen(data) || memcmp(back, data, strlen(data))) {
        printf("fd_reuse: the program's file was written to (%zd bytes)\n", n);
        return 1;
    }
    printf("fd_reuse: descriptor %d, file intact\n", fd);
    return 0;
}
