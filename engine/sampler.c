/* sampler.c: see sampler.h. */
#include <Python.h>

#include "sampler.h"

#include <errno.h>
#include <math.h>
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "codecache.h"
#include "frames.h"
#include "platform.h"
#include "gpu/gpu.h"
#include "memprof.h"

#define SAMPLE_RING_CAPACITY 4096
/* New code objects come in bursts: an import's memory samples each name up
 * to SCALENE_MEM_FRAMES code objects first seen there.  A name lost to a
 * full ring costs the samples that carry it their line (seen in CI: a
 * 400 MB allocation made just after `import numpy` reported on its caller's
 * line), so this ring is deep enough for several ticks of such a burst.
 * Names already in the ring are not sent again (codecache.h, in flight). */
#define CODEINFO_RING_CAPACITY 2048
#define CODECACHE_CAPACITY (1u << 16)
/* Drain when any ring is an eighth full, or this long after the last drain. */
#define DRAIN_FILL_EIGHTHS(ring) (scalene_ring_used(ring) * 8 >= (ring)->capacity)
#define DRAIN_PERIOD_NS (50 * 1000000LL)

scalene_ring_t scalene_sample_ring;
scalene_ring_t scalene_codeinfo_ring;

enum { SLOT_FREE = 0, SLOT_CLAIMED = 1, SLOT_ACTIVE = 2, SLOT_RETIRING = 3 };

typedef struct {
    _Atomic int state;           /* SLOT_*; transitions by CAS, see below */
    int tid;                     /* kernel tid; written while CLAIMED */
    unsigned long ident;         /* threading.get_ident(); written while CLAIMED */
    _Atomic int has_timer;       /* owner of the timer: registry code under registry_lock */
    scalene_cpu_timer_t timer;
    /* Owned by the signal handler running in this thread (and initialised
     * before the timer is armed). */
    int64_t last_cpu_ns;
    uint64_t rng;
    /* Owned by the wall-clock sampler thread. */
    int64_t tick_cpu_ns;
    int64_t idle_carry_ns;
    /* Set by the sampler thread when it signals this thread, cleared by the
     * handler: at most one of its signals is ever queued per thread, even if
     * the thread blocks the signal (queued real-time signals count against
     * the user's RLIMIT_SIGPENDING). */
    _Atomic int kick_pending;
    /* The handler's frame walk in progress on this thread, and where a fault
     * inside it jumps back to (see walk_guarded). */
    _Atomic int walking;
    sigjmp_buf walk_jmp;
    /* A codeinfo record reserved by the guarded walk and not yet published:
     * a fault abandons it, and it must still be published (empty) or the
     * ring would wait for it forever. */
    scalene_codeinfo_t *volatile pending_info;
    uint64_t pending_pos;
} thread_slot_t;

/* Slots are claimed FREE -> CLAIMED -> ACTIVE by register (under
 * registry_lock) and retired ACTIVE -> RETIRING -> FREE by whoever wins the
 * CAS (unregister, or the sampler thread noticing the thread is gone); only
 * the winner deletes the timer.  The handler acts only on ACTIVE slots whose
 * tid is its own. */
static thread_slot_t slots[SCALENE_MAX_THREADS];
static pthread_mutex_t registry_lock = PTHREAD_MUTEX_INITIALIZER;
static _Atomic uint64_t threads_seen;

/* Configuration while sampling runs: written by start() before any timer is
 * armed, read-only until stop(). */
static scalene_sampler_config_t config;
static unsigned char call_opcodes[256]; /* written with the GIL held before start */
static _Atomic int sampling;            /* handlers do nothing unless set */
static int own_pid;                     /* getpid(), written before sampling starts */
static int handler_installed;           /* GIL */
static void (*wake_drain_fn)(void);

/* The wall-clock sampler thread. */
static pthread_t ticker;
static int ticker_started; /* GIL (start/stop) */
static pthread_mutex_t ticker_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t ticker_cond;
static int ticker_stop; /* ticker_lock */

/* The latest process-wide core utilisation, as float bits (sampler thread
 * writes, handlers read). */
static _Atomic uint32_t core_util_bits;

static _Atomic uint64_t n_cpu_samples, n_idle_samples, n_timer_failures, n_walk_faults;

/* The latest GPU readings (float bits), polled by the sampler thread and
 * copied into every sample; gpu_state is what scalene_gpu_open() said
 * (written before the sampler thread starts, by it afterwards under
 * gpu_lock). */
