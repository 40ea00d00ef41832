/* engine/gpu/nvml_poll.c -- NVIDIA GPU sampling through NVML, loaded at run
 * time with dlopen(). Contract and semantics: gpu.h. Design notes: docs/gpu.md.
 *
 * No NVIDIA header is used: the few NVML types needed are declared below from
 * the public NVML API reference (ABI: plain C, x86-64/aarch64 LP64).
 */
#include "gpu.h"

#include <dlfcn.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

/* ---- NVML declarations (subset) ----------------------------------------- */

typedef int nvmlReturn_t; /* C enum: int-sized */
enum {
    NVML_SUCCESS = 0,
    NVML_ERROR_UNINITIALIZED = 1,
    NVML_ERROR_INVALID_ARGUMENT = 2,
    NVML_ERROR_NOT_SUPPORTED = 3,
    NVML_ERROR_NO_PERMISSION = 4,
    NVML_ERROR_ALREADY_INITIALIZED = 5,
    NVML_ERROR_NOT_FOUND = 6,
    NVML_ERROR_INSUFFICIENT_SIZE = 7,
    NVML_ERROR_INSUFFICIENT_POWER = 8,
    NVML_ERROR_DRIVER_NOT_LOADED = 9,
    NVML_ERROR_TIMEOUT = 10,
    NVML_ERROR_IRQ_ISSUE = 11,
    NVML_ERROR_LIBRARY_NOT_FOUND = 12,
    NVML_ERROR_FUNCTION_NOT_FOUND = 13,
    NVML_ERROR_CORRUPTED_INFOROM = 14,
    NVML_ERROR_GPU_IS_LOST = 15,
    NVML_ERROR_RESET_REQUIRED = 16,
    NVML_ERROR_OPERATING_SYSTEM = 17,
    NVML_ERROR_LIB_RM_VERSION_MISMATCH = 18,
    NVML_ERROR_IN_USE = 19,
    NVML_ERROR_MEMORY = 20,
    NVML_ERROR_NO_DATA = 21,
    NVML_ERROR_UNKNOWN = 999
};

typedef int nvmlEnableState_t;
enum { NVML_FEATURE_DISABLED = 0, NVML_FEATURE_ENABLED = 1 };

typedef struct nvmlDevice_st *nvmlDevice_t;

typedef struct {
    unsigned int gpu;    /* percent of time a kernel was running, last period */
    unsigned int memory; /* percent of time device memory was read/written */
} nvmlUtilization_t;

typedef struct {
    unsigned int gpuUtilization; /* lifetime average, percent */
    unsigned int memoryUtilization;
    unsigned long long maxMemoryUsage;
    unsigned long long time;
    unsigned long long startTime;
    unsigned int isRunning;
    unsigned int reserved[5];
} nvmlAccountingStats_t;

/* Process entry of nvmlDeviceGetComputeRunningProcesses_v3/_v2
 * (nvmlProcessInfo_v2_t, 24 bytes: pid, 4 bytes padding, usedGpuMemory,
 * gpuInstanceId, computeInstanceId). Drivers 535.43..535.86 wrote a 32-byte
 * entry from the same _v3 entry point (extra usedGpuCcProtectedMemory), so
 * the buffer is sized for 32-byte slots and the real stride is detected (see
 * procs_stride()). In every known layout, pid is at offset 0 and
 * usedGpuMemory at offset 8. */
#define PROC_SLOT 32u
#define PROC_OFF_PID 0u
#define PROC_OFF_MEM 8u

#define NVML_VALUE_NOT_AVAILABLE_UINT 0xFFFFFFFFu
#define NVML_VALUE_NOT_AVAILABLE_ULL 0xFFFFFFFFFFFFFFFFull

typedef nvmlReturn_t (*fn_init_t)(void);
typedef nvmlReturn_t (*fn_shutdown_t)(void);
typedef const char *(*fn_errstr_t)(nvmlReturn_t);
typedef nvmlReturn_t (*fn_count_t)(unsigned int *);
typedef nvmlReturn_t (*fn_handle_t)(unsigned int, nvmlDevice_t *);
typedef nvmlReturn_t (*fn_util_t)(nvmlDevice_t, nvmlUtilization_t *);
typedef nvmlReturn_t (*fn_acctmode_t)(nvmlDevice_t, nvmlEnableState_t *);
typedef nvmlReturn_t (*fn_acctstats_t)(nvmlDevice_t, unsigned int,
                                       nvmlAccountingStats_t *);
