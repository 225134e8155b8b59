/* SARIF 2.1.0, for code scanning (GitHub's upload-sarif) and SARIF
 * viewers: one result per report, its rule the report's kind, placed at
 * the first source line of the stack the report is about (or its module
 * and offset), the other stacks as related locations linked from the
 * message, files relative to the source root, the process in its
 * property bag. */
#include "launcher/run.h"
#include "support/util.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <stdlib.h>
#include <strings.h>
#include <unistd.h>

#ifndef LR_VERSION
#define LR_VERSION "0"
#endif

enum { MAX_PLACES = 64 };

/* A path as a URI: every byte but the unreserved ones and '/' percent-encoded. */
static void uri_path(lr_buf *b, const char *path)
{
    for (const unsigned char *p = (const unsigned char *)path; *p; p++)
        if ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
            strchr("-._~/", *p))
            lr_buf_printf(b, "%c", *p);
        else
            lr_buf_printf(b, "%%%02X", *p);
}

/* The directory at or above dir that holds a .git (a directory, or a
 * worktree's file): the repository. 0, its real path in out, or -1. */
static int repository_of(const char *dir, char *out)
{
    char path[PATH_MAX], git[PATH_MAX + 8];
    if (!realpath(dir, path))
        return -1;
    for (;;) {
        char *slash = strrchr(path, '/');
        snprintf(git, sizeof git, "%s/.git", slash == path && !path[1] ? "" : path);
        if (access(git, F_OK) == 0) {
            strcpy(out, path);
            return 0;
        }
        if (!slash || (slash == path && !path[1]))
            return -1;
        slash[slash == path] = 0;
    }
}

/* The source root (SRCROOT), as a real path, with no '/' at its end but
 * for "/": the one given; else the repository of the first absolute
 * source file that is in one; else that of the working directory, where
 * a relative name (-ffile-prefix-map=ROOT/=, a build in the root) is
 * taken to start; else the working directory. */
static void source_root_of(const lr_run *run, const char *given, const char *cwd, char *out)
{
    static lr_place places[MAX_PLACES];
    if (given && realpath(given, out))
        return;
    for (size_t i = 0; i < run->nprocs; i++)
        for (size_t k = 0; k < run->procs[i].nreports; k++) {
            size_t n = lr_run_places(run->procs[i].reports[k], places, MAX_PLACES);
            for (size_t j = 0; j < n; j++) {
                char dir[PATH_MAX];
                const char *file = places[j].file, *slash = file ? strrchr(file, '/') : NULL;
                if (!file || file[0] != '/' || (size_t)(slash - file) >= sizeof dir)
                    continue;
                snprintf(dir, sizeof dir, "%.*s", (int)(slash - file), file);
                if (repository_of(*dir ? dir : "/", out) == 0)
                    return;
            }
        }
    if (repository_of(cwd, out) < 0)
        strcpy(out, cwd);
}

/* file under root: the rest of it, else NULL */
static const char *under(const char *file, const char *root)
{
    size_t n = strlen(root);
    if (n == 1)
        return file + 1;
    return !strncmp(file, root, n) && file[n] == '/' ? file + n + 1 : NULL;
}

/* Relative to the source root (SRCROOT) when the file is under it or its
 * name is relative already, else an absolute file: URI. */
static void artifact_location(lr_buf *b, const char *file, const char *root)
{
    char real[PATH_MAX];
    const char *rest = file[0] != '/' ? (file[0] == '.' && file[1] == '/' ? file + 2 : file)
                                      : under(file, root);
    if (!rest && realpath(file, real))
        rest = under(real, root);
    lr_buf_puts(b, "{\"uri\":\"");
    if (rest) {
        uri_path(b, rest);
        lr_buf_puts(b, "\",\"uriBaseId\":\"SRCROOT\"}");
    } else {
        lr_buf_puts(b, "file://");
        uri_path(b, file);
        lr_buf_puts(b, "\"}");
    }
}

/* A source line; in code without debug information, the module (by its
 * file name: the report has no more) and the byte of it as a binary
 * region, with its address (module+offset, as addr2line takes it) as a
 * logical location, so that a result always has the physical location
 * code scanning requires. */