static _Atomic uint32_t gpu_util_bits, gpu_mem_bits;
static scalene_gpu_info_t gpu_state;
static pthread_mutex_t gpu_lock = PTHREAD_MUTEX_INITIALIZER;
static int gpu_polling; /* sampler thread only, after start */

static void
store_float(_Atomic uint32_t *dst, float f)
{
    uint32_t bits;
    memcpy(&bits, &f, sizeof(bits));
    atomic_store_explicit(dst, bits, memory_order_relaxed);
}

static float
load_float(_Atomic uint32_t *src)
{
    uint32_t bits = atomic_load_explicit(src, memory_order_relaxed);
    float f;
    memcpy(&f, &bits, sizeof(f));
    return f;
}

static void
poll_gpu(void)
{
    double util = 0, mem = 0;
    scalene_gpu_info_t info;
    if (scalene_gpu_sample(0, &util, &mem, &info) == SCALENE_GPU_OK) {
        store_float(&gpu_util_bits, (float)util);
        store_float(&gpu_mem_bits, (float)mem);
    } else {
        /* the layer marked itself unavailable: keep the reason, stop polling */
        pthread_mutex_lock(&gpu_lock);
        gpu_state.per_process = info.per_process;
        snprintf(gpu_state.why, sizeof(gpu_state.why), "%s", info.why);
        pthread_mutex_unlock(&gpu_lock);
        gpu_polling = 0;
    }
}

void
scalene_sampler_gpu_info(scalene_gpu_info_t *out)
{
    pthread_mutex_lock(&gpu_lock);
    *out = gpu_state;
    pthread_mutex_unlock(&gpu_lock);
}

/* ---------------------------------------------------------------- helpers */

static inline uint64_t
rng_next(uint64_t *state)
{
    /* xorshift64*: async-signal-safe, per-thread state */
    uint64_t x = *state;
    x ^= x >> 12;
    x ^= x << 25;
    x ^= x >> 27;
    *state = x;
    return x * 0x2545F4914F6CDD1DULL;
}

/* An exponentially distributed interval with the configured mean, so that
 * periodic programs cannot alias with the sampler. */
static int64_t
draw_interval(uint64_t *state)
{
    double u = ((double)(rng_next(state) >> 11) + 1.0) / 9007199254740993.0; /* (0, 1] */
    double ns = -log(u) * (double)config.interval_ns;
    double lo = (double)config.interval_ns / 20.0, hi = (double)config.interval_ns * 20.0;
    if (ns < lo) {
        ns = lo;
    }
    if (ns > hi) {
        ns = hi;
    }
    return (int64_t)ns;
}

static float
current_core_util(void)
{
    uint32_t bits = atomic_load_explicit(&core_util_bits, memory_order_relaxed);
    float f;
    memcpy(&f, &bits, sizeof(f));
    return f;
}

uint32_t
scalene_code_stamp(void *p)
{
    PyCodeObject *code = (PyCodeObject *)p;
    uint64_t h = (uint64_t)(uintptr_t)code->co_filename * 0x9E3779B97F4A7C15ULL;
    h ^= (uint64_t)(uintptr_t)code->co_name * 0xC2B2AE3D27D4EB4FULL;
    h ^= (uint64_t)(uint32_t)code->co_firstlineno * 0x165667B19E3779F9ULL;
    return (uint32_t)(h >> 32) ^ (uint32_t)h;
}

/* Copy a str object's text as UTF-8 without calling the C API (which may
 * allocate): reads the object's storage directly. */
static void
copy_unicode(PyObject *s, char *dst, size_t cap)
{
    size_t o = 0;
    if (s != NULL && PyUnicode_Check(s)
#if PY_VERSION_HEX < 0x030C0000
        && PyUnicode_IS_READY(s)
#endif
    ) {
        int kind = PyUnicode_KIND(s);
        const void *data = PyUnicode_DATA(s);
        Py_ssize_t len = PyUnicode_GET_LENGTH(s);
        for (Py_ssize_t i = 0; i < len; i++) {
            Py_UCS4 ch = PyUnicode_READ(kind, data, i);
            if (ch >= 0xD800 && ch <= 0xDFFF) {
                ch = '?'; /* lone surrogate (undecodable file name byte) */
            }
            if (ch < 0x80) {
                if (o + 1 >= cap) {
                    break;
                }
                dst[o++] = (char)ch;
            } else if (ch < 0x800) {
                if (o + 2 >= cap) {
                    break;
                }
                dst[o++] = (char)(0xC0 | (ch >> 6));
                dst[o++] = (char)(0x80 | (ch & 0x3F));
            } else if (ch < 0x10000) {
                if (o + 3 >= cap) {
                    break;
                }
                dst[o++] = (char)(0xE0 | (ch >> 12));
                dst[o++] = (char)(0x80 | ((ch >> 6) & 0x3F));
                dst[o++] = (char)(0x80 | (ch & 0x3F));
            } else {
                if (o + 4 >= cap) {
                    break;
                }
                dst[o++] = (char)(0xF0 | (ch >> 18));
                dst[o++] = (char)(0x80 | ((ch >> 12) & 0x3F));
                dst[o++] = (char)(0x80 | ((ch >> 6) & 0x3F));
                dst[o++] = (char)(0x80 | (ch & 0x3F));
            }
        }
    }
    dst[o] = '\0';
}