typedef nvmlReturn_t (*fn_procs_t)(nvmlDevice_t, unsigned int *, void *);

/* ---- state --------------------------------------------------------------- */

#define MAX_DEVICES 64
#define PROCS_INITIAL_CAP 64u
#define PROCS_MAX_CAP (1u << 20)
#define PROCS_MAX_RETRIES 4
#define FILL_BYTE 0xA5
#define DEFAULT_MEM_INTERVAL_MS 100

static pthread_mutex_t g_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_once_t g_atfork_once = PTHREAD_ONCE_INIT;

static struct {
    void *lib;          /* dlopen handle, NULL when closed */
    int nvml_inited;    /* nvmlInit_v2 succeeded, nvmlShutdown owed */
    scalene_gpu_info_t info;

    fn_init_t init;
    fn_shutdown_t shutdown;
    fn_errstr_t errstr;
    fn_count_t count;
    fn_handle_t handle;
    fn_util_t util;
    fn_acctmode_t acctmode;
    fn_acctstats_t acctstats;
    fn_procs_t procs;
    const char *procs_name;

    unsigned ndev;
    nvmlDevice_t dev[MAX_DEVICES];
    unsigned dev_index[MAX_DEVICES]; /* NVML index of dev[i] */
    unsigned char util_ok[MAX_DEVICES];
    unsigned char procs_ok[MAX_DEVICES];
    unsigned nprocs_ok;
    unsigned nutil_ok;

    unsigned char *procbuf; /* cap slots of PROC_SLOT bytes */
    unsigned proccap;
    unsigned stride; /* 0 = not yet known */

    int64_t mem_interval_ns;
    int mem_valid;
    unsigned mem_pid;
    int64_t mem_last_ns;
    double mem_mb;
} G;

/* ---- helpers --------------------------------------------------------------- */

static void atfork_prepare(void) { pthread_mutex_lock(&g_lock); }
static void atfork_release(void) { pthread_mutex_unlock(&g_lock); }
static void register_atfork(void)
{
    (void)pthread_atfork(atfork_prepare, atfork_release, atfork_release);
}

