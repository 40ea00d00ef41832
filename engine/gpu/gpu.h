/* engine/gpu/gpu.h -- GPU sampling layer of scalene's C engine (NVIDIA NVML).
 *
 * Pure C, no Python API, no build-time dependency on NVIDIA: the NVML library
 * ("libnvidia-ml.so.1", or the path in env SCALENE_NVML_LIBRARY) is loaded with
 * dlopen() at run time by scalene_gpu_open(). Without it, every function still
 * works and simply reports "not available".
 *
 * What is measured (reference: shared/reference/scalene.md section 4):
 *   utilization  per-process GPU utilisation from NVML accounting statistics
 *                (nvmlDeviceGetAccountingStats(dev, pid).gpuUtilization) when
 *                accounting mode is enabled on EVERY device; otherwise the
 *                device-wide utilisation (nvmlDeviceGetUtilizationRates().gpu).
 *                Averaged over devices, scaled to 0..1. Note: NVML's
 *                per-process figure is a lifetime average of the process, not an
 *                instantaneous value (same as the reference tool).
 *   memory_mb    sum over devices of usedGpuMemory of the compute-process
 *                entries whose pid equals the requested pid, in MB = 2^20 bytes.
 *
 * Threading: every function takes one internal mutex, so all of them may be
 * called from any thread, including threads that never ran Python and threads
 * that do not hold the GIL; concurrent calls are serialised. No function is
 * async-signal-safe: never call them from a signal handler. A pthread_atfork
 * handler keeps the mutex consistent across fork(); NVML state in a forked
 * child should be renewed with scalene_gpu_close() + scalene_gpu_open().
 *
 * Return convention: 0 on success, one of the negative SCALENE_GPU_E* codes
 * below on failure. Whenever an info pointer is given, it is filled in on
 * return (success or failure) with the current state; info->why is a
 * NUL-terminated one-line reason, "" when fully available and not degraded.
 * info may be NULL everywhere.
 */
#ifndef SCALENE_ENGINE_GPU_H
#define SCALENE_ENGINE_GPU_H

#ifdef __cplusplus
extern "C" {
#endif

typedef struct {
    int available;   /* 1 if NVML loaded and >= 1 device usable */
    int ndevices;    /* number of devices sampled (0 if not available);
                        devices whose handle NVML refuses are skipped */
    int per_process; /* 1: utilisation is per-process (accounting mode on for
                        all devices); 0: device-wide */
    char why[160];   /* when not available or degraded: one-line reason
                        (library missing, no device, NOT_SUPPORTED, call
                        failed...); "" otherwise */
} scalene_gpu_info_t;

/* Return codes (all < 0). */
#define SCALENE_GPU_OK 0
#define SCALENE_GPU_ENOLIB (-1)   /* library missing or lacks required symbols */
#define SCALENE_GPU_EINIT (-2)    /* nvmlInit_v2 failed */
#define SCALENE_GPU_ENODEV (-3)   /* no device, or devices could not be enumerated */
#define SCALENE_GPU_EUNAVAIL (-4) /* not open, or marked unavailable by an
                                     earlier failure (fast path, no NVML call) */
#define SCALENE_GPU_ECALL (-5)    /* an NVML call failed during this sample;
                                     the layer is now marked unavailable */
#define SCALENE_GPU_EARG (-6)     /* NULL output pointer */
#define SCALENE_GPU_ENOMEM (-7)   /* could not allocate the process-list buffer */

/* Load NVML, initialise it, enumerate devices and probe what each supports
 * (utilisation, accounting mode and stats, process list).
 * When: any time; typically once at profiler start, and again in a forked
 *   child after scalene_gpu_close(). If already open, does nothing and
 *   returns the current state (0 if available, else SCALENE_GPU_EUNAVAIL).
 * Env: SCALENE_NVML_LIBRARY overrides the library path (tests);
 *   SCALENE_GPU_MEMORY_INTERVAL_MS (default 100, 0 = every sample) is the
 *   minimum time between two process-list queries, see scalene_gpu_sample().
 * Returns 0 with info->available = 1 on success (info->why may still describe
 *   a degradation, e.g. accounting disabled -> device-wide utilisation);
 *   < 0 with info->available = 0 and info->why set otherwise. Never crashes
 *   on a missing or broken library; on failure nothing stays loaded.
 * Cost: a few NVML calls per device plus dlopen (milliseconds on real
 *   hardware); allocates the process-list buffer (2 KiB). */
int scalene_gpu_open(scalene_gpu_info_t *info);

/* Take one sample for process `pid` (pid <= 0 means the calling process).
 * When: after a successful scalene_gpu_open(), from any thread.
 * Outputs: *utilization in 0..1 (mean over devices; devices whose utilisation
 *   is NOT_SUPPORTED are left out of the mean, see info->why), *memory_mb = this
 *   pid's GPU memory summed over devices (entries reporting NVML's "not
 *   available" value are skipped). The process list is re-queried at most
 *   every SCALENE_GPU_MEMORY_INTERVAL_MS; in between, the last value is
 *   returned (the query is slow on real drivers and takes the driver's global
 *   lock). Outputs are written only on success.
 * Returns 0 on success; SCALENE_GPU_EARG for a NULL output (nothing else
 *   changes); SCALENE_GPU_EUNAVAIL if not open or already marked unavailable
 *   (no NVML call is made). After a failing NVML call (SCALENE_GPU_ECALL, or
 *   SCALENE_GPU_ENOMEM if the buffer cannot grow) the layer marks itself
 *   unavailable: info->available = 0, info->why says which call failed, and
 *   every later call returns SCALENE_GPU_EUNAVAIL fast, until
 *   scalene_gpu_close() + scalene_gpu_open().
 * Allocation: none, except growing the process-list buffer when NVML answers
 *   NVML_ERROR_INSUFFICIENT_SIZE (rare: more processes than ever seen). */
int scalene_gpu_sample(int pid, double *utilization, double *memory_mb,
                       scalene_gpu_info_t *info);

/* Shut NVML down (nvmlShutdown), unload the library and free the buffer.
 * When: any time, from any thread; idempotent; safe if never opened or if
 *   open failed. Samples racing with close either complete before it or
 *   return SCALENE_GPU_EUNAVAIL. */
void scalene_gpu_close(void);

#ifdef __cplusplus
}
#endif

#endif /* SCALENE_ENGINE_GPU_H */
