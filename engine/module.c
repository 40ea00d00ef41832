/* module.c: the Python face of the engine, `scalene._engine`.
 *
 * The engine is process-wide by nature (signals, timers and the threads of
 * the process), so its state lives in the C files behind it, not in module
 * state; the module declares that it does not support sub-interpreters.
 * Every function here is called with the GIL held; none of them is called
 * from a hook.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>

#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>

#include "aggregate.h"
#include "filter.h"
#include "frames.h"
#include "memprof.h"
#include "persist.h"
#include "platform.h"
#include "sampler.h"
#include "writer.h"

#if PY_VERSION_HEX < 0x030A0000
static inline PyObject *
Py_NewRef(PyObject *obj)
{
    Py_INCREF(obj);
    return obj;
}
#endif

static int initialised; /* GIL */

static PyObject *
raise_why(const char *why)
{
    PyErr_SetString(PyExc_RuntimeError, why);
    return NULL;
}

static int
ensure_init(void)
{
    char why[256];
    if (initialised) {
        return 0;
    }
    if (scalene_sampler_init(why, sizeof(why)) != 0 || scalene_agg_init() != 0) {
        raise_why(why);
        return -1;
    }
    initialised = 1;
    return 0;
}

/* A list of str -> a NULL-free array of C strings (strdup'd). */
static int
str_list(PyObject *seq, char ***out, int *n)
{
    *out = NULL;
    *n = 0;
    if (seq == NULL || seq == Py_None) {
        return 0;
    }
    PyObject *fast = PySequence_Fast(seq, "expected a sequence of str");
    if (fast == NULL) {
        return -1;
    }
    Py_ssize_t len = PySequence_Fast_GET_SIZE(fast);
    char **items = calloc((size_t)(len > 0 ? len : 1), sizeof(char *));
    if (items == NULL) {
        Py_DECREF(fast);
        PyErr_NoMemory();
        return -1;
    }
    for (Py_ssize_t i = 0; i < len; i++) {
        PyObject *bytes = PyUnicode_AsEncodedString(PySequence_Fast_GET_ITEM(fast, i), "utf-8", "backslashreplace");
        if (bytes == NULL) {
            goto fail;
        }
        items[i] = strdup(PyBytes_AS_STRING(bytes));
        Py_DECREF(bytes);
        if (items[i] == NULL) {
            PyErr_NoMemory();
            goto fail;
        }
        *n = (int)(i + 1);
    }
    Py_DECREF(fast);
    *out = items;
    return 0;
fail:
    for (Py_ssize_t i = 0; i < len; i++) {
        free(items[i]);
    }
    free(items);
    Py_DECREF(fast);
    *n = 0;
    return -1;
}

static void
free_str_list(char **items, int n)
{
    for (int i = 0; i < n; i++) {
        free(items[i]);
    }
    free(items);
}

/* ------------------------------------------------------------ configure */

static struct {
    int virtual_time;
    double interval_s;
    int signo;
    int gpu;
    int memory;
    uint64_t window, copy_window;
} run_config = {0, 0.01, 0, 0, 0, 0, 0};

