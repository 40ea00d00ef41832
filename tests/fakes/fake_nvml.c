/* tests/fakes/fake_nvml.c -- a fake NVIDIA Management Library for tests.
 *
 * Built as a shared library named libnvidia-ml.so.1 and loaded by the GPU
 * layer (engine/gpu/nvml_poll.c) through SCALENE_NVML_LIBRARY. Implements only
 * the NVML calls that layer uses. Behaviour is set by environment variables,
 * read at nvmlInit_v2:
 *
 *   FAKE_NVML_DEVICES=N          number of devices (default 1; 0 = no device)
 *   FAKE_NVML_UTIL=30,70         device-wide utilisation % per device
 *                                (a short list repeats its last value)
 *   FAKE_NVML_ACCOUNTING=1,0     accounting mode per device (default 0)
 *   FAKE_NVML_ACCT=d:pid:u,...   accounting stats: gpuUtilization u (or "na")
 *                                of pid on device d; pids not listed answer
 *                                NVML_ERROR_NOT_FOUND
 *   FAKE_NVML_PROCS=d:pid:mib,.. compute processes: pid on device d uses mib
 *                                MiB (or "na" = NVML_VALUE_NOT_AVAILABLE)
 *   FAKE_NVML_EXTRA_PROCS=K      K more processes per device (other pids, 1 MiB)
 *   FAKE_NVML_PROC_STRIDE=24     bytes per process entry written: 24
 *                                (nvmlProcessInfo_v2_t, default), 32 (drivers
 *                                535.43-535.86) or 16 (v1 layout)
 *   FAKE_NVML_PID=P              what "self" means in the lists (default getpid())
 *   FAKE_NVML_ERR=fn=code,fn@d=code   fn always returns code (on device d only)
 *   FAKE_NVML_FAIL_AFTER=fn:N:code    fn succeeds N times, then returns code
 *   FAKE_NVML_DELAY_US=us        sleep in every device call
 *   FAKE_NVML_CHECK_SERIAL=1     abort() if two calls overlap in time
 *   FAKE_NVML_LOG=path           append "init", "shutdown", "calls ..." lines
 *
 * fn names: init count handle util acctmode acctstats procs.
 * The library-missing case needs no fake: point SCALENE_NVML_LIBRARY at a
 * path that does not exist.
 * Build with -DFAKE_NO_V3 to leave out nvmlDeviceGetComputeRunningProcesses_v3
 * (an older driver that only has _v2).
 */
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define EXPORT __attribute__((visibility("default")))

typedef int nvmlReturn_t;
#define NVML_SUCCESS 0
#define NVML_ERROR_UNINITIALIZED 1
#define NVML_ERROR_INVALID_ARGUMENT 2
#define NVML_ERROR_NOT_FOUND 6
#define NVML_ERROR_INSUFFICIENT_SIZE 7

typedef struct fake_dev *nvmlDevice_t;
typedef struct { unsigned int gpu, memory; } nvmlUtilization_t;
typedef struct {
    unsigned int gpuUtilization, memoryUtilization;
    unsigned long long maxMemoryUsage, time, startTime;
    unsigned int isRunning, reserved[5];
} nvmlAccountingStats_t;
typedef struct { unsigned int pid; unsigned long long usedGpuMemory; } proc_v1_t;
typedef struct {
    unsigned int pid;
    unsigned long long usedGpuMemory;
    unsigned int gpuInstanceId, computeInstanceId;
} proc_v2_t;
typedef struct {
    unsigned int pid;
    unsigned long long usedGpuMemory;
    unsigned int gpuInstanceId, computeInstanceId;
    unsigned long long usedGpuCcProtectedMemory;
} proc_v3_t;

#define MAXDEV 64
#define MAXENT 8192
#define NA_UINT 0xFFFFFFFFu
#define NA_ULL 0xFFFFFFFFFFFFFFFFull

enum { F_INIT, F_COUNT, F_HANDLE, F_UTIL, F_ACCTMODE, F_ACCTSTATS, F_PROCS, F_N };
static const char *fnames[F_N] = {"init", "count", "handle", "util",
                                  "acctmode", "acctstats", "procs"};

struct fake_dev { int index; };
struct ent { unsigned dev, pid; unsigned long long val; };

static struct {
    int refcount;
    unsigned ndev;
    struct fake_dev devs[MAXDEV];
    unsigned util[MAXDEV];
    int acct[MAXDEV];
    struct ent procs[MAXENT];
    unsigned nprocs;
    struct ent accts[MAXENT];
    unsigned naccts;
    unsigned stride;
    int err_code[F_N];        /* 0 = none */
    int err_dev[F_N];         /* -1 = all devices */
    int fail_fn;              /* -1 = none */
    long fail_after;
    int fail_code;
    long calls[F_N];
    long delay_us;
    int check_serial;
    char log[512];
} S;
static int busy;