static void location(lr_buf *b, const lr_place *p, int id, const char *root)
{
    char where[300];
    lr_buf_printf(b, "{\"id\":%d,\"physicalLocation\":{\"artifactLocation\":", id);
    if (p->file) {
        artifact_location(b, p->file, root);
        lr_buf_printf(b, ",\"region\":{\"startLine\":%ld}},\"message\":{\"text\":", p->line);
        lr_buf_json_string(b, p->what);
    } else {
        lr_buf_puts(b, "{\"uri\":\"");
        uri_path(b, p->module ? p->module : "unknown");
        const char *byte = p->file_offset ? p->file_offset : p->offset;
        lr_buf_printf(b, "\"},\"region\":{\"byteOffset\":%lu}},\"logicalLocations\":[{",
                      byte ? strtoul(byte, NULL, 0) : 0ul);
        if (p->function) {
            lr_buf_puts(b, "\"name\":");
            lr_buf_json_string(b, p->function);
            lr_buf_puts(b, ",\"kind\":\"function\",");
        }
        snprintf(where, sizeof where, "%s+%s", p->module ? p->module : "?", p->offset ? p->offset : "?");
        lr_buf_puts(b, "\"fullyQualifiedName\":");
        lr_buf_json_string(b, where);
        lr_buf_puts(b, "}],\"message\":{\"text\":");
        char text[sizeof p->what + sizeof where + 80];
        snprintf(text, sizeof text, "%s, at %s (no source line: built without -g?)", p->what,
                 lr_place_where(p, where, sizeof where));
        lr_buf_json_string(b, text);
    }
    lr_buf_puts(b, "}}");
}

/* Message text as SARIF reads it: '[', ']' and '\' stand for themselves
 * only escaped, outside the [text](id) of a link. */
static void message_text(lr_buf *b, const char *s)
{
    for (; *s; s++)
        lr_buf_printf(b, "%s%c", strchr("[]\\", *s) ? "\\" : "", *s);
}

static void rules(lr_buf *b)
{
    lr_buf_puts(b, "\"rules\":[");
    for (size_t i = 0; i < lr_nkinds; i++) {
        const lr_kind *k = &lr_kinds[i];
        char name[64], *o = name;
        for (const char *t = k->title; *t && o < name + sizeof name - 1; t++)
            if (*t != ' ' && *t != '-')
                *o++ = t == k->title || t[-1] == ' ' || t[-1] == '-' ? (char)(*t & ~0x20) : *t;
        *o = 0;
        lr_buf_printf(b, "%s{\"id\":\"%s\",", i ? "," : "", k->name);
        /* a name that only differs from the id in case says nothing more (SARIF1001) */
        if (strcasecmp(name, k->name))
            lr_buf_printf(b, "\"name\":\"%s\",", name);
        lr_buf_puts(b, "\"shortDescription\":{\"text\":");
        lr_buf_json_string(b, k->title);
        lr_buf_puts(b, "},\"fullDescription\":{\"text\":");
        lr_buf_json_string(b, k->description);
        lr_buf_puts(b, "},\"help\":{\"text\":");
        lr_buf_json_string(b, k->description);
        lr_buf_printf(b, "},\"defaultConfiguration\":{\"level\":\"%s\"},"
                         "\"properties\":{\"tags\":[\"concurrency\"]}}",
                      k->warning ? "warning" : "error");
    }
    lr_buf_puts(b, "]");
}