static PyObject *
engine_configure(PyObject *self, PyObject *args, PyObject *kw)
{
    (void)self;
    static char *kwlist[] = {"virtual_time", "interval", "signo", "program_path", "own_dir", "profile_all",
                             "profile_system_libraries", "only", "exclude", "system_dirs", "decorated_files",
                             "stacks", "gpu", "memory", "window", "copy_window", NULL};
    int virtual_time = 0, profile_all = 0, profile_system = 0, stacks = 0, signo = 0, gpu = 0, memory = 0;
    unsigned long long window = 0, copy_window = 0;
    double interval = 0.01;
    const char *program_path = "", *own_dir = "";
    PyObject *only = NULL, *exclude = NULL, *system_dirs = NULL, *decorated = NULL;
    if (!PyArg_ParseTupleAndKeywords(args, kw, "|pdissppOOOOpppKK", kwlist, &virtual_time, &interval,
                                     &signo, &program_path, &own_dir, &profile_all, &profile_system, &only,
                                     &exclude, &system_dirs, &decorated, &stacks, &gpu, &memory, &window,
                                     &copy_window)) {
        return NULL;
    }
    if (scalene_sampler_running()) {
        return raise_why("cannot reconfigure while sampling");
    }
    if (!(interval > 0 && interval < 1000)) {
        PyErr_SetString(PyExc_ValueError, "sampling interval must be a positive number of seconds");
        return NULL;
    }
    if (ensure_init() != 0) {
        return NULL;
    }
    char **l_only = NULL, **l_exclude = NULL, **l_system = NULL, **l_decorated = NULL;
    int n_only = 0, n_exclude = 0, n_system = 0, n_decorated = 0;
    PyObject *result = NULL;
    if (str_list(only, &l_only, &n_only) || str_list(exclude, &l_exclude, &n_exclude) ||
        str_list(system_dirs, &l_system, &n_system) || str_list(decorated, &l_decorated, &n_decorated)) {
        goto done;
    }
    scalene_filter_config_t fc = {
        .program_path = program_path,
        .own_dir = own_dir,
        .profile_all = profile_all,
        .profile_system_libraries = profile_system,
        .only = (const char *const *)l_only,
        .n_only = n_only,
        .exclude = (const char *const *)l_exclude,
        .n_exclude = n_exclude,
        .system_dirs = (const char *const *)l_system,
        .n_system_dirs = n_system,
        .decorated_files = (const char *const *)l_decorated,
        .n_decorated_files = n_decorated,
    };
    if (scalene_filter_configure(&fc) != 0) {
        PyErr_NoMemory();
        goto done;
    }
    run_config.virtual_time = virtual_time;
    run_config.gpu = gpu;
    run_config.memory = memory;
    run_config.window = window;
    run_config.copy_window = copy_window;
    run_config.interval_s = interval;
    run_config.signo = signo > 0 ? signo : SIGRTMIN + 6;
    if (run_config.signo > SIGRTMAX) {
        run_config.signo = SIGRTMAX;
    }
    scalene_agg_set_collect_stacks(stacks);
    result = Py_NewRef(Py_None);
done:
    free_str_list(l_only, n_only);
    free_str_list(l_exclude, n_exclude);
    free_str_list(l_system, n_system);
    free_str_list(l_decorated, n_decorated);
    return result;
}

static PyObject *
engine_set_call_opcodes(PyObject *self, PyObject *arg)
{
    (void)self;
    if (!PyBytes_Check(arg)) {
        PyErr_SetString(PyExc_TypeError, "expected bytes");
        return NULL;
    }
    scalene_sampler_set_call_opcodes((const unsigned char *)PyBytes_AS_STRING(arg), (int)PyBytes_GET_SIZE(arg));
    Py_RETURN_NONE;
}

/* ------------------------------------------------------------ lifecycle */

static PyObject *
engine_start(PyObject *self, PyObject *noargs)
{
    (void)self;
    (void)noargs;
    char why[256];
    if (ensure_init() != 0) {
        return NULL;
    }
    if (scalene_sampler_running()) {
        Py_RETURN_NONE;
    }
    if (run_config.signo == 0) {
        run_config.signo = SIGRTMIN + 6;
    }
    scalene_sampler_register_thread(scalene_gettid(), PyThread_get_thread_ident());
    if (scalene_agg_start_drainer() != 0) {
        return raise_why("cannot start the drain thread");
    }
    scalene_sampler_config_t cfg = {
        .virtual_time = run_config.virtual_time,
        .interval_ns = (int64_t)(run_config.interval_s * 1e9),
        .signo = run_config.signo,
        .gpu = run_config.gpu,
    };
    if (scalene_sampler_start(&cfg, scalene_agg_wake_drainer, why, sizeof(why)) != 0) {
        scalene_agg_stop_drainer();
        return raise_why(why);
    }
    if (run_config.memory) {
        scalene_memprof_config_t mc = {.window = run_config.window, .copy_window = run_config.copy_window};
        if (scalene_memprof_start(&mc, scalene_now_ns(), why, sizeof(why)) != 0) {
            scalene_sampler_stop();
            scalene_agg_stop_drainer();
            PyErr_Format(PyExc_RuntimeError, "memory profiling could not start: %s", why);
            return NULL;
        }
    }
    Py_RETURN_NONE;
}