void
scalene_code_describe(void *p, scalene_codeinfo_t *out)
{
    PyCodeObject *code = (PyCodeObject *)p;
    out->code = (uintptr_t)code;
    out->stamp = scalene_code_stamp(code);
    out->firstlineno = code->co_firstlineno;
    copy_unicode(code->co_filename, out->filename, sizeof(out->filename));
#if PY_VERSION_HEX >= 0x030B0000
    copy_unicode(code->co_qualname, out->name, sizeof(out->name));
#else
    copy_unicode(code->co_name, out->name, sizeof(out->name));
#endif
}

/* Fault injection for the test of the guard (SCALENE_TEST_WALK_FAULT=N:
 * every Nth walk reads a bad address before walking, and every other
 * codeinfo record the guarded walk reserves faults before it is
 * published); 0 = off.  Written once at install, before sampling. */
static int inject_walk_fault_every;
static _Atomic unsigned walks_done, reservations_done;
static const volatile char *volatile injected_bad_address = (const volatile char *)(uintptr_t)0x47;

/* Line numbers and code identities of raw frames whose code objects the
 * walk validated; names of code objects not seen before go to the codeinfo
 * ring. */
static int
describe_frames(const scalene_raw_frame_t *raw, int n, scalene_frame_t *frames, thread_slot_t *guard)
{
    for (int i = 0; i < n; i++) {
        PyCodeObject *code = (PyCodeObject *)raw[i].code;
        uint32_t stamp = scalene_code_stamp(code);
        frames[i].code = (uintptr_t)code;
        frames[i].stamp = stamp;
        frames[i].lineno = raw[i].offset < 0 ? code->co_firstlineno : PyCode_Addr2Line(code, raw[i].offset);
        if (scalene_codecache_lookup((uintptr_t)code, stamp) >= 0 ||
            scalene_codecache_in_flight((uintptr_t)code, stamp)) {
            continue; /* also a code met again deeper in this same stack */
        }
        uint64_t pos;
        scalene_codeinfo_t *info = scalene_ring_reserve(&scalene_codeinfo_ring, &pos);
        if (info != NULL) {
            if (guard != NULL) {
                guard->pending_pos = pos;
                atomic_signal_fence(memory_order_seq_cst);
                guard->pending_info = info;
                atomic_signal_fence(memory_order_seq_cst);
                if (__builtin_expect(inject_walk_fault_every > 0, 0) &&
                    atomic_fetch_add_explicit(&reservations_done, 1, memory_order_relaxed) % 2 == 0) {
                    (void)*injected_bad_address;
                }
            }
            scalene_code_describe(code, info);
            if (guard != NULL) {
                guard->pending_info = NULL;
                atomic_signal_fence(memory_order_seq_cst);
            }
            scalene_ring_publish(&scalene_codeinfo_ring, info, pos);
            scalene_codecache_mark_in_flight((uintptr_t)code, stamp);
        }
    }
    return n;
}

int
scalene_capture_frames(void *tstate, scalene_frame_t *frames, int max, int *top_opcode)
{
    scalene_raw_frame_t raw[SCALENE_MAX_FRAMES];
    if (max > SCALENE_MAX_FRAMES) {
        max = SCALENE_MAX_FRAMES;
    }
    return describe_frames(raw, scalene_frames_capture(tstate, raw, max, top_opcode), frames, NULL);
}

