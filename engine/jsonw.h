/* jsonw.h: a small streaming JSON writer (pretty-printed, indent 4).
 * The caller emits keys in the order it wants them (the profile writer
 * emits them sorted, like json.dumps(sort_keys=True)).  Errors are sticky:
 * check scalene_jw_failed() once at the end. */
#ifndef SCALENE_JSONW_H
#define SCALENE_JSONW_H

#include <stdint.h>
#include <stdio.h>

#define SCALENE_JW_MAX_DEPTH 32

typedef struct {
    FILE *out;
    int depth;
    int count[SCALENE_JW_MAX_DEPTH]; /* values written at each depth */
    int inline_depth;                /* >0: inside an array written on one line */
    int after_key;
    int failed;
} scalene_jw_t;

void scalene_jw_init(scalene_jw_t *w, FILE *out);
void scalene_jw_begin_object(scalene_jw_t *w);
void scalene_jw_end_object(scalene_jw_t *w);
void scalene_jw_begin_array(scalene_jw_t *w);
/* An array whose elements go on the same line (lists of numbers). */
void scalene_jw_begin_inline_array(scalene_jw_t *w);
void scalene_jw_end_array(scalene_jw_t *w);
void scalene_jw_key(scalene_jw_t *w, const char *key);
/* UTF-8 text; `html_safe` also writes &, <, > as \u0026, \u003c, \u003e. */
void scalene_jw_string(scalene_jw_t *w, const char *s, int html_safe);
void scalene_jw_double(scalene_jw_t *w, double v);
void scalene_jw_int(scalene_jw_t *w, int64_t v);
void scalene_jw_bool(scalene_jw_t *w, int v);
void scalene_jw_null(scalene_jw_t *w);
/* A value that is already JSON text (trusted to be valid). */
void scalene_jw_raw(scalene_jw_t *w, const char *json);
int scalene_jw_failed(const scalene_jw_t *w);

#endif