static PyObject *
engine_stop(PyObject *self, PyObject *noargs)
{
    (void)self;
    (void)noargs;
    if (!initialised) {
        Py_RETURN_NONE;
    }
    scalene_memprof_stop();
    scalene_sampler_stop();
    scalene_agg_stop_drainer();
    scalene_agg_drain(1);
    Py_RETURN_NONE;
}

static PyObject *
engine_is_running(PyObject *self, PyObject *noargs)
{
    (void)self;
    (void)noargs;
    return PyBool_FromLong(scalene_sampler_running());
}

static PyObject *
engine_reset(PyObject *self, PyObject *noargs)
{
    (void)self;
    (void)noargs;
    if (ensure_init() != 0) {
        return NULL;
    }
    if (scalene_sampler_running()) {
        return raise_why("cannot reset while sampling");
    }
    scalene_agg_reset();
    scalene_sampler_reset_counters();
    Py_RETURN_NONE;
}

static PyObject *
engine_drain(PyObject *self, PyObject *noargs)
{
    (void)self;
    (void)noargs;
    if (initialised) {
        scalene_agg_drain(1);
    }
    Py_RETURN_NONE;
}

/* ------------------------------------------------------------- threads */

static PyObject *
engine_register_thread(PyObject *self, PyObject *args)
{
    (void)self;
    int tid = 0;
    unsigned long ident = 0;
    if (!PyArg_ParseTuple(args, "|ik", &tid, &ident)) {
        return NULL;
    }
    if (ensure_init() != 0) {
        return NULL;
    }
    if (tid == 0) {
        tid = scalene_gettid();
        ident = PyThread_get_thread_ident();
    }
    return PyLong_FromLong(scalene_sampler_register_thread(tid, ident));
}

static PyObject *
engine_unregister_thread(PyObject *self, PyObject *args)
{
    (void)self;
    int tid = 0;
    if (!PyArg_ParseTuple(args, "|i", &tid)) {
        return NULL;
    }
    if (initialised) {
        scalene_sampler_unregister_thread(tid ? tid : scalene_gettid());
    }
    Py_RETURN_NONE;
}

static PyObject *
engine_add_profiled_range(PyObject *self, PyObject *args)
{
    (void)self;
    const char *filename;
    int first, last;
    if (!PyArg_ParseTuple(args, "sii", &filename, &first, &last)) {
        return NULL;
    }
    if (ensure_init() != 0) {
        return NULL;
    }
    if (scalene_agg_add_range(filename, first, last) != 0) {
        return PyErr_NoMemory();
    }
    Py_RETURN_NONE;
}

/* ------------------------------------------------------------ reading */

static PyObject *
engine_files(PyObject *self, PyObject *noargs)
{
    (void)self;
    (void)noargs;
    PyObject *list = PyList_New(0);
    if (list == NULL || !initialised) {
        return list;
    }
    /* Copy under the table lock (taken without the GIL), build objects after. */
    typedef struct {
        char *name;
        double seconds;
        int traced;
        uint64_t samples;
        double malloc_mb;
        uint64_t mallocs;
    } row_t;
    row_t *rows = NULL;
    int32_t n = 0;
    Py_BEGIN_ALLOW_THREADS scalene_agg_lock();
    scalene_tables_t *t = &scalene_tables;
    rows = calloc((size_t)(t->nfiles > 0 ? t->nfiles : 1), sizeof(row_t));
    for (int32_t i = 0; rows != NULL && i < t->nfiles; i++) {
        const scalene_cpu_totals_t *c = &t->files[i].cpu;
        if (c->samples == 0 && c->await_s == 0 && t->files[i].malloc_b == 0 && t->files[i].ranges == NULL) {
            continue;
        }
        rows[n].name = strdup(scalene_strings_get(&t->strings, t->files[i].name));
        rows[n].seconds = c->python_s + c->native_s + c->system_s;
        rows[n].traced = t->files[i].traced;
        rows[n].samples = c->samples;
        rows[n].malloc_mb = t->files[i].malloc_b / (1024.0 * 1024.0);
        rows[n].mallocs = t->files[i].mallocs;
        n++;
    }
    scalene_agg_unlock();
    Py_END_ALLOW_THREADS if (rows == NULL)
    {
        Py_DECREF(list);
        return PyErr_NoMemory();
    }
    for (int32_t i = 0; i < n; i++) {
        PyObject *item = Py_BuildValue("(sdiKdK)", rows[i].name ? rows[i].name : "", rows[i].seconds,
                                       rows[i].traced, (unsigned long long)rows[i].samples, rows[i].malloc_mb,
                                       (unsigned long long)rows[i].mallocs);
        free(rows[i].name);
        if (item == NULL || PyList_Append(list, item) != 0) {
            Py_XDECREF(item);
            Py_CLEAR(list);
            for (int32_t j = i + 1; j < n; j++) {
                free(rows[j].name);
            }
            break;
        }
        Py_DECREF(item);
    }
    free(rows);
    return list;
}