/* The signal handler's walk, guarded.  The handler interrupts a thread at
 * any instruction, also in _PyEval_EvalFrameDefault's prologue, where the
 * compiler may already have stored the new cframe (3.11, 3.12) or entry
 * frame (3.13) into the thread state before filling it in: the walk then
 * follows stack garbage (seen in CI: a fault at address 0x47 on 3.12.1,
 * whose prologue stores tstate->cframe 0x30 bytes in and the new cframe's
 * current_frame only later).  Stale values there can also look like a
 * frame whose code object has since been freed, so describing the code
 * objects (line table, names) is guarded too.  A fault makes on_fault jump
 * back here; the sample keeps its time as unattributed, and a codeinfo
 * record reserved half-way is published empty (code 0: never looked up). */

static int
walk_guarded(thread_slot_t *slot, scalene_frame_t *frames, int *top_opcode)
{
    scalene_raw_frame_t raw[SCALENE_MAX_FRAMES];
    volatile int n = -1;
    void *tstate = PyGILState_GetThisThreadState();
    atomic_store_explicit(&slot->walking, 1, memory_order_relaxed);
    atomic_signal_fence(memory_order_seq_cst);
    if (sigsetjmp(slot->walk_jmp, 0) == 0) {
        if (__builtin_expect(inject_walk_fault_every > 0, 0) &&
            atomic_fetch_add_explicit(&walks_done, 1, memory_order_relaxed) % (unsigned)inject_walk_fault_every == 0) {
            (void)*injected_bad_address;
        }
        int got = scalene_frames_capture(tstate, raw, SCALENE_MAX_FRAMES, top_opcode);
        n = describe_frames(raw, got, frames, slot);
    }
    atomic_signal_fence(memory_order_seq_cst);
    atomic_store_explicit(&slot->walking, 0, memory_order_relaxed);
    if (n < 0) {
        scalene_codeinfo_t *info = slot->pending_info;
        if (info != NULL) {
            slot->pending_info = NULL;
            memset((char *)info + sizeof(scalene_ring_seq_t), 0, sizeof(*info) - sizeof(scalene_ring_seq_t));
            scalene_ring_publish(&scalene_codeinfo_ring, info, slot->pending_pos);
        }
        *top_opcode = -1;
        atomic_fetch_add_explicit(&n_walk_faults, 1, memory_order_relaxed);
        return 0;
    }
    return n;
}

/* scalene_fatal_signals_install's recover hook: a SIGSEGV/SIGBUS raised by
 * this thread's guarded walk goes back to walk_guarded. */
static void
on_fault(int signo)
{
    if (signo != SIGSEGV && signo != SIGBUS) {
        return;
    }
    int tid = scalene_gettid();
    for (int i = 0; i < SCALENE_MAX_THREADS; i++) {
        thread_slot_t *s = &slots[i];
        if (atomic_load_explicit(&s->walking, memory_order_relaxed) && s->tid == tid) {
            siglongjmp(s->walk_jmp, 1);
        }
    }
}

void
scalene_sampler_install_fault_guard(void)
{
    const char *inject = getenv("SCALENE_TEST_WALK_FAULT");
    inject_walk_fault_every = inject != NULL ? atoi(inject) : 0;
    scalene_fatal_signals_install(on_fault);
}

/* ----------------------------------------------------------- the handler */

static void
on_cpu_timer(int signo, siginfo_t *si, void *ucontext)
{
    (void)signo;
    int saved_errno = errno;
    if (!atomic_load_explicit(&sampling, memory_order_acquire) ||
        !(si->si_code == SI_TIMER || (si->si_code == SI_QUEUE && si->si_pid == own_pid))) {
        goto out;
    }
    int cookie = si->si_value.sival_int;
    if (cookie < 0 || cookie >= SCALENE_MAX_THREADS) {
        goto out;
    }
    thread_slot_t *slot = &slots[cookie];
    if (atomic_load_explicit(&slot->state, memory_order_acquire) != SLOT_ACTIVE ||
        slot->tid != scalene_gettid()) {
        goto out;
    }
    atomic_store_explicit(&slot->kick_pending, 0, memory_order_relaxed);
    int64_t cpu = scalene_thread_cpu_ns();
    int64_t weight = cpu - slot->last_cpu_ns;
    slot->last_cpu_ns = cpu;
    if (scalene_cpu_timer_arm(&slot->timer, draw_interval(&slot->rng)) != 0) {
        atomic_fetch_add_explicit(&n_timer_failures, 1, memory_order_relaxed);
    }
    if (weight <= 0) {
        goto out;
    }
    uint64_t pos;
    scalene_sample_t *rec = scalene_ring_reserve(&scalene_sample_ring, &pos);
    if (rec == NULL) {
        goto out;
    }
    int top_opcode = -1;
    int n = walk_guarded(slot, rec->frames, &top_opcode);
    rec->kind = SCALENE_SAMPLE_CPU;
    uintptr_t pc = scalene_interrupted_pc(ucontext);
    rec->native = (top_opcode >= 0 && call_opcodes[top_opcode]) || !scalene_pc_in_interpreter(pc);
    rec->pc = rec->native ? pc : 0;
    rec->nframes = (uint16_t)n;
    rec->slot = cookie;
    rec->weight_ns = weight;
    rec->t_ns = scalene_now_ns();
    rec->thread_cpu_ns = cpu;
    rec->core_util = current_core_util();
    rec->gpu_util = load_float(&gpu_util_bits);
    rec->gpu_mem_mb = load_float(&gpu_mem_bits);
    scalene_ring_publish(&scalene_sample_ring, rec, pos);
    atomic_fetch_add_explicit(&n_cpu_samples, 1, memory_order_relaxed);
out:
    errno = saved_errno;
}