static void result(lr_buf *b, const lr_proc *p, const lr_json *r, const char *root)
{
    const char *kind = lr_json_str(lr_json_get(r, "kind"), "");
    size_t rule = 0;
    while (rule < lr_nkinds && strcmp(lr_kinds[rule].name, kind))
        rule++;
    lr_buf_puts(b, "{\"ruleId\":");
    lr_buf_json_string(b, kind);
    if (rule < lr_nkinds)
        lr_buf_printf(b, ",\"ruleIndex\":%zu", rule);
    lr_buf_printf(b, ",\"level\":\"%s\",\"message\":{\"text\":",
                  rule < lr_nkinds && lr_kinds[rule].warning ? "warning" : "error");
    /* the title, where it happened, then each other stack as a link to its
     * related location, which is how code scanning shows those */
    static lr_place places[MAX_PLACES];
    size_t n = lr_run_places(r, places, MAX_PLACES);
    lr_buf text = { 0 };
    message_text(&text, lr_json_str(lr_json_get(r, "summary"), kind));
    if (n) {
        lr_buf_puts(&text, ". ");
        message_text(&text, places[0].what);
    }
    for (size_t i = 1; i < n; i++) {
        lr_buf_puts(&text, i > 1 ? "; [" : ". See also: [");
        message_text(&text, places[i].what);
        lr_buf_printf(&text, "](%zu)", i);
    }
    lr_buf_puts(&text, n ? "." : "");
    lr_buf_json_string(b, text.data ? text.data : kind);
    lr_buf_free(&text);
    lr_buf_puts(b, "}");
    if (n) {
        lr_buf_puts(b, ",\"locations\":[");
        location(b, &places[0], 0, root);
        lr_buf_puts(b, "]");
    }
    if (n > 1) {
        lr_buf_puts(b, ",\"relatedLocations\":[");
        for (size_t i = 1; i < n; i++) {
            lr_buf_puts(b, i > 1 ? "," : "");
            location(b, &places[i], (int)i, root);
        }
        lr_buf_puts(b, "]");
    }
    lr_buf_printf(b, ",\"properties\":{\"pid\":%ld,\"ppid\":%ld,\"commandLine\":", p->pid, p->ppid);
    lr_buf_json_string(b, p->cmdline ? p->cmdline : "");
    const char *certainty = lr_json_str(lr_json_get(r, "certainty"), NULL);
    if (certainty) {
        lr_buf_puts(b, ",\"certainty\":");
        lr_buf_json_string(b, certainty);
    }
    lr_buf_puts(b, "}}");
}

void lr_sarif_build(lr_buf *b, const lr_run *run, char *const *command, int status,
                    const char *source_root)
{
    char cwd[PATH_MAX], root[PATH_MAX];
    if (!getcwd(cwd, sizeof cwd))
        strcpy(cwd, "/");
    source_root_of(run, source_root, cwd, root);
    lr_buf base = { 0 }, wd = { 0 }, cmd = { 0 };
    uri_path(&base, root);
    uri_path(&wd, cwd);
    lr_buf_puts(&base, root[1] ? "/" : "");
    lr_buf_puts(&wd, cwd[1] ? "/" : "");
    for (char *const *a = command; *a; a++) {
        lr_buf_puts(&cmd, a == command ? "" : " ");
        lr_shell_word(&cmd, *a);
    }
    lr_buf_puts(b, "{\"$schema\":\"https://json.schemastore.org/sarif-2.1.0.json\",\"version\":\"2.1.0\","
                    "\"runs\":[{\"tool\":{\"driver\":{\"name\":\"lockrace\",\"version\":\"" LR_VERSION "\","
                    "\"semanticVersion\":\"" LR_VERSION "\",");
    rules(b);
    lr_buf_printf(b, "}},\"originalUriBaseIds\":{\"SRCROOT\":{\"uri\":\"file://%s\"}},"
                      "\"invocations\":[{\"executionSuccessful\":true,\"exitCode\":%d,\"commandLine\":",
                  base.data, status);
    lr_buf_json_string(b, cmd.data ? cmd.data : "");
    lr_buf_printf(b, ",\"workingDirectory\":{\"uri\":\"file://%s\"}}],\"results\":[", wd.data);
    int first = 1;
    for (size_t i = 0; i < run->nprocs; i++)
        for (size_t k = 0; k < run->procs[i].nreports; k++) {
            lr_buf_puts(b, first ? "\n" : ",\n");
            result(b, &run->procs[i], run->procs[i].reports[k], root);
            first = 0;
        }
    lr_buf_puts(b, "]}]}\n");
    lr_buf_free(&base);
    lr_buf_free(&wd);
    lr_buf_free(&cmd);
}
