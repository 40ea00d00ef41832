/* filter.c: see filter.h.  The configuration is owned by the module: it is
 * replaced only with the GIL held while sampling is stopped, and read by the
 * drain (which never runs concurrently with a reconfiguration). */
#include "filter.h"

#include <limits.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
    char **items;
    int n;
} strlist_t;

static char *program_path, *own_dir;
static int profile_all, profile_system_libraries;
static strlist_t only, exclude, system_dirs, decorated;

static void
strlist_free(strlist_t *l)
{
    for (int i = 0; i < l->n; i++) {
        free(l->items[i]);
    }
    free(l->items);
    l->items = NULL;
    l->n = 0;
}

static int
strlist_copy(strlist_t *l, const char *const *src, int n)
{
    strlist_free(l);
    if (n <= 0) {
        return 0;
    }
    l->items = calloc((size_t)n, sizeof(char *));
    if (l->items == NULL) {
        return -1;
    }
    for (int i = 0; i < n; i++) {
        if ((l->items[i] = strdup(src[i])) == NULL) {
            return -1;
        }
        l->n = i + 1;
    }
    return 0;
}

static int
set_string(char **dst, const char *src)
{
    free(*dst);
    *dst = strdup(src ? src : "");
    return *dst ? 0 : -1;
}

int
scalene_filter_configure(const scalene_filter_config_t *cfg)
{
    profile_all = cfg->profile_all;
    profile_system_libraries = cfg->profile_system_libraries;
    if (set_string(&program_path, cfg->program_path) || set_string(&own_dir, cfg->own_dir) ||
        strlist_copy(&only, cfg->only, cfg->n_only) || strlist_copy(&exclude, cfg->exclude, cfg->n_exclude) ||
        strlist_copy(&system_dirs, cfg->system_dirs, cfg->n_system_dirs) ||
        strlist_copy(&decorated, cfg->decorated_files, cfg->n_decorated_files)) {
        return -1;
    }
    return 0;
}

static int
under(const char *path, const char *dir)
{
    size_t n = strlen(dir);
    if (n == 0 || strncmp(path, dir, n) != 0) {
        return 0;
    }
    return dir[n - 1] == '/' || path[n] == '/' || path[n] == '\0';
}

static int
contains_any(const char *path, const strlist_t *l)
{
    for (int i = 0; i < l->n; i++) {
        if (l->items[i][0] != '\0' && strstr(path, l->items[i]) != NULL) {
            return 1;
        }
    }
    return 0;
}

int
scalene_filter_file(const char *filename)
{
    if (filename == NULL || filename[0] == '\0') {
        return 0;
    }
    char resolved[PATH_MAX];
    const char *path = filename;
    if (filename[0] != '<' && realpath(filename, resolved) != NULL) {
        path = resolved;
    }
    if ((own_dir && under(path, own_dir)) || (own_dir && under(filename, own_dir))) {
        return 0;
    }
    if (decorated.n > 0) {
        for (int i = 0; i < decorated.n; i++) {
            if (strcmp(decorated.items[i], filename) == 0 || strcmp(decorated.items[i], path) == 0) {
                return 1;
            }
        }
        return 0;
    }
    if (contains_any(path, &exclude) || contains_any(filename, &exclude)) {
        return 0;
    }
    if (only.n > 0 && !contains_any(path, &only) && !contains_any(filename, &only)) {
        return 0;
    }
    if (filename[0] == '<') {
        /* exec/eval pseudo-files; IPython cells are real files on the IPython
         * versions we support, or "<ipython-input-...>" on old ones. */
        return strncmp(filename, "<ipython-input-", 15) == 0;
    }
    if (profile_all) {
        return 1;
    }
    if (!profile_system_libraries) {
        for (int i = 0; i < system_dirs.n; i++) {
            if (under(path, system_dirs.items[i])) {
                return 0;
            }
        }
    } else {
        for (int i = 0; i < system_dirs.n; i++) {
            if (under(path, system_dirs.items[i])) {
                return 1;
            }
        }
    }
    if (only.n > 0) {
        return 1;
    }
    return program_path && program_path[0] != '\0' && under(path, program_path);
}