/* ----------------------------------------------------------- the registry */

static int
arm_slot_unlocked(int index)
{
    thread_slot_t *slot = &slots[index];
    if (atomic_load(&slot->has_timer)) {
        return 0;
    }
    int rc = scalene_cpu_timer_create(&slot->timer, slot->tid, config.signo, index);
    if (rc != 0) {
        atomic_fetch_add(&n_timer_failures, 1);
        return rc;
    }
    int64_t cpu = scalene_thread_cpu_ns_of(slot->tid);
    slot->last_cpu_ns = cpu;
    slot->tick_cpu_ns = cpu;
    slot->idle_carry_ns = 0;
    atomic_store(&slot->kick_pending, 0);
    atomic_store(&slot->has_timer, 1);
    scalene_cpu_timer_arm(&slot->timer, draw_interval(&slot->rng));
    return 0;
}

static void
disarm_slot_unlocked(int index)
{
    thread_slot_t *slot = &slots[index];
    if (atomic_exchange(&slot->has_timer, 0)) {
        scalene_cpu_timer_delete(&slot->timer);
    }
}

int
scalene_sampler_register_thread(int tid, unsigned long ident)
{
    if (tid <= 0 || scalene_thread_cpu_ns_of(tid) < 0) {
        return -1;
    }
    pthread_mutex_lock(&registry_lock);
    int found = -1, free_slot = -1;
    for (int i = 0; i < SCALENE_MAX_THREADS; i++) {
        int state = atomic_load(&slots[i].state);
        if (state == SLOT_ACTIVE && slots[i].tid == tid) {
            found = i;
            break;
        }
        if (state == SLOT_FREE && free_slot < 0) {
            free_slot = i;
        }
    }
    if (found >= 0) {
        slots[found].ident = ident;
    } else if (free_slot >= 0) {
        thread_slot_t *slot = &slots[free_slot];
        atomic_store(&slot->state, SLOT_CLAIMED);
        slot->tid = tid;
        slot->ident = ident;
        slot->rng = 0x9E3779B97F4A7C15ULL ^ ((uint64_t)tid << 17) ^ (uint64_t)scalene_now_ns();
        if (slot->rng == 0) {
            slot->rng = 1;
        }
        slot->last_cpu_ns = slot->tick_cpu_ns = scalene_thread_cpu_ns_of(tid);
        slot->idle_carry_ns = 0;
        atomic_store(&slot->state, SLOT_ACTIVE);
        atomic_fetch_add(&threads_seen, 1);
        found = free_slot;
    }
    if (found >= 0 && atomic_load(&sampling)) {
        arm_slot_unlocked(found);
    }
    pthread_mutex_unlock(&registry_lock);
    return found;
}

static void
retire_slot(int index)
{
    int expected = SLOT_ACTIVE;
    if (!atomic_compare_exchange_strong(&slots[index].state, &expected, SLOT_RETIRING)) {
        return;
    }
    disarm_slot_unlocked(index);
    slots[index].ident = 0;
    atomic_store(&slots[index].state, SLOT_FREE);
}

void
scalene_sampler_unregister_thread(int tid)
{
    pthread_mutex_lock(&registry_lock);
    for (int i = 0; i < SCALENE_MAX_THREADS; i++) {
        if (atomic_load(&slots[i].state) == SLOT_ACTIVE && slots[i].tid == tid) {
            retire_slot(i);
        }
    }
    pthread_mutex_unlock(&registry_lock);
}