static void set_why(char *why, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
static void set_why(char *why, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(why, sizeof(((scalene_gpu_info_t *)0)->why), fmt, ap);
    va_end(ap);
}

/* Degradation reasons found by open(), one per kind (the first device that
 * shows it), joined into info.why in order of severity by finish_why(). */
enum { WHY_SKIP, WHY_UTIL, WHY_PROCS, WHY_ACCT, WHY_N };
static char g_whybuf[WHY_N][sizeof(((scalene_gpu_info_t *)0)->why)];

static void degrade(int kind, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
static void degrade(int kind, const char *fmt, ...)
{
    if (g_whybuf[kind][0])
        return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(g_whybuf[kind], sizeof g_whybuf[kind], fmt, ap);
    va_end(ap);
}

static void finish_why(char *why, size_t size)
{
    size_t off = 0;
    why[0] = 0;
    for (int k = 0; k < WHY_N; k++) {
        if (!g_whybuf[k][0])
            continue;
        int n = snprintf(why + off, size - off, "%s%s", off ? "; " : "",
                         g_whybuf[k]);
        if (n < 0 || (size_t)n >= size - off)
            break; /* truncated: keep what fits */
        off += (size_t)n;
    }
}

static const char *err_str(nvmlReturn_t rc)
{
    if (G.errstr) {
        const char *s = G.errstr(rc);
        if (s)
            return s;
    }
    switch (rc) {
    case NVML_SUCCESS: return "Success";
    case NVML_ERROR_UNINITIALIZED: return "Uninitialized";
    case NVML_ERROR_INVALID_ARGUMENT: return "Invalid Argument";
    case NVML_ERROR_NOT_SUPPORTED: return "Not Supported";
    case NVML_ERROR_NO_PERMISSION: return "Insufficient Permissions";
    case NVML_ERROR_NOT_FOUND: return "Not Found";
    case NVML_ERROR_INSUFFICIENT_SIZE: return "Insufficient Size";
    case NVML_ERROR_DRIVER_NOT_LOADED: return "Driver Not Loaded";
    case NVML_ERROR_GPU_IS_LOST: return "GPU is lost";
    default: return "Unknown Error";
    }
}

static int64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static void copy_info(scalene_gpu_info_t *out)
{
    if (out)
        *out = G.info;
}

/* Shut NVML down, unload it, free the buffer; G is left all zero. Lock held. */
static void teardown(void)
{
    if (G.nvml_inited && G.shutdown)
        (void)G.shutdown();
    if (G.lib)
        dlclose(G.lib);
    free(G.procbuf);
    memset(&G, 0, sizeof G);
}

/* Fail open(): keep the reason, release everything. Lock held. */
static int open_fail(int rc, scalene_gpu_info_t *info, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static int open_fail(int rc, scalene_gpu_info_t *info, const char *fmt, ...)
{
    scalene_gpu_info_t keep;
    memset(&keep, 0, sizeof keep);
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(keep.why, sizeof keep.why, fmt, ap);
    va_end(ap);
    teardown();
    G.info = keep;
    copy_info(info);
    return rc;
}

/* Mark the layer unavailable after a failure mid-run. Lock held. */
static int sample_fail(int rc, scalene_gpu_info_t *info, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static int sample_fail(int rc, scalene_gpu_info_t *info, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(G.info.why, sizeof G.info.why, fmt, ap);
    va_end(ap);
    G.info.available = 0;
    copy_info(info);
    return rc;
}

/* Infer the entry stride NVML used from how far it wrote into a buffer
 * pre-filled with FILL_BYTE. Returns 16, 24 or 32, or 0 if undecidable. The
 * last byte of every known layout (high byte of usedGpuMemory,
 * computeInstanceId or usedGpuCcProtectedMemory) is 0x00 or 0xFF in practice,
 * never FILL_BYTE, so the written extent is exactly n * stride. */
static unsigned procs_stride(unsigned n)
{
    size_t total = (size_t)G.proccap * PROC_SLOT;
    size_t end = total;
    while (end > 0 && G.procbuf[end - 1] == FILL_BYTE)
        end--;
    static const unsigned cands[] = {24, 32, 16};
    for (unsigned i = 0; i < sizeof cands / sizeof cands[0]; i++)
        if (end == (size_t)n * cands[i])
            return cands[i];
    return 0;
}

/* Query the process list of device d and add pid's memory to *bytes.
 * Returns an NVML code; NVML_ERROR_MEMORY if the buffer cannot grow. */
static nvmlReturn_t query_procs(unsigned d, unsigned pid,
                                unsigned long long *bytes)
{
    for (int attempt = 0; attempt < PROCS_MAX_RETRIES; attempt++) {
        unsigned n = G.proccap;
        if (!G.stride)
            memset(G.procbuf, FILL_BYTE, (size_t)G.proccap * PROC_SLOT);
        nvmlReturn_t rc = G.procs(G.dev[d], &n, G.procbuf);
        if (rc == NVML_ERROR_INSUFFICIENT_SIZE) {
            unsigned want = n + n / 2 + 8;
            if (want < G.proccap * 2)
                want = G.proccap * 2;
            if (want > PROCS_MAX_CAP)
                return NVML_ERROR_INSUFFICIENT_SIZE;
            unsigned char *nb = realloc(G.procbuf, (size_t)want * PROC_SLOT);
            if (!nb)
                return NVML_ERROR_MEMORY;
            G.procbuf = nb;
            G.proccap = want;
            continue;
        }
        if (rc != NVML_SUCCESS)
            return rc;
        if (n > G.proccap) /* defensive: never read past the buffer */
            n = G.proccap;
        unsigned stride = G.stride;
        if (!stride && n >= 2) {
            stride = procs_stride(n);
            if (stride)
                G.stride = stride; /* a property of the library: keep it */
        }
        if (!stride)
            stride = 24; /* n <= 1 (any stride reads entry 0 right) or unknown */
        for (unsigned i = 0; i < n; i++) {
            const unsigned char *e = G.procbuf + (size_t)i * stride;
            unsigned epid;
            unsigned long long mem;
            memcpy(&epid, e + PROC_OFF_PID, sizeof epid);
            memcpy(&mem, e + PROC_OFF_MEM, sizeof mem);
            if (epid == pid && mem != NVML_VALUE_NOT_AVAILABLE_ULL)
                *bytes += mem;
        }
        return NVML_SUCCESS;
    }
    return NVML_ERROR_INSUFFICIENT_SIZE;
}

#define LOAD(field, name)                                                    \
    (G.field = (__typeof__(G.field))dlsym(G.lib, name))

/* ---- contract ------------------------------------------------------------- */

int scalene_gpu_open(scalene_gpu_info_t *info)
{
    pthread_once(&g_atfork_once, register_atfork);
    pthread_mutex_lock(&g_lock);
    int rc;

    if (G.lib) { /* already open (possibly failed mid-run) */
        rc = G.info.available ? SCALENE_GPU_OK : SCALENE_GPU_EUNAVAIL;
        copy_info(info);
        goto out;
    }
    teardown();
    memset(g_whybuf, 0, sizeof g_whybuf);

    const char *path = getenv("SCALENE_NVML_LIBRARY");
    if (!path || !*path)
        path = "libnvidia-ml.so.1";
    G.lib = dlopen(path, RTLD_NOW | RTLD_LOCAL);
    if (!G.lib) {
        const char *e = dlerror();
        rc = open_fail(SCALENE_GPU_ENOLIB, info, "NVML library not loaded: %s",
                       e ? e : path);
        goto out;
    }

    LOAD(errstr, "nvmlErrorString");
    LOAD(init, "nvmlInit_v2");
    LOAD(shutdown, "nvmlShutdown");
    LOAD(count, "nvmlDeviceGetCount_v2");
    LOAD(handle, "nvmlDeviceGetHandleByIndex_v2");
    LOAD(util, "nvmlDeviceGetUtilizationRates");
    LOAD(acctmode, "nvmlDeviceGetAccountingMode");
    LOAD(acctstats, "nvmlDeviceGetAccountingStats");
    G.procs_name = "nvmlDeviceGetComputeRunningProcesses_v3";
    if (!LOAD(procs, G.procs_name)) {
        G.procs_name = "nvmlDeviceGetComputeRunningProcesses_v2";
        LOAD(procs, G.procs_name);
    }
    const char *missing = !G.init       ? "nvmlInit_v2"
                          : !G.shutdown ? "nvmlShutdown"
                          : !G.count    ? "nvmlDeviceGetCount_v2"
                          : !G.handle   ? "nvmlDeviceGetHandleByIndex_v2"
                          : !G.util     ? "nvmlDeviceGetUtilizationRates"
                                        : NULL;
    if (missing) {
        rc = open_fail(SCALENE_GPU_ENOLIB, info,
                       "NVML library %s lacks symbol %s", path, missing);
        goto out;
    }

    nvmlReturn_t nr = G.init();
    if (nr != NVML_SUCCESS) {
        rc = open_fail(SCALENE_GPU_EINIT, info, "nvmlInit_v2 failed: %s (%d)",
                       err_str(nr), nr);
        goto out;
    }
    G.nvml_inited = 1;

    unsigned n = 0;
    nr = G.count(&n);
    if (nr != NVML_SUCCESS) {
        rc = open_fail(SCALENE_GPU_ENODEV, info,
                       "nvmlDeviceGetCount_v2 failed: %s (%d)", err_str(nr), nr);
        goto out;
    }
    if (n == 0) {
        rc = open_fail(SCALENE_GPU_ENODEV, info, "no NVIDIA GPU found");
        goto out;
    }
    if (n > MAX_DEVICES) {
        degrade(WHY_SKIP, "%u GPUs, only the first %d sampled", n, MAX_DEVICES);
        n = MAX_DEVICES;
    }
    for (unsigned i = 0; i < n; i++) {
        nvmlDevice_t h = NULL;
        nr = G.handle(i, &h);
        if (nr != NVML_SUCCESS) {
            degrade(WHY_SKIP, "device %u skipped: handle %s", i, err_str(nr));
            continue;
        }
        G.dev_index[G.ndev] = i;
        G.dev[G.ndev++] = h;
    }
    if (G.ndev == 0) {
        rc = open_fail(SCALENE_GPU_ENODEV, info,
                       "no usable NVIDIA GPU: nvmlDeviceGetHandleByIndex_v2: %s",
                       err_str(nr));
        goto out;
    }

    G.proccap = PROCS_INITIAL_CAP;
    G.procbuf = malloc((size_t)G.proccap * PROC_SLOT);
    if (!G.procbuf) {
        rc = open_fail(SCALENE_GPU_ENOMEM, info, "out of memory");
        goto out;
    }

    /* Per-process utilisation needs accounting mode on every device, and
     * accounting stats that answer (a NOT_FOUND for our pid is fine: the
     * process has not used that GPU yet). */
    int per_process = G.acctmode != NULL && G.acctstats != NULL;
    if (!per_process)
        degrade(WHY_ACCT, "no accounting API: utilisation device-wide");
    unsigned self = (unsigned)getpid();
    for (unsigned d = 0; d < G.ndev && per_process; d++) {
        nvmlEnableState_t mode = NVML_FEATURE_DISABLED;
        nr = G.acctmode(G.dev[d], &mode);
        if (nr != NVML_SUCCESS) {
            degrade(WHY_ACCT, "device %u: accounting mode %s: utilisation "
                    "device-wide", G.dev_index[d], err_str(nr));
            per_process = 0;
        } else if (mode != NVML_FEATURE_ENABLED) {
            degrade(WHY_ACCT, "device %u: accounting mode disabled: utilisation "
                    "device-wide", G.dev_index[d]);
            per_process = 0;
        } else {
            nvmlAccountingStats_t st;
            memset(&st, 0, sizeof st);
            nr = G.acctstats(G.dev[d], self, &st);
            if (nr != NVML_SUCCESS && nr != NVML_ERROR_NOT_FOUND) {
                degrade(WHY_ACCT, "device %u: accounting stats %s: utilisation "
                        "device-wide", G.dev_index[d], err_str(nr));
                per_process = 0;
            }
        }
    }

    for (unsigned d = 0; d < G.ndev; d++) {
        if (!per_process) {
            nvmlUtilization_t u;
            nr = G.util(G.dev[d], &u);
            if (nr == NVML_SUCCESS) {
                G.util_ok[d] = 1;
                G.nutil_ok++;
            } else {
                degrade(WHY_UTIL, "device %u: utilisation %s", G.dev_index[d],
                        err_str(nr));
            }
        }
        if (G.procs) {
            unsigned long long dummy = 0;
            nr = query_procs(d, self, &dummy);
            if (nr == NVML_SUCCESS) {
                G.procs_ok[d] = 1;
                G.nprocs_ok++;
            } else {
                degrade(WHY_PROCS, "device %u: process memory %s", G.dev_index[d],
                        err_str(nr));
            }
        }
    }
    if (!G.procs)
        degrade(WHY_PROCS, "no process-list API: GPU memory not measured");
    if (!per_process && G.nutil_ok == 0 && G.nprocs_ok == 0) {
        char keep[sizeof G.info.why];
        finish_why(keep, sizeof keep);
        rc = open_fail(SCALENE_GPU_ENODEV, info,
                       "no GPU metric: %s", keep);
        goto out;
    }

    const char *iv = getenv("SCALENE_GPU_MEMORY_INTERVAL_MS");
    long ms = DEFAULT_MEM_INTERVAL_MS;
    if (iv && *iv) {
        char *end = NULL;
        long v = strtol(iv, &end, 10);
        if (end && *end == '\0' && v >= 0 && v <= 3600000)
            ms = v;
    }
    G.mem_interval_ns = (int64_t)ms * 1000000;

    finish_why(G.info.why, sizeof G.info.why);
    G.info.available = 1;
    G.info.ndevices = (int)G.ndev;
    G.info.per_process = per_process;
    copy_info(info);
    rc = SCALENE_GPU_OK;
out:
    pthread_mutex_unlock(&g_lock);
    return rc;
}

int scalene_gpu_sample(int pid, double *utilization, double *memory_mb,
                       scalene_gpu_info_t *info)
{
    pthread_mutex_lock(&g_lock);
    int rc;
    if (!G.lib || !G.info.available) {
        if (!G.lib && !G.info.why[0])
            set_why(G.info.why, "GPU layer not open");
        copy_info(info);
        rc = SCALENE_GPU_EUNAVAIL;
        goto out;
    }
    if (!utilization || !memory_mb) {
        copy_info(info);
        rc = SCALENE_GPU_EARG;
        goto out;
    }
    unsigned upid = pid > 0 ? (unsigned)pid : (unsigned)getpid();

    /* Utilisation. */
    double sum = 0.0;
    unsigned nsum = 0;
    nvmlReturn_t nr;
    for (unsigned d = 0; d < G.ndev; d++) {
        if (G.info.per_process) {
            nvmlAccountingStats_t st;
            memset(&st, 0, sizeof st);
            nr = G.acctstats(G.dev[d], upid, &st);
            if (nr == NVML_ERROR_NOT_FOUND) { /* pid never used this GPU */
                nsum++;
            } else if (nr != NVML_SUCCESS) {
                rc = sample_fail(SCALENE_GPU_ECALL, info,
                                 "nvmlDeviceGetAccountingStats(device %u) "
                                 "failed: %s (%d); GPU sampling stopped",
                                 G.dev_index[d], err_str(nr), nr);
                goto out;
            } else if (st.gpuUtilization != NVML_VALUE_NOT_AVAILABLE_UINT) {
                sum += st.gpuUtilization;
                nsum++;
            }
        } else if (G.util_ok[d]) {
            nvmlUtilization_t u;
            nr = G.util(G.dev[d], &u);
            if (nr != NVML_SUCCESS) {
                rc = sample_fail(SCALENE_GPU_ECALL, info,
                                 "nvmlDeviceGetUtilizationRates(device %u) "
                                 "failed: %s (%d); GPU sampling stopped",
                                 G.dev_index[d], err_str(nr), nr);
                goto out;
            }
            sum += u.gpu;
            nsum++;
        }
    }
    double util = nsum ? sum / nsum / 100.0 : 0.0;
    if (util < 0.0)
        util = 0.0;
    if (util > 1.0)
        util = 1.0;

    /* Memory: the process list is slow and takes the driver's global lock,
     * so it is refreshed at most every mem_interval_ns. */
    if (G.nprocs_ok) {
        int64_t t = now_ns();
        if (!G.mem_valid || G.mem_pid != upid ||
            t - G.mem_last_ns >= G.mem_interval_ns) {
            unsigned long long bytes = 0;
            for (unsigned d = 0; d < G.ndev; d++) {
                if (!G.procs_ok[d])
                    continue;
                nr = query_procs(d, upid, &bytes);
                if (nr != NVML_SUCCESS) {
                    rc = sample_fail(nr == NVML_ERROR_MEMORY ? SCALENE_GPU_ENOMEM
                                                             : SCALENE_GPU_ECALL,
                                     info, "%s(device %u) failed: %s (%d); GPU "
                                     "sampling stopped", G.procs_name,
                                     G.dev_index[d], err_str(nr), nr);
                    goto out;
                }
            }
            G.mem_mb = (double)bytes / 1048576.0;
            G.mem_pid = upid;
            G.mem_last_ns = t;
            G.mem_valid = 1;
        }
    }
    *utilization = util;
    *memory_mb = G.nprocs_ok ? G.mem_mb : 0.0;
    copy_info(info);
    rc = SCALENE_GPU_OK;
out:
    pthread_mutex_unlock(&g_lock);
    return rc;
}

void scalene_gpu_close(void)
{
    pthread_mutex_lock(&g_lock);
    teardown();
    pthread_mutex_unlock(&g_lock);
}
