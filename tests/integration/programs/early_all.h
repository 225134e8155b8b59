/* The log early_all_lib's constructor writes and early_all prints. */
#ifndef EARLY_ALL_H
#define EARLY_ALL_H

#define LOG_MAX 256

typedef struct call_log {
    const char *who;
    int n;
    struct { const char *name; int rc; } calls[LOG_MAX];
} call_log;

/* ctor, thread, c11, exiting */
extern call_log early_all_logs[4];

#endif