unsigned long
scalene_sampler_slot_ident(int slot)
{
    if (slot < 0 || slot >= SCALENE_MAX_THREADS || atomic_load(&slots[slot].state) != SLOT_ACTIVE) {
        return 0;
    }
    return slots[slot].ident;
}

uint64_t
scalene_sampler_threads_seen(void)
{
    return atomic_load(&threads_seen);
}

void
scalene_sampler_set_call_opcodes(const unsigned char *flags, int n)
{
    memset(call_opcodes, 0, sizeof(call_opcodes));
    for (int i = 0; i < n && i < 256; i++) {
        call_opcodes[i] = flags[i] ? 1 : 0;
    }
}

/* ------------------------------------------------ the wall-clock sampler */

static void
record_idle(int index, int64_t idle_ns, int64_t thread_cpu, int64_t now)
{
    uint64_t pos;
    scalene_sample_t *rec = scalene_ring_reserve(&scalene_sample_ring, &pos);
    if (rec == NULL) {
        return;
    }
    rec->kind = SCALENE_SAMPLE_IDLE;
    rec->native = 0;
    rec->pc = 0;
    rec->nframes = 0; /* the drain reads the stack, with the GIL */
    rec->slot = index;
    rec->weight_ns = idle_ns;
    rec->t_ns = now;
    rec->thread_cpu_ns = thread_cpu;
    rec->core_util = current_core_util();
    rec->gpu_util = load_float(&gpu_util_bits);
    rec->gpu_mem_mb = load_float(&gpu_mem_bits);
    scalene_ring_publish(&scalene_sample_ring, rec, pos);
    atomic_fetch_add_explicit(&n_idle_samples, 1, memory_order_relaxed);
}

/* Once per wall-clock interval, for every registered thread:
 *
 *  - A thread that used CPU since the last tick and is running (or
 *    runnable) at this moment is signalled now, so that it is sampled at a
 *    random wall-clock moment.  Its CPU-time timer alone fires only on the
 *    kernel's scheduler tick (4 ms at HZ=250), which caps the rate at about
 *    80 samples/s at the default 10 ms and at the tick rate whatever
 *    --cpu-sampling-rate asks for.  A sample's weight is the CPU time the
 *    thread used since its previous sample, whatever triggered it, so two
 *    sources count nothing twice.  A waiting thread is never signalled: its
 *    system call is not interrupted, and the CPU it used before it blocked
 *    is not credited to the line where it waits.
 *
 *  - In wall-clock mode, the time it spent off-CPU becomes an idle sample. */
static void
tick(int64_t now, int64_t wall)
{
    for (int i = 0; i < SCALENE_MAX_THREADS; i++) {
        thread_slot_t *slot = &slots[i];
        if (atomic_load_explicit(&slot->state, memory_order_acquire) != SLOT_ACTIVE) {
            continue;
        }
        int64_t cpu = scalene_thread_cpu_ns_of(slot->tid);
        if (cpu < 0) {
            /* The thread exited without unregistering (a thread we found
             * rather than started). */
            pthread_mutex_lock(&registry_lock);
            retire_slot(i);
            pthread_mutex_unlock(&registry_lock);
            continue;
        }
        int64_t used = cpu - slot->tick_cpu_ns;
        slot->tick_cpu_ns = cpu;
        if (used > 0 && !atomic_load_explicit(&slot->kick_pending, memory_order_relaxed) &&
            scalene_thread_running(slot->tid) == 1) {
            atomic_store_explicit(&slot->kick_pending, 1, memory_order_relaxed);
            if (scalene_signal_thread(slot->tid, config.signo, i) != 0) {
                atomic_store_explicit(&slot->kick_pending, 0, memory_order_relaxed);
            }
        }
        if (config.virtual_time) {
            continue;
        }
        int64_t idle = wall - used;
        if (idle <= 0) {
            continue;
        }
        slot->idle_carry_ns += idle;
        /* Batch tiny slivers of off-CPU time (scheduling jitter of a busy
         * thread) into samples of about half an interval. */
        if (slot->idle_carry_ns >= config.interval_ns / 2) {
            record_idle(i, slot->idle_carry_ns, cpu, now);
            slot->idle_carry_ns = 0;
        }
    }
}

