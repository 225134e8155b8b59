/* The lock-order graph as one JSON line at exit (order_graph=1, docs/json.md):
 * the locks named as reports name them, each edge with its count, the
 * first source line of its two stacks and whether it is on a reported
 * cycle. Report layer: formats only; runs under report_lock, on
 * lockrace's own stack (report.c). Not a report: nothing counts it. */
#include "report/format.h"
#include "support/arena.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* A stack's first frame with a source line, by stack id: edges share
 * stacks, and the graph may have thousands of them. */
typedef struct place {
    lr_stack_id id;             /* 0: empty */
    int line;
    char function[96];
    char file[224];
} place;

#define PLACES 1024

static const place *place_of(place *cache, lr_stack_id id)
{
    static lr_frames f;         /* under report_lock */
    place *p = &cache[((uint32_t)id * 0x9e3779b9u) >> 22];
    if (p->id == id)
        return p;
    memset(p, 0, sizeof *p);
    p->id = id;
    lr_symbolize_stack(id, &f);
    for (int i = 0; i < f.n; i++)
        if (f.info[i].file[0] && f.info[i].line > 0) {
            snprintf(p->function, sizeof p->function, "%s", f.info[i].function);
            snprintf(p->file, sizeof p->file, "%s", f.info[i].file);
            p->line = f.info[i].line;
            break;
        }
    return p;
}

static void json_place(lr_buf *b, const char *key, const place *p)
{
    if (!p->line)
        return;
    lr_buf_printf(b, ",\"%s\":{\"function\":", key);
    lr_buf_json_string(b, p->function);
    lr_buf_puts(b, ",\"file\":");
    lr_buf_json_string(b, p->file);
    lr_buf_printf(b, ",\"line\":%d}", p->line);
}

static int by_id(const void *a, const void *b)
{
    uint64_t x = (*(const lr_report_lock *const *)a)->id, y = (*(const lr_report_lock *const *)b)->id;
    return x < y ? -1 : x > y;
}

/* The index of lock id in the sorted, deduplicated locks. */
static size_t lock_index(const lr_report_lock **locks, size_t n, uint64_t id)
{
    size_t lo = 0, hi = n;
    while (lo + 1 < hi) {
        size_t mid = (lo + hi) / 2;
        if (locks[mid]->id <= id)
            lo = mid;
        else
            hi = mid;
    }
    return lo;
}

void lr_json_graph(lr_buf *b, const lr_report_graph_edge *edges, size_t n, uint64_t total)
{
    size_t mapped = n;
    const lr_report_lock **locks = n ? lr_map(2 * n * sizeof *locks) : NULL;
    place *cache = n ? lr_map(PLACES * sizeof *cache) : NULL;
    size_t nlocks = 0;
    if (n && (!locks || !cache))
        n = 0;                  /* no memory: an empty graph, said by total */
    for (size_t i = 0; i < n; i++) {
        locks[nlocks++] = &edges[i].from;
        locks[nlocks++] = &edges[i].to;
    }
    if (nlocks)                 /* qsort's array may not be NULL, even for 0 elements */
        qsort(locks, nlocks, sizeof *locks, by_id);
    size_t k = 0;
    for (size_t i = 0; i < nlocks; i++)
        if (!k || locks[i]->id != locks[k - 1]->id)
            locks[k++] = locks[i];
    nlocks = k;
    lr_buf_printf(b, "{\"lockrace\":1,\"kind\":\"graph\",\"pid\":%d,\"locks\":[", (int)getpid());
    for (size_t i = 0; i < nlocks; i++) {
        lr_lock_desc d;
        char label[200];
        lr_describe_lock(locks[i], &d);
        lr_lock_label(locks[i], &d, label, sizeof label);
        lr_buf_printf(b, "%s{\"id\":%lu,\"addr\":\"%#lx\",\"label\":", i ? "," : "",
                      (unsigned long)locks[i]->id, (unsigned long)locks[i]->addr);
        lr_buf_json_string(b, label);
        if (d.name[0]) {
            lr_buf_puts(b, ",\"name\":");
            lr_buf_json_string(b, d.name);
        }
        lr_buf_printf(b, ",\"kind\":\"%s\",\"where\":\"%s\"}", lr_lock_kind_word(locks[i]->type),
                      lr_where_names[d.where]);
    }
    lr_buf_puts(b, "],\"edges\":[");
    for (size_t i = 0; i < n; i++) {
        const lr_report_graph_edge *e = &edges[i];
        lr_buf_printf(b, "%s{\"from\":%zu,\"to\":%zu,\"count\":%u,\"cycle\":%s,\"bounded\":%s,\"thread\":%u",
                      i ? "," : "", lock_index(locks, nlocks, e->from.id),
                      lock_index(locks, nlocks, e->to.id), e->times, e->in_cycle ? "true" : "false",
                      e->bounded ? "true" : "false", e->thread);
        json_place(b, "first", place_of(cache, e->first_stack));
        json_place(b, "second", place_of(cache, e->second_stack));
        lr_buf_puts(b, "}");
    }
    lr_buf_printf(b, "],\"total_edges\":%lu}\n", (unsigned long)total);
    if (locks)
        lr_unmap(locks, 2 * mapped * sizeof *locks);
    if (cache)
        lr_unmap(cache, PLACES * sizeof *cache);
}