static PyObject *
engine_counters(PyObject *self, PyObject *noargs)
{
    (void)self;
    (void)noargs;
    scalene_sampler_counters_t k;
    scalene_sampler_counters(&k);
    double total = 0, unattributed = 0;
    unsigned long long samples = 0, unattributed_samples = 0;
    if (initialised) {
        Py_BEGIN_ALLOW_THREADS scalene_agg_lock();
        total = scalene_tables.total_s;
        unattributed = scalene_tables.unattributed_s;
        samples = scalene_tables.samples;
        unattributed_samples = scalene_tables.unattributed_samples;
        scalene_agg_unlock();
        Py_END_ALLOW_THREADS
    }
    return Py_BuildValue("{sKsKsKsKsKsKsKsdsd}", "cpu_samples", (unsigned long long)k.cpu_samples, "idle_samples",
                         (unsigned long long)k.idle_samples, "dropped_samples",
                         (unsigned long long)k.dropped_samples, "timer_failures",
                         (unsigned long long)k.timer_failures, "threads_seen",
                         (unsigned long long)scalene_sampler_threads_seen(), "attributed_samples", samples,
                         "unattributed_samples", unattributed_samples, "total_sec", total, "unattributed_sec",
                         unattributed);
}

/* ------------------------------------------------------------- writing */

static void
free_profile_meta(scalene_profile_meta_t *m)
{
    free_str_list(m->meta_keys, m->nmeta);
    free_str_list(m->meta_json, m->nmeta);
    free_str_list(m->prof_keys, m->nprof);
    free_str_list(m->prof_json, m->nprof);
    for (int32_t i = 0; m->files != NULL && i < m->nfiles; i++) {
        scalene_file_meta_t *f = &m->files[i];
        free(f->name);
        free_str_list(f->lines, f->nlines);
        free(f->regions);
        free(f->qual_first);
        free_str_list(f->qual_name, f->nqual);
        free_str_list(f->qual_qualname, f->nqual);
        free_str_list(f->imports, f->nimports);
    }
    free(m->files);
}

static int
dict_snippets(PyObject *dict, char ***keys, char ***values, int32_t *n)
{
    *keys = NULL;
    *values = NULL;
    *n = 0;
    if (dict == NULL || dict == Py_None) {
        return 0;
    }
    if (!PyDict_Check(dict)) {
        PyErr_SetString(PyExc_TypeError, "expected a dict of JSON snippets");
        return -1;
    }
    PyObject *k = PyDict_Keys(dict), *v = PyDict_Values(dict);
    int nk = 0, nv = 0;
    int rc = (k && v && str_list(k, keys, &nk) == 0 && str_list(v, values, &nv) == 0) ? 0 : -1;
    Py_XDECREF(k);
    Py_XDECREF(v);
    *n = nk;
    return rc;
}