static void *
ticker_main(void *arg)
{
    (void)arg;
    sigset_t all;
    sigfillset(&all);
    pthread_sigmask(SIG_BLOCK, &all, NULL); /* process signals go to Python's threads */
    uint64_t rng = 0x853C49E6748FEA9BULL ^ (uint64_t)scalene_now_ns();
    int ncpus = scalene_available_cpus();
    int64_t last = scalene_now_ns(), next = last, last_drain = last;
    int64_t last_pcpu = scalene_process_cpu_ns();
    pthread_mutex_lock(&ticker_lock);
    while (!ticker_stop) {
        next += draw_interval(&rng);
        int64_t now = scalene_now_ns();
        if (next < now) {
            next = now;
        }
        struct timespec ts = {.tv_sec = next / 1000000000LL, .tv_nsec = next % 1000000000LL};
        while (!ticker_stop && pthread_cond_timedwait(&ticker_cond, &ticker_lock, &ts) != ETIMEDOUT) {
        }
        if (ticker_stop) {
            break;
        }
        pthread_mutex_unlock(&ticker_lock);
        now = scalene_now_ns();
        int64_t wall = now - last;
        last = now;
        int64_t pcpu = scalene_process_cpu_ns();
        if (wall > 0) {
            float util = (float)((double)(pcpu - last_pcpu) / (double)wall / ncpus);
            util = util < 0 ? 0 : (util > 1 ? 1 : util);
            uint32_t bits;
            memcpy(&bits, &util, sizeof(bits));
            atomic_store_explicit(&core_util_bits, bits, memory_order_relaxed);
        }
        last_pcpu = pcpu;
        if (gpu_polling) {
            poll_gpu();
        }
        if (wall > 0) {
            tick(now, wall);
        }
        uint64_t used = scalene_ring_used(&scalene_sample_ring) + scalene_ring_used(&scalene_codeinfo_ring) +
                        scalene_ring_used(&scalene_mem_ring);
        int filling = DRAIN_FILL_EIGHTHS(&scalene_sample_ring) || DRAIN_FILL_EIGHTHS(&scalene_codeinfo_ring) ||
                      (scalene_mem_ring.records != NULL && DRAIN_FILL_EIGHTHS(&scalene_mem_ring));
        if (wake_drain_fn != NULL && (filling || (used > 0 && now - last_drain >= DRAIN_PERIOD_NS))) {
            last_drain = now;
            wake_drain_fn();
        }
        pthread_mutex_lock(&ticker_lock);
    }
    pthread_mutex_unlock(&ticker_lock);
    return NULL;
}

/* ------------------------------------------------------------- lifecycle */

static void
init_ticker_cond(void)
{
    pthread_condattr_t attr;
    pthread_condattr_init(&attr);
    pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
    pthread_cond_init(&ticker_cond, &attr);
    pthread_condattr_destroy(&attr);
}

int
scalene_sampler_init(char *why, size_t why_len)
{
    if (scalene_sample_ring.records != NULL) {
        return 0;
    }
    if (scalene_ring_init(&scalene_sample_ring, SAMPLE_RING_CAPACITY, sizeof(scalene_sample_t)) != 0 ||
        scalene_ring_init(&scalene_codeinfo_ring, CODEINFO_RING_CAPACITY, sizeof(scalene_codeinfo_t)) != 0 ||
        scalene_codecache_init(CODECACHE_CAPACITY) != 0) {
        snprintf(why, why_len, "out of memory allocating the sample buffers");
        return -1;
    }
    init_ticker_cond();
    scalene_interpreter_ranges_init();
    return 0;
}

