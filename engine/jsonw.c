/* jsonw.c: see jsonw.h. */
#include "jsonw.h"

#include <math.h>
#include <string.h>

void
scalene_jw_init(scalene_jw_t *w, FILE *out)
{
    memset(w, 0, sizeof(*w));
    w->out = out;
}

static void
put(scalene_jw_t *w, const char *s)
{
    if (fputs(s, w->out) < 0) {
        w->failed = 1;
    }
}

static void
newline(scalene_jw_t *w)
{
    if (w->inline_depth > 0) {
        return;
    }
    put(w, "\n");
    for (int i = 0; i < w->depth; i++) {
        put(w, "    ");
    }
}

/* Separator and indentation before a value (or a key). */
static void
before_value(scalene_jw_t *w)
{
    if (w->after_key) {
        w->after_key = 0;
        return;
    }
    if (w->depth > 0) {
        if (w->count[w->depth] > 0) {
            put(w, w->inline_depth > 0 ? ", " : ",");
        }
        newline(w);
    }
    if (w->depth < SCALENE_JW_MAX_DEPTH) {
        w->count[w->depth]++;
    }
}

static void
open_container(scalene_jw_t *w, const char *bracket, int is_inline)
{
    before_value(w);
    put(w, bracket);
    if (w->depth + 1 >= SCALENE_JW_MAX_DEPTH) {
        w->failed = 1;
        return;
    }
    w->depth++;
    w->count[w->depth] = 0;
    if (is_inline || w->inline_depth > 0) {
        w->inline_depth++;
    }
}

static void
close_container(scalene_jw_t *w, const char *bracket)
{
    int had = w->count[w->depth] > 0;
    w->depth--;
    if (w->inline_depth > 0) {
        w->inline_depth--;
    } else if (had) {
        newline(w);
    }
    put(w, bracket);
}

void
scalene_jw_begin_object(scalene_jw_t *w)
{
    open_container(w, "{", 0);
}

void
scalene_jw_end_object(scalene_jw_t *w)
{
    close_container(w, "}");
}

void
scalene_jw_begin_array(scalene_jw_t *w)
{
    open_container(w, "[", 0);
}

void
scalene_jw_begin_inline_array(scalene_jw_t *w)
{
    open_container(w, "[", 1);
}

void
scalene_jw_end_array(scalene_jw_t *w)
{
    close_container(w, "]");
}

static void
write_escaped(scalene_jw_t *w, const char *s, int html_safe)
{
    char buf[8];
    put(w, "\"");
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        unsigned char c = *p;
        switch (c) {
        case '"':
            put(w, "\\\"");
            break;
        case '\\':
            put(w, "\\\\");
            break;
        case '\n':
            put(w, "\\n");
            break;
        case '\r':
            put(w, "\\r");
            break;
        case '\t':
            put(w, "\\t");
            break;
        default:
            if (c < 0x20 || (html_safe && (c == '&' || c == '<' || c == '>'))) {
                snprintf(buf, sizeof(buf), "\\u%04x", c);
                put(w, buf);
            } else {
                if (fputc(c, w->out) == EOF) {
                    w->failed = 1;
                }
            }
        }
    }
    put(w, "\"");
}

void
scalene_jw_key(scalene_jw_t *w, const char *key)
{
    before_value(w);
    write_escaped(w, key, 0);
    put(w, ": ");
    w->after_key = 1;
}

void
scalene_jw_string(scalene_jw_t *w, const char *s, int html_safe)
{
    before_value(w);
    write_escaped(w, s ? s : "", html_safe);
}

void
scalene_jw_double(scalene_jw_t *w, double v)
{
    char buf[40];
    before_value(w);
    if (!isfinite(v)) {
        v = 0.0;
    }
    if (v == (double)(int64_t)v && fabs(v) < 1e15) {
        snprintf(buf, sizeof(buf), "%.1f", v);
    } else {
        snprintf(buf, sizeof(buf), "%.10g", v);
    }
    put(w, buf);
}

void
scalene_jw_int(scalene_jw_t *w, int64_t v)
{
    char buf[32];
    before_value(w);
    snprintf(buf, sizeof(buf), "%lld", (long long)v);
    put(w, buf);
}

void
scalene_jw_bool(scalene_jw_t *w, int v)
{
    before_value(w);
    put(w, v ? "true" : "false");
}

void
scalene_jw_null(scalene_jw_t *w)
{
    before_value(w);
    put(w, "null");
}

void
scalene_jw_raw(scalene_jw_t *w, const char *json)
{
    before_value(w);
    put(w, json);
}

int
scalene_jw_failed(const scalene_jw_t *w)
{
    return w->failed;
}