static int
file_meta_from(PyObject *d, scalene_file_meta_t *f)
{
    if (!PyDict_Check(d)) {
        PyErr_SetString(PyExc_TypeError, "file entries must be dicts");
        return -1;
    }
    PyObject *name = PyDict_GetItemString(d, "name");
    if (name == NULL || !PyUnicode_Check(name)) {
        PyErr_SetString(PyExc_TypeError, "file entry without a name");
        return -1;
    }
    PyObject *bytes = PyUnicode_AsEncodedString(name, "utf-8", "backslashreplace");
    if (bytes == NULL) {
        return -1;
    }
    f->name = strdup(PyBytes_AS_STRING(bytes));
    Py_DECREF(bytes);
    int n = 0;
    if (str_list(PyDict_GetItemString(d, "lines"), &f->lines, &n) != 0) {
        return -1;
    }
    f->nlines = n;
    if (str_list(PyDict_GetItemString(d, "imports"), &f->imports, &n) != 0) {
        return -1;
    }
    f->nimports = n;
    PyObject *regions = PyDict_GetItemString(d, "regions");
    if (regions != NULL && regions != Py_None) {
        PyObject *fast = PySequence_Fast(regions, "regions must be a sequence");
        if (fast == NULL) {
            return -1;
        }
        Py_ssize_t len = PySequence_Fast_GET_SIZE(fast);
        if (len == f->nlines) {
            f->regions = calloc((size_t)(len > 0 ? len : 1) * SCALENE_REGION_FIELDS, sizeof(int32_t));
            for (Py_ssize_t i = 0; f->regions && i < len; i++) {
                PyObject *r = PySequence_Fast_GET_ITEM(fast, i);
                int v[SCALENE_REGION_FIELDS];
                if (!PyArg_ParseTuple(r, "iiiiiii", &v[0], &v[1], &v[2], &v[3], &v[4], &v[5], &v[6])) {
                    Py_DECREF(fast);
                    return -1;
                }
                memcpy(&f->regions[SCALENE_REGION_FIELDS * i], v, sizeof(v));
            }
        }
        Py_DECREF(fast);
    }
    PyObject *qual = PyDict_GetItemString(d, "qualnames");
    if (qual != NULL && qual != Py_None) {
        PyObject *fast = PySequence_Fast(qual, "qualnames must be a sequence");
        if (fast == NULL) {
            return -1;
        }
        Py_ssize_t len = PySequence_Fast_GET_SIZE(fast);
        f->qual_first = calloc((size_t)(len > 0 ? len : 1), sizeof(int32_t));
        f->qual_name = calloc((size_t)(len > 0 ? len : 1), sizeof(char *));
        f->qual_qualname = calloc((size_t)(len > 0 ? len : 1), sizeof(char *));
        for (Py_ssize_t i = 0; i < len; i++) {
            int first;
            const char *nm, *qn;
            if (!PyArg_ParseTuple(PySequence_Fast_GET_ITEM(fast, i), "iss", &first, &nm, &qn)) {
                Py_DECREF(fast);
                return -1;
            }
            f->qual_first[i] = first;
            f->qual_name[i] = strdup(nm);
            f->qual_qualname[i] = strdup(qn);
            f->nqual = (int32_t)(i + 1);
        }
        Py_DECREF(fast);
    }
    return 0;
}

static PyObject *
engine_write_profile(PyObject *self, PyObject *args, PyObject *kw)
{
    (void)self;
    static char *kwlist[] = {"path", "meta", "profiler", "files", "reduced", "elapsed", "leak_detector", NULL};
    const char *path;
    PyObject *meta = NULL, *profiler = NULL, *files = NULL;
    int reduced = 0, leak_detector = 0;
    double elapsed = 0;
    if (!PyArg_ParseTupleAndKeywords(args, kw, "sOOO|pdp", kwlist, &path, &meta, &profiler, &files, &reduced,
                                     &elapsed, &leak_detector)) {
        return NULL;
    }
    if (ensure_init() != 0) {
        return NULL;
    }
    scalene_profile_meta_t m;
    memset(&m, 0, sizeof(m));
    m.reduced = reduced;
    m.elapsed_s = elapsed;
    m.leak_detector = leak_detector;
    PyObject *result = NULL;
    PyObject *fast = NULL;
    if (dict_snippets(meta, &m.meta_keys, &m.meta_json, &m.nmeta) != 0 ||
        dict_snippets(profiler, &m.prof_keys, &m.prof_json, &m.nprof) != 0) {
        goto done;
    }
    fast = PySequence_Fast(files, "files must be a sequence");
    if (fast == NULL) {
        goto done;
    }
    Py_ssize_t nfiles = PySequence_Fast_GET_SIZE(fast);
    m.files = calloc((size_t)(nfiles > 0 ? nfiles : 1), sizeof(scalene_file_meta_t));
    if (m.files == NULL) {
        PyErr_NoMemory();
        goto done;
    }
    for (Py_ssize_t i = 0; i < nfiles; i++) {
        m.nfiles = (int32_t)(i + 1);
        if (file_meta_from(PySequence_Fast_GET_ITEM(fast, i), &m.files[i]) != 0) {
            goto done;
        }
    }
    scalene_agg_drain(1);
    char why[512];
    int rc;
    Py_BEGIN_ALLOW_THREADS rc = scalene_write_profile(path, &m, why, sizeof(why));
    Py_END_ALLOW_THREADS if (rc != 0)
    {
        PyErr_SetString(PyExc_OSError, why);
        goto done;
    }
    result = Py_NewRef(Py_None);
done:
    Py_XDECREF(fast);
    free_profile_meta(&m);
    return result;
}

