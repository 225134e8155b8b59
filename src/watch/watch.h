/* Watching the variables of a program that was not annotated, by
 * rewriting the instructions that reach them (watch=NAME,...; watch.c). */
#ifndef LR_WATCH_H
#define LR_WATCH_H

/* Resolves the names, finds and rewrites the instructions. A name that
 * does not resolve ends the process with status 2 and a one-line error;
 * when watching cannot work here, one line says why and the rest of
 * lockrace goes on. */
void lr_watch_start(const char *spec);

#endif
