/* gendata: writes BYTES bytes of made-up log lines to stdout, the same bytes
 * on every run and machine (a fixed-seed generator, no locale, no clock), as
 * the input bench/programs.sh compresses with pigz. Words are drawn with a
 * skew from a vocabulary built from syllables, with numbers between them, so
 * the text compresses about as well as real logs do, not trivially. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define WORDS 2048

static uint64_t rng_state = 0x9e3779b97f4a7c15u;

/* xorshift64*: fixed and portable, unlike rand(). */
static uint32_t next(void)
{
    rng_state ^= rng_state >> 12;
    rng_state ^= rng_state << 25;
    rng_state ^= rng_state >> 27;
    return (uint32_t)((rng_state * 0x2545f4914f6cdd1du) >> 32);
}

/* An index below n, small ones far likelier (the least of three draws), as
 * a few words make up most of any text. */
static uint32_t skewed(uint32_t n)
{
    uint32_t a = next() % n, b = next() % n, c = next() % n;
    uint32_t m = a < b ? a : b;
    return m < c ? m : c;
}

static char vocabulary[WORDS][16];

static void build_vocabulary(void)
{
    static const char *const syllables[] = {
        "ka", "lo", "mi", "ne", "ru", "sa", "te", "vo", "qua", "zen",
        "pri", "dor", "el", "in", "ost", "ba", "ge", "hu", "ja", "wy",
    };
    const uint32_t n = sizeof syllables / sizeof syllables[0];
    for (int w = 0; w < WORDS; w++) {
        int parts = 1 + (int)(next() % 4);
        vocabulary[w][0] = '\0';
        for (int p = 0; p < parts; p++)
            strcat(vocabulary[w], syllables[next() % n]);
    }
}

int main(int argc, char **argv)
{
    char *end;
    long long bytes = argc == 2 ? strtoll(argv[1], &end, 10) : -1;
    if (argc != 2 || bytes < 0 || *end != '\0') {
        fprintf(stderr, "usage: gendata BYTES  (writes BYTES bytes of text to stdout)\n");
        return 2;
    }
    build_vocabulary();
    static char line[512];
    long long written = 0;
    for (uint64_t seq = 0; written < bytes; seq++) {
        int len = snprintf(line, sizeof line, "%010llu %02u:%02u:%02u.%03u host%02u %s[%u]:",
                           (unsigned long long)seq, next() % 24, next() % 60, next() % 60,
                           next() % 1000, skewed(40), vocabulary[skewed(64)], next() % 32768);
        int words = 4 + (int)(next() % 12);
        for (int w = 0; w < words; w++) {
            if (next() % 8 == 0)
                len += snprintf(line + len, sizeof line - len, " %u", skewed(100000));
            else
                len += snprintf(line + len, sizeof line - len, " %s", vocabulary[skewed(WORDS)]);
        }
        line[len++] = '\n';
        if (len > bytes - written)
            len = (int)(bytes - written);
        if (fwrite(line, 1, (size_t)len, stdout) != (size_t)len) {
            perror("gendata: write");
            return 1;
        }
        written += len;
    }
    if (fflush(stdout) != 0) {
        perror("gendata: write");
        return 1;
    }
    return 0;
}
