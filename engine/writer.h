/* writer.h: the profile file (docs/profile-format.md).
 *
 * The writer combines the aggregator's tables with what only Python knows
 * (source text, loop and function regions from the AST, the program's name
 * and arguments), which the module copies into this plain-C description
 * first.  Writing then needs no GIL: it runs with the GIL released and the
 * table lock held.  The file is written to a temporary name and renamed, so
 * a reader never sees half a profile.
 */
#ifndef SCALENE_WRITER_H
#define SCALENE_WRITER_H

#include <stddef.h>
#include <stdint.h>

#define SCALENE_REGION_FIELDS 7

typedef struct {
    char *name;         /* file name as the interpreter reported it */
    int32_t nlines;
    char **lines;       /* source lines, with their newline */
    int32_t *regions;   /* SCALENE_REGION_FIELDS per line: start/end region, outermost loop,
                           function, and whether the line is in a coroutine; NULL = none */
    int32_t nqual;      /* (firstlineno, code name) -> qualified name, for 3.9/3.10 */
    int32_t *qual_first;
    char **qual_name;
    char **qual_qualname;
    int32_t nimports;
    char **imports;
} scalene_file_meta_t;

typedef struct {
    int32_t nmeta;      /* top-level keys whose values Python serialised */
    char **meta_keys;
    char **meta_json;
    int32_t nprof;      /* extra keys of the "profiler" object */
    char **prof_keys;
    char **prof_json;
    int32_t nfiles;     /* files to report, in report order */
    scalene_file_meta_t *files;
    int reduced;        /* only lines with activity */
    int leak_detector;  /* report likely leaks per file */
    double elapsed_s;
} scalene_profile_meta_t;

/* Write the profile to `path` (atomically).  Call without the GIL.
 * 0 ok; -1 with a one-line reason in why. */
int scalene_write_profile(const char *path, const scalene_profile_meta_t *meta, char *why, size_t why_len);

#endif
