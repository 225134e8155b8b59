/* A small JSON reader for the launcher: it reads back the lines that
 * lockrace's processes wrote (docs/json.md) as a tree of values, to gather
 * them into a summary, SARIF and JUnit. It allocates with malloc, so it is
 * never linked into the library. */
#ifndef LR_JSON_H
#define LR_JSON_H

#include <stddef.h>

typedef enum { LR_JSON_NULL, LR_JSON_BOOL, LR_JSON_NUMBER, LR_JSON_STRING, LR_JSON_ARRAY,
               LR_JSON_OBJECT } lr_json_type;

typedef struct lr_json lr_json;
struct lr_json {
    lr_json_type type;
    int boolean;
    double number;
    char *string;               /* a string, decoded to UTF-8 */
    char *key;                  /* a member of an object: its name */
    lr_json *child;             /* an array's or object's first element */
    lr_json *next;              /* the next element of the array or object it is in */
    size_t n;                   /* an array's or object's number of elements */
};

/* One JSON value filling all of text (whitespace around it is fine), or
 * NULL when text is not that. */
lr_json *lr_json_parse(const char *text);
void lr_json_free(lr_json *v);

/* An object's member, an array's element: NULL when absent or when v is
 * not an object or array. */
const lr_json *lr_json_get(const lr_json *v, const char *key);
const lr_json *lr_json_at(const lr_json *v, size_t i);

/* The value when it has that type (for a long: a whole number in its
 * range), else the fallback. */
const char *lr_json_str(const lr_json *v, const char *fallback);
long lr_json_long(const lr_json *v, long fallback);
double lr_json_num(const lr_json *v, double fallback);

#endif