static void logf_(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void logf_(const char *fmt, ...)
{
    if (!S.log[0])
        return;
    char line[512];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(line, sizeof line - 1, fmt, ap);
    va_end(ap);
    if (n < 0)
        return;
    if (n > (int)sizeof line - 2)
        n = (int)sizeof line - 2;
    line[n++] = '\n';
    int fd = open(S.log, O_WRONLY | O_CREAT | O_APPEND, 0644);
    if (fd >= 0) {
        ssize_t w = write(fd, line, (size_t)n);
        (void)w;
        close(fd);
    }
}

static int fn_index(const char *s, size_t len)
{
    for (int i = 0; i < F_N; i++)
        if (strlen(fnames[i]) == len && strncmp(s, fnames[i], len) == 0)
            return i;
    return -1;
}

/* Parse a comma-separated list of unsigned ints into out[MAXDEV]; a short list
 * repeats its last value. */
static void parse_list(const char *s, unsigned *out, unsigned dflt)
{
    unsigned v = dflt, i = 0;
    while (s && *s && i < MAXDEV) {
        char *end;
        v = (unsigned)strtoul(s, &end, 10);
        out[i++] = v;
        s = *end == ',' ? end + 1 : NULL;
    }
    for (; i < MAXDEV; i++)
        out[i] = v;
}

static unsigned self_pid(void)
{
    const char *p = getenv("FAKE_NVML_PID");
    return p && *p ? (unsigned)strtoul(p, NULL, 10) : (unsigned)getpid();
}

/* "d:pid:val,..." with pid "self" and val "na". */
static unsigned parse_ents(const char *s, struct ent *out, unsigned cap,
                           unsigned long long scale, unsigned long long na)
{
    unsigned n = 0;
    while (s && *s && n < cap) {
        char *end;
        struct ent e;
        e.dev = (unsigned)strtoul(s, &end, 10);
        if (*end != ':')
            break;
        s = end + 1;
        if (strncmp(s, "self", 4) == 0) {
            e.pid = self_pid();
            end = (char *)s + 4;
        } else {
            e.pid = (unsigned)strtoul(s, &end, 10);
        }
        if (*end != ':')
            break;
        s = end + 1;
        if (strncmp(s, "na", 2) == 0) {
            e.val = na;
            end = (char *)s + 2;
        } else {
            e.val = strtoull(s, &end, 10) * scale;
        }
        out[n++] = e;
        s = *end == ',' ? end + 1 : NULL;
    }
    return n;
}

static void load_config(void)
{
    const char *v;
    memset(S.calls, 0, sizeof S.calls);
    v = getenv("FAKE_NVML_DEVICES");
    S.ndev = v && *v ? (unsigned)strtoul(v, NULL, 10) : 1;
    if (S.ndev > MAXDEV)
        S.ndev = MAXDEV;
    for (unsigned i = 0; i < MAXDEV; i++)
        S.devs[i].index = (int)i;
    parse_list(getenv("FAKE_NVML_UTIL"), S.util, 0);
    unsigned acct[MAXDEV];
    parse_list(getenv("FAKE_NVML_ACCOUNTING"), acct, 0);
    for (unsigned i = 0; i < MAXDEV; i++)
        S.acct[i] = acct[i] != 0;
    S.nprocs = parse_ents(getenv("FAKE_NVML_PROCS"), S.procs, MAXENT,
                          1048576ull, NA_ULL);
    S.naccts = parse_ents(getenv("FAKE_NVML_ACCT"), S.accts, MAXENT, 1, NA_UINT);
    v = getenv("FAKE_NVML_EXTRA_PROCS");
    unsigned extra = v && *v ? (unsigned)strtoul(v, NULL, 10) : 0;
    for (unsigned d = 0; d < S.ndev; d++)
        for (unsigned k = 0; k < extra && S.nprocs < MAXENT; k++)
            S.procs[S.nprocs++] = (struct ent){d, 3000000u + d * 10000u + k,
                                               1048576ull};
    v = getenv("FAKE_NVML_PROC_STRIDE");
    S.stride = v && *v ? (unsigned)strtoul(v, NULL, 10) : 24;
    if (S.stride != 16 && S.stride != 32)
        S.stride = 24;

    for (int i = 0; i < F_N; i++) {
        S.err_code[i] = 0;
        S.err_dev[i] = -1;
    }
    v = getenv("FAKE_NVML_ERR");
    while (v && *v) {
        const char *eq = strchr(v, '=');
        if (!eq)
            break;
        const char *at = memchr(v, '@', (size_t)(eq - v));
        int f = fn_index(v, (size_t)((at ? at : eq) - v));
        char *end;
        long code = strtol(eq + 1, &end, 10);
        if (f >= 0) {
            S.err_code[f] = (int)code;
            S.err_dev[f] = at ? atoi(at + 1) : -1;
        }
        v = *end == ',' ? end + 1 : NULL;
    }
    S.fail_fn = -1;
    v = getenv("FAKE_NVML_FAIL_AFTER");
    if (v && *v) {
        const char *c = strchr(v, ':');
        if (c) {
            S.fail_fn = fn_index(v, (size_t)(c - v));
            char *end;
            S.fail_after = strtol(c + 1, &end, 10);
            S.fail_code = *end == ':' ? atoi(end + 1) : 999;
        }
    }
    v = getenv("FAKE_NVML_DELAY_US");
    S.delay_us = v && *v ? atol(v) : 0;
    v = getenv("FAKE_NVML_CHECK_SERIAL");
    S.check_serial = v && *v == '1';
    v = getenv("FAKE_NVML_LOG");
    snprintf(S.log, sizeof S.log, "%s", v ? v : "");
}

/* Common entry: serial check, delay, injected errors. Returns 0 to proceed. */
static nvmlReturn_t enter(int f, int dev)
{
    if (S.check_serial && __atomic_add_fetch(&busy, 1, __ATOMIC_SEQ_CST) > 1) {
        fprintf(stderr, "fake_nvml: concurrent NVML calls (%s)\n", fnames[f]);
        abort();
    }
    if (S.delay_us > 0) {
        struct timespec ts = {S.delay_us / 1000000, (S.delay_us % 1000000) * 1000};
        nanosleep(&ts, NULL);
    }
    long n = __atomic_add_fetch(&S.calls[f], 1, __ATOMIC_SEQ_CST);
    if (S.err_code[f] && (S.err_dev[f] < 0 || S.err_dev[f] == dev))
        return S.err_code[f];
    if (S.fail_fn == f && n > S.fail_after)
        return S.fail_code;
    return NVML_SUCCESS;
}

static nvmlReturn_t leave(nvmlReturn_t rc)
{
    if (S.check_serial)
        __atomic_sub_fetch(&busy, 1, __ATOMIC_SEQ_CST);
    return rc;
}

static int dev_of(nvmlDevice_t h)
{
    if (!h || h < &S.devs[0] || h >= &S.devs[S.ndev])
        return -1;
    return h->index;
}

EXPORT const char *nvmlErrorString(nvmlReturn_t rc)
{
    switch (rc) {
    case 0: return "Success";
    case 1: return "Uninitialized";
    case 2: return "Invalid Argument";
    case 3: return "Not Supported";
    case 4: return "Insufficient Permissions";
    case 6: return "Not Found";
    case 7: return "Insufficient Size";
    case 9: return "Driver Not Loaded";
    case 15: return "GPU is lost";
    case 999: return "Unknown Error";
    default: return "Fake Error";
    }
}

EXPORT nvmlReturn_t nvmlInit_v2(void)
{
    if (S.refcount == 0)
        load_config();
    nvmlReturn_t rc = enter(F_INIT, -1);
    if (rc == NVML_SUCCESS)
        S.refcount++;
    logf_("init rc=%d refcount=%d", rc, S.refcount);
    return leave(rc);
}

EXPORT nvmlReturn_t nvmlShutdown(void)
{
    if (S.refcount <= 0) {
        logf_("shutdown rc=1 (uninitialized)");
        return NVML_ERROR_UNINITIALIZED;
    }
    S.refcount--;
    logf_("shutdown rc=0 refcount=%d", S.refcount);
    if (S.refcount == 0) {
        char line[256];
        int off = 0;
        for (int i = 0; i < F_N; i++)
            off += snprintf(line + off, sizeof line - (size_t)off, " %s=%ld",
                            fnames[i], S.calls[i]);
        logf_("calls%s", line);
    }
    return NVML_SUCCESS;
}

EXPORT nvmlReturn_t nvmlDeviceGetCount_v2(unsigned int *count)
{
    if (S.refcount <= 0)
        return NVML_ERROR_UNINITIALIZED;
    if (!count)
        return NVML_ERROR_INVALID_ARGUMENT;
    nvmlReturn_t rc = enter(F_COUNT, -1);
    if (rc == NVML_SUCCESS)
        *count = S.ndev;
    return leave(rc);
}

EXPORT nvmlReturn_t nvmlDeviceGetHandleByIndex_v2(unsigned int i, nvmlDevice_t *h)
{
    if (S.refcount <= 0)
        return NVML_ERROR_UNINITIALIZED;
    if (!h || i >= S.ndev)
        return NVML_ERROR_INVALID_ARGUMENT;
    nvmlReturn_t rc = enter(F_HANDLE, (int)i);
    if (rc == NVML_SUCCESS)
        *h = &S.devs[i];
    return leave(rc);
}

EXPORT nvmlReturn_t nvmlDeviceGetUtilizationRates(nvmlDevice_t h, nvmlUtilization_t *u)
{
    int d = dev_of(h);
    if (S.refcount <= 0)
        return NVML_ERROR_UNINITIALIZED;
    if (d < 0 || !u)
        return NVML_ERROR_INVALID_ARGUMENT;
    nvmlReturn_t rc = enter(F_UTIL, d);
    if (rc == NVML_SUCCESS) {
        u->gpu = S.util[d];
        u->memory = S.util[d] / 2;
    }
    return leave(rc);
}

EXPORT nvmlReturn_t nvmlDeviceGetAccountingMode(nvmlDevice_t h, int *mode)
{
    int d = dev_of(h);
    if (S.refcount <= 0)
        return NVML_ERROR_UNINITIALIZED;
    if (d < 0 || !mode)
        return NVML_ERROR_INVALID_ARGUMENT;
    nvmlReturn_t rc = enter(F_ACCTMODE, d);
    if (rc == NVML_SUCCESS)
        *mode = S.acct[d];
    return leave(rc);
}

EXPORT nvmlReturn_t nvmlDeviceGetAccountingStats(nvmlDevice_t h, unsigned int pid,
                                                 nvmlAccountingStats_t *st)
{
    int d = dev_of(h);
    if (S.refcount <= 0)
        return NVML_ERROR_UNINITIALIZED;
    if (d < 0 || !st)
        return NVML_ERROR_INVALID_ARGUMENT;
    nvmlReturn_t rc = enter(F_ACCTSTATS, d);
    if (rc == NVML_SUCCESS) {
        rc = NVML_ERROR_NOT_FOUND;
        for (unsigned i = 0; i < S.naccts; i++)
            if (S.accts[i].dev == (unsigned)d && S.accts[i].pid == pid) {
                memset(st, 0, sizeof *st);
                st->gpuUtilization = (unsigned)S.accts[i].val;
                st->memoryUtilization = 0;
                st->maxMemoryUsage = NA_ULL;
                st->isRunning = 1;
                rc = NVML_SUCCESS;
                break;
            }
    }
    return leave(rc);
}

static nvmlReturn_t procs(nvmlDevice_t h, unsigned int *count, void *infos)
{
    int d = dev_of(h);
    if (S.refcount <= 0)
        return NVML_ERROR_UNINITIALIZED;
    if (d < 0 || !count)
        return NVML_ERROR_INVALID_ARGUMENT;
    nvmlReturn_t rc = enter(F_PROCS, d);
    if (rc != NVML_SUCCESS)
        return leave(rc);
    unsigned n = 0;
    for (unsigned i = 0; i < S.nprocs; i++)
        n += S.procs[i].dev == (unsigned)d;
    if (*count < n) {
        *count = n;
        return leave(NVML_ERROR_INSUFFICIENT_SIZE);
    }
    if (n && !infos)
        return leave(NVML_ERROR_INVALID_ARGUMENT);
    unsigned char *out = infos;
    for (unsigned i = 0; i < S.nprocs; i++) {
        const struct ent *e = &S.procs[i];
        if (e->dev != (unsigned)d)
            continue;
        if (S.stride == 16) {
            proc_v1_t p;
            memset(&p, 0, sizeof p);
            p.pid = e->pid;
            p.usedGpuMemory = e->val;
            memcpy(out, &p, sizeof p);
            out += sizeof p;
        } else if (S.stride == 32) {
            proc_v3_t p;
            memset(&p, 0, sizeof p);
            p.pid = e->pid;
            p.usedGpuMemory = e->val;
            p.gpuInstanceId = p.computeInstanceId = NA_UINT;
            memcpy(out, &p, sizeof p);
            out += sizeof p;
        } else {
            proc_v2_t p;
            memset(&p, 0, sizeof p);
            p.pid = e->pid;
            p.usedGpuMemory = e->val;
            p.gpuInstanceId = p.computeInstanceId = NA_UINT;
            memcpy(out, &p, sizeof p);
            out += sizeof p;
        }
    }
    *count = n;
    return leave(NVML_SUCCESS);
}

#ifndef FAKE_NO_V3
EXPORT nvmlReturn_t nvmlDeviceGetComputeRunningProcesses_v3(nvmlDevice_t h,
                                                            unsigned int *count,
                                                            void *infos)
{
    return procs(h, count, infos);
}
#endif

EXPORT nvmlReturn_t nvmlDeviceGetComputeRunningProcesses_v2(nvmlDevice_t h,
                                                            unsigned int *count,
                                                            void *infos)
{
    return procs(h, count, infos);
}

__attribute__((destructor)) static void fake_unload(void)
{
    logf_("unload refcount=%d", S.refcount);
}
