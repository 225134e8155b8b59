/* SARIF 2.1.0, for code scanning (GitHub's upload-sarif) and SARIF
 * viewers: one result per report, its rule the report's kind, placed at
 * the first source line of the stack the report is about, the other
 * stacks as related locations, the process in its property bag. */
#include "launcher/run.h"
#include "support/util.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
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

/* Relative to the working directory (%SRCROOT%) when the file is under it
 * or its name is relative already, else an absolute file: URI. */
static void artifact_location(lr_buf *b, const char *file, const char *cwd)
{
    size_t n = strlen(cwd);
    lr_buf_puts(b, "{\"uri\":\"");
    if (file[0] == '/' && n > 1 && !strncmp(file, cwd, n) && file[n] == '/') {
        uri_path(b, file + n + 1);
        lr_buf_puts(b, "\",\"uriBaseId\":\"%SRCROOT%\"}");
    } else if (file[0] != '/') {
        uri_path(b, file[0] == '.' && file[1] == '/' ? file + 2 : file);
        lr_buf_puts(b, "\",\"uriBaseId\":\"%SRCROOT%\"}");
    } else {
        lr_buf_puts(b, "file://");
        uri_path(b, file);
        lr_buf_puts(b, "\"}");
    }
}

static void location(lr_buf *b, const lr_place *p, int id, const char *cwd)
{
    lr_buf_printf(b, "{\"id\":%d,\"physicalLocation\":{\"artifactLocation\":", id);
    artifact_location(b, p->file, cwd);
    lr_buf_printf(b, ",\"region\":{\"startLine\":%ld}},\"message\":{\"text\":", p->line);
    lr_buf_json_string(b, p->what);
    lr_buf_puts(b, "}}");
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

static void result(lr_buf *b, const lr_proc *p, const lr_json *r, const char *cwd)
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
    lr_buf_json_string(b, lr_json_str(lr_json_get(r, "summary"), kind));
    lr_buf_puts(b, "}");
    static lr_place places[MAX_PLACES];
    size_t n = lr_run_places(r, places, MAX_PLACES);
    if (n) {
        lr_buf_puts(b, ",\"locations\":[");
        location(b, &places[0], 0, cwd);
        lr_buf_puts(b, "]");
    }
    if (n > 1) {
        lr_buf_puts(b, ",\"relatedLocations\":[");
        for (size_t i = 1; i < n; i++) {
            lr_buf_puts(b, i > 1 ? "," : "");
            location(b, &places[i], (int)i, cwd);
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

void lr_sarif_build(lr_buf *b, const lr_run *run, char *const *command, int status)
{
    char cwd[PATH_MAX];
    if (!getcwd(cwd, sizeof cwd))
        strcpy(cwd, "/");
    lr_buf base = { 0 }, cmd = { 0 };
    uri_path(&base, cwd);
    if (base.data && base.data[base.len - 1] != '/')
        lr_buf_puts(&base, "/");
    for (char *const *a = command; *a; a++) {
        lr_buf_puts(&cmd, a == command ? "" : " ");
        lr_shell_word(&cmd, *a);
    }
    lr_buf_puts(b, "{\"$schema\":\"https://json.schemastore.org/sarif-2.1.0.json\",\"version\":\"2.1.0\","
                    "\"runs\":[{\"tool\":{\"driver\":{\"name\":\"lockrace\",\"version\":\"" LR_VERSION "\","
                    "\"semanticVersion\":\"" LR_VERSION "\",");
    rules(b);
    lr_buf_printf(b, "}},\"originalUriBaseIds\":{\"%%SRCROOT%%\":{\"uri\":\"file://%s\"}},"
                      "\"invocations\":[{\"executionSuccessful\":true,\"exitCode\":%d,\"commandLine\":",
                  base.data, status);
    lr_buf_json_string(b, cmd.data ? cmd.data : "");
    lr_buf_printf(b, ",\"workingDirectory\":{\"uri\":\"file://%s\"}}],\"results\":[", base.data);
    int first = 1;
    for (size_t i = 0; i < run->nprocs; i++)
        for (size_t k = 0; k < run->procs[i].nreports; k++) {
            lr_buf_puts(b, first ? "\n" : ",\n");
            result(b, &run->procs[i], run->procs[i].reports[k], cwd);
            first = 0;
        }
    lr_buf_puts(b, "]}]}\n");
    lr_buf_free(&base);
    lr_buf_free(&cmd);
}