/* asyncio: the Python function that lists an event loop's suspended tasks
 * (profiler.py), called by the drain with the GIL held. */
static PyObject *async_callback; /* GIL */

static int
async_hook(unsigned long ident, scalene_async_task_t *out, int max)
{
    if (async_callback == NULL) {
        return 0;
    }
    PyObject *type, *value, *traceback;
    PyErr_Fetch(&type, &value, &traceback);
    PyObject *result = PyObject_CallFunction(async_callback, "k", ident);
    int n = 0;
    if (result != NULL && PyList_Check(result)) {
        for (Py_ssize_t i = 0; i < PyList_GET_SIZE(result) && n < max; i++) {
            PyObject *chain = PyList_GET_ITEM(result, i);
            if (!PyList_Check(chain)) {
                continue;
            }
            scalene_async_task_t *task = &out[n];
            task->depth = 0;
            for (Py_ssize_t j = 0; j < PyList_GET_SIZE(chain) && task->depth < SCALENE_ASYNC_MAX_DEPTH; j++) {
                const char *filename;
                int lineno;
                if (!PyArg_ParseTuple(PyList_GET_ITEM(chain, j), "si", &filename, &lineno)) {
                    PyErr_Clear();
                    continue;
                }
                snprintf(task->filename[task->depth], sizeof(task->filename[0]), "%s", filename);
                task->lineno[task->depth] = lineno;
                task->depth++;
            }
            n++;
        }
    }
    Py_XDECREF(result);
    PyErr_Clear(); /* never raise from the drain */
    PyErr_Restore(type, value, traceback);
    return n;
}

static PyObject *
engine_set_async_callback(PyObject *self, PyObject *fn)
{
    (void)self;
    if (fn != Py_None && !PyCallable_Check(fn)) {
        PyErr_SetString(PyExc_TypeError, "expected a callable or None");
        return NULL;
    }
    Py_XDECREF(async_callback);
    async_callback = fn == Py_None ? NULL : Py_NewRef(fn);
    scalene_agg_async_hook = async_callback ? async_hook : NULL;
    Py_RETURN_NONE;
}

/* Run a file operation of the persistence layer without the GIL; errors
 * become `exc_type`. */
static PyObject *
path_op(PyObject *args, int (*op)(const char *, char *, size_t), PyObject *exc_type, int drain_first)
{
    const char *path;
    if (!PyArg_ParseTuple(args, "s", &path)) {
        return NULL;
    }
    if (ensure_init() != 0) {
        return NULL;
    }
    if (drain_first) {
        scalene_agg_drain(1);
    }
    char why[512];
    int rc;
    Py_BEGIN_ALLOW_THREADS rc = op(path, why, sizeof(why));
    Py_END_ALLOW_THREADS if (rc != 0)
    {
        PyErr_SetString(exc_type, why);
        return NULL;
    }
    Py_RETURN_NONE;
}

/* dump(path): this process's tables, for the parent to merge (child processes). */
static PyObject *
engine_dump(PyObject *self, PyObject *args)
{
    (void)self;
    return path_op(args, scalene_persist_dump, PyExc_OSError, 1);
}

/* merge(path): add a child's dumped tables to ours. */
static PyObject *
engine_merge(PyObject *self, PyObject *args)
{
    (void)self;
    return path_op(args, scalene_persist_merge, PyExc_ValueError, 0);
}

static PyObject *
engine_gpu_info(PyObject *self, PyObject *noargs)
{
    (void)self;
    (void)noargs;
    scalene_gpu_info_t info;
    scalene_sampler_gpu_info(&info);
    return Py_BuildValue("{sisisiss}", "available", info.available, "ndevices", info.ndevices, "per_process",
                         info.per_process, "why", info.why);
}

