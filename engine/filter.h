/* filter.h: which files' lines are reported (reference section 2.4).
 *
 * Configured from Python (with the GIL, while not sampling); consulted by the
 * drain once per distinct file name. */
#ifndef SCALENE_FILTER_H
#define SCALENE_FILTER_H

typedef struct {
    const char *program_path;       /* directory tree of the program ("" = none) */
    const char *own_dir;            /* the profiler's own package: never reported */
    int profile_all;                /* everything except the profiler itself */
    int profile_system_libraries;   /* include the standard library and site-packages */
    const char *const *only;        /* substrings: report only matching paths (may be empty) */
    int n_only;
    const char *const *exclude;     /* substrings: never report matching paths */
    int n_exclude;
    const char *const *system_dirs; /* stdlib, site-packages, prefixes */
    int n_system_dirs;
    const char *const *decorated_files; /* files holding @profile functions */
    int n_decorated_files;
} scalene_filter_config_t;

/* Copy the configuration (strings duplicated).  0 ok, -1 ENOMEM. */
int scalene_filter_configure(const scalene_filter_config_t *cfg);

/* 1 if lines of this file are reported.  Not signal-safe (realpath). */
int scalene_filter_file(const char *filename);

#endif