int
scalene_sampler_start(const scalene_sampler_config_t *cfg, void (*wake_drain)(void), char *why, size_t why_len)
{
    if (atomic_load(&sampling)) {
        return 0;
    }
    config = *cfg;
    own_pid = getpid();
    if (config.interval_ns < 100000) {
        config.interval_ns = 100000;
    }
    wake_drain_fn = wake_drain;
    if (!handler_installed) {
        struct sigaction sa;
        memset(&sa, 0, sizeof(sa));
        sa.sa_sigaction = on_cpu_timer;
        sa.sa_flags = SA_SIGINFO | SA_RESTART;
        sigemptyset(&sa.sa_mask);
        if (sigaction(config.signo, &sa, NULL) != 0) {
            snprintf(why, why_len, "cannot install the sampling signal handler (signal %d): %s", config.signo,
                     strerror(errno));
            return -1;
        }
        handler_installed = 1;
    }
    /* Make sure the signal is not blocked in the calling thread (masks are
     * inherited, and some programs block everything). */
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, config.signo);
    pthread_sigmask(SIG_UNBLOCK, &set, NULL);

    atomic_store(&sampling, 1);
    pthread_mutex_lock(&registry_lock);
    for (int i = 0; i < SCALENE_MAX_THREADS; i++) {
        if (atomic_load(&slots[i].state) == SLOT_ACTIVE) {
            arm_slot_unlocked(i);
        }
    }
    pthread_mutex_unlock(&registry_lock);

    store_float(&gpu_util_bits, 0);
    store_float(&gpu_mem_bits, 0);
    gpu_polling = 0;
    if (config.gpu) {
        scalene_gpu_info_t info;
        memset(&info, 0, sizeof(info));
        scalene_gpu_open(&info);
        pthread_mutex_lock(&gpu_lock);
        gpu_state = info;
        pthread_mutex_unlock(&gpu_lock);
        gpu_polling = info.available;
        if (gpu_polling) {
            poll_gpu();
        }
    } else {
        pthread_mutex_lock(&gpu_lock);
        memset(&gpu_state, 0, sizeof(gpu_state));
        snprintf(gpu_state.why, sizeof(gpu_state.why), "GPU profiling is off");
        pthread_mutex_unlock(&gpu_lock);
    }

    ticker_stop = 0;
    int rc = pthread_create(&ticker, NULL, ticker_main, NULL);
    if (rc != 0) {
        scalene_sampler_stop();
        snprintf(why, why_len, "cannot start the sampler thread: %s", strerror(rc));
        return -1;
    }
    ticker_started = 1;
    return 0;
}

void
scalene_sampler_stop(void)
{
    atomic_store(&sampling, 0);
    pthread_mutex_lock(&registry_lock);
    for (int i = 0; i < SCALENE_MAX_THREADS; i++) {
        disarm_slot_unlocked(i);
    }
    pthread_mutex_unlock(&registry_lock);
    if (ticker_started) {
        pthread_mutex_lock(&ticker_lock);
        ticker_stop = 1;
        pthread_cond_broadcast(&ticker_cond);
        pthread_mutex_unlock(&ticker_lock);
        pthread_join(ticker, NULL);
        ticker_started = 0;
    }
}

int
scalene_sampler_running(void)
{
    return atomic_load(&sampling);
}

void
scalene_sampler_counters(scalene_sampler_counters_t *out)
{
    out->cpu_samples = atomic_load(&n_cpu_samples);
    out->idle_samples = atomic_load(&n_idle_samples);
    out->dropped_samples = atomic_load(&scalene_sample_ring.dropped);
    out->timer_failures = atomic_load(&n_timer_failures);
    out->walk_faults = atomic_load(&n_walk_faults);
    out->dropped_code_names = atomic_load(&scalene_codeinfo_ring.dropped);
    out->dropped_memory_samples = atomic_load(&scalene_mem_ring.dropped);
}

void
scalene_sampler_reset_counters(void)
{
    atomic_store(&n_cpu_samples, 0);
    atomic_store(&n_idle_samples, 0);
    atomic_store(&n_timer_failures, 0);
    atomic_store(&n_walk_faults, 0);
    atomic_store(&scalene_sample_ring.dropped, 0);
    atomic_store(&scalene_codeinfo_ring.dropped, 0);
    atomic_store(&scalene_mem_ring.dropped, 0);
}

void
scalene_sampler_after_fork_child(void)
{
    atomic_store(&sampling, 0);
    pthread_mutex_init(&registry_lock, NULL);
    pthread_mutex_init(&ticker_lock, NULL);
    pthread_mutex_init(&gpu_lock, NULL);
    init_ticker_cond(); /* the parent's sampler thread may have been waiting on it */
    ticker_started = 0;
    for (int i = 0; i < SCALENE_MAX_THREADS; i++) {
        /* timers are not inherited by the child: forget the ids */
        atomic_store(&slots[i].has_timer, 0);
        atomic_store(&slots[i].state, SLOT_FREE);
    }
    atomic_store(&threads_seen, 0);
    /* the parent's samples belong to the parent */
    atomic_store(&scalene_sample_ring.head, 0);
    atomic_store(&scalene_sample_ring.tail, 0);
    atomic_store(&scalene_codeinfo_ring.head, 0);
    atomic_store(&scalene_codeinfo_ring.tail, 0);
    if (scalene_sample_ring.records) {
        memset(scalene_sample_ring.records, 0, scalene_sample_ring.capacity * scalene_sample_ring.record_size);
    }
    if (scalene_codeinfo_ring.records) {
        memset(scalene_codeinfo_ring.records, 0,
               scalene_codeinfo_ring.capacity * scalene_codeinfo_ring.record_size);
    }
    scalene_sampler_reset_counters();
}