static PyObject *
engine_frames_version(PyObject *self, PyObject *noargs)
{
    (void)self;
    (void)noargs;
    return PyLong_FromLong(scalene_frames_minor_version());
}

/* -------------------------------------------------------------- module */

static PyMethodDef engine_methods[] = {
    {"configure", (PyCFunction)(void (*)(void))engine_configure, METH_VARARGS | METH_KEYWORDS,
     "configure(**options): sampling mode, interval, signal and file selection."},
    {"set_call_opcodes", engine_set_call_opcodes, METH_O, "set_call_opcodes(flags: bytes[256])."},
    {"start", engine_start, METH_NOARGS, "Start sampling (registers the calling thread)."},
    {"stop", engine_stop, METH_NOARGS, "Stop sampling and drain every pending sample."},
    {"is_running", engine_is_running, METH_NOARGS, "True while sampling."},
    {"reset", engine_reset, METH_NOARGS, "Forget all totals (while stopped)."},
    {"drain", engine_drain, METH_NOARGS, "Aggregate pending samples now."},
    {"register_thread", engine_register_thread, METH_VARARGS,
     "register_thread([tid, ident]): sample this thread (default: the calling thread)."},
    {"unregister_thread", engine_unregister_thread, METH_VARARGS, "unregister_thread([tid])."},
    {"add_profiled_range", engine_add_profiled_range, METH_VARARGS,
     "add_profiled_range(filename, first, last): report only these lines of that file (@profile)."},
    {"files", engine_files, METH_NOARGS,
     "[(filename, seconds, traced, samples, malloc_mb, mallocs)] for files with samples."},
    {"counters", engine_counters, METH_NOARGS, "Sampler and aggregator counters."},
    {"write_profile", (PyCFunction)(void (*)(void))engine_write_profile, METH_VARARGS | METH_KEYWORDS,
     "write_profile(path, meta, profiler, files, reduced=False): write the JSON profile atomically."},
    {"set_async_callback", engine_set_async_callback, METH_O,
     "set_async_callback(fn): fn(thread_ident) -> suspended tasks' await chains, or None to stop."},
    {"dump", engine_dump, METH_VARARGS, "dump(path): write this process's tables for a parent to merge."},
    {"merge", engine_merge, METH_VARARGS, "merge(path): add a child process's dumped tables to ours."},
    {"gpu_info", engine_gpu_info, METH_NOARGS, "What the GPU layer reported when sampling started."},
    {"frames_version", engine_frames_version, METH_NOARGS, "The CPython minor version frames are read for."},
    {NULL, NULL, 0, NULL},
};

static void
after_fork_child(void)
{
    /* The sampler and drain threads do not exist in the child and POSIX
     * timers are not inherited: the child starts with profiling off. */
    scalene_sampler_after_fork_child();
    scalene_persist_after_fork_child();
    scalene_agg_after_fork_child();
}

static int
engine_exec(PyObject *module)
{
    static int atfork_done;
    if (!atfork_done) {
        pthread_atfork(NULL, NULL, after_fork_child);
        atfork_done = 1;
        scalene_sampler_install_fault_guard();
    }
    if (PyModule_AddIntConstant(module, "MAX_FRAMES", SCALENE_MAX_FRAMES) != 0) {
        return -1;
    }
    return PyModule_AddIntConstant(module, "DEFAULT_SIGNAL", SIGRTMIN + 6);
}

static PyModuleDef_Slot engine_slots[] = {
    {Py_mod_exec, engine_exec},
#if PY_VERSION_HEX >= 0x030C0000
    {Py_mod_multiple_interpreters, Py_MOD_MULTIPLE_INTERPRETERS_NOT_SUPPORTED},
#endif
#if PY_VERSION_HEX >= 0x030D0000
    {Py_mod_gil, Py_MOD_GIL_USED},
#endif
    {0, NULL},
};

static struct PyModuleDef engine_module = {
    PyModuleDef_HEAD_INIT,
    .m_name = "scalene._engine",
    .m_doc = "The C engine of the scalene profiler: sampling, aggregation and the profile file.",
    .m_size = 0,
    .m_methods = engine_methods,
    .m_slots = engine_slots,
};

PyMODINIT_FUNC
PyInit__engine(void)
{
    return PyModuleDef_Init(&engine_module);
}
