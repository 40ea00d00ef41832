/* engine/memory/got_patch.c -- run-time rewriting of GOT/PLT relocation slots.
 *
 * For every loaded ELF object (dl_iterate_phdr) except this extension, the
 * dynamic loader and the vDSO, the JUMP_SLOT (PLT calls), GLOB_DAT
 * (-fno-plt calls, address-taken functions) and pointer-sized absolute
 * (function pointers stored in data) relocations whose symbol is one of the
 * hooked names get their slot rewritten to our hook.  Slots inside the
 * object's PT_GNU_RELRO range are read-only after loading: the range is made
 * writable for the duration of the writes (the same page range ld.so
 * protects: [align_down(start), align_down(end))).
 *
 * A slot is only rewritten when it holds the function we forward to (the
 * dlsym(RTLD_DEFAULT) result), or an unresolved lazy PLT stub of the object
 * itself.  Slots bound elsewhere (RTLD_DEEPBIND objects with a private
 * allocator, memcpy@GLIBC_2.2.5 which has memmove semantics...) are left
 * alone, so a block is never allocated by one allocator and freed by another.
 *
 * Two phases per scan, so that no object is read or written while it is being
 * loaded, relocated or unloaded by another thread:
 *   1. dl_iterate_phdr only copies (base, phdrs, name) of each object;
 *   2. outside the loader's lock, each new object is pinned with
 *      dlopen(name, RTLD_NOLOAD) -- which waits for a concurrent dlopen or
 *      dlclose holding the loader lock to finish -- checked to be the same
 *      load (dlinfo RTLD_DI_LINKMAP), patched, and unpinned.
 *
 * Locking: got_lock serialises scans.  The dlopen hook only *tries* the lock:
 * if a scan is running (possibly blocked in dlopen(NOLOAD) behind the very
 * dlopen that is calling us from a library constructor) it sets
 * refresh_pending, and the lock holder rescans before unlocking.
 */
#include <dlfcn.h>
#include <elf.h>
#include <errno.h>
#include <link.h>
#include <pthread.h>
#include <stddef.h>
#include <string.h>
#include <sys/auxv.h>
#include <sys/mman.h>
#include <unistd.h>

#include "memhooks_internal.h"

/* R_ABS: a pointer-sized absolute relocation, i.e. a function pointer stored
 * in data (`static void *(*f)(size_t) = malloc;`, tables of allocator
 * functions).  Only rewritten when it holds exactly the real function. */
#if defined(__x86_64__)
#define R_JUMP_SLOT R_X86_64_JUMP_SLOT
#define R_GLOB_DAT  R_X86_64_GLOB_DAT
#define R_ABS       R_X86_64_64
#elif defined(__aarch64__)
#define R_JUMP_SLOT R_AARCH64_JUMP_SLOT
#define R_GLOB_DAT  R_AARCH64_GLOB_DAT
#define R_ABS       R_AARCH64_ABS64
#elif defined(__i386__)
#define R_JUMP_SLOT R_386_JMP_SLOT
#define R_GLOB_DAT  R_386_GLOB_DAT
#define R_ABS       R_386_32
#elif defined(__arm__)
#define R_JUMP_SLOT R_ARM_JUMP_SLOT
#define R_GLOB_DAT  R_ARM_GLOB_DAT
#define R_ABS       R_ARM_ABS32
#else
#define SCALENE_MEM_NO_GOT 1
#endif

#if __ELF_NATIVE_CLASS == 64
#define RELOC_SYM(i)  ELF64_R_SYM(i)
#define RELOC_TYPE(i) ELF64_R_TYPE(i)
#else
#define RELOC_SYM(i)  ELF32_R_SYM(i)
#define RELOC_TYPE(i) ELF32_R_TYPE(i)
#endif

#define MAX_DEFS 32

/* ---- state (all guarded by got_lock unless noted) ---------------------- */

static pthread_mutex_t got_lock = PTHREAD_MUTEX_INITIALIZER;
static int refresh_pending;             /* atomic */
static int installed;                   /* atomic (read unlocked by refresh) */
static _scalene_mem_hookdef_t defs[MAX_DEFS];
static size_t ndefs;
static uint64_t patched_objects;        /* atomic */
static unsigned long long last_adds, last_subs;
static size_t pagesz;
static uintptr_t at_base, at_vdso;

/* Growable anonymous-memory buffer (never malloc: we run inside hooks). */
typedef struct {
    void *p;
    size_t cap;  /* bytes */
} gbuf_t;

static int gbuf_reserve(gbuf_t *b, size_t bytes)
{
    if (bytes <= b->cap)
        return 0;
    size_t ncap = b->cap ? b->cap : 65536;
    while (ncap < bytes)
        ncap *= 2;
    void *n;
    if (b->p)
        n = mremap(b->p, b->cap, ncap, MREMAP_MAYMOVE);
    else
        n = mmap(NULL, ncap, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (n == MAP_FAILED)
        return -ENOMEM;
    b->p = n;
    b->cap = ncap;
    return 0;
}

/* What we wrote, to restore it: slot address, previous value, object base. */
typedef struct {
    uintptr_t slot, orig, base;
} patch_rec_t;
static gbuf_t log_buf;
static size_t log_len;

/* Objects already fully processed by this install: (base, dynamic section). */
typedef struct {
    uintptr_t base, dyn;
} seen_t;
static gbuf_t seen_buf;
static size_t nseen;

/* Phase-1 snapshot of one object. */
typedef struct {
    uintptr_t base;
    const ElfW(Phdr) *phdr;
    size_t phnum;
    size_t name_off; /* into names_buf */
    int is_main;
} cand_t;
static gbuf_t cand_buf, names_buf;
static size_t ncand, names_len;

/* ---- ELF parsing -------------------------------------------------------- */

typedef struct {
    uintptr_t base;
    const ElfW(Phdr) *phdr;
    size_t phnum;
    uintptr_t dyn;
    uintptr_t lo, hi;   /* link-time vaddr span of PT_LOADs (unrelocated) */
    const ElfW(Sym) *symtab;
    const char *strtab;
    size_t strsz;
    uintptr_t jmprel;
    size_t jmprelsz;
    int jmprel_rela;
    uintptr_t rela;
    size_t relasz, relaent;
    uintptr_t rel;
    size_t relsz, relent;
    uintptr_t relro_lo, relro_hi; /* page range ld.so made read-only */
} obj_t;

static int obj_contains(const obj_t *o, uintptr_t a)
{
    for (size_t i = 0; i < o->phnum; i++) {
        const ElfW(Phdr) *ph = &o->phdr[i];
        if (ph->p_type != PT_LOAD)
            continue;
        uintptr_t lo = o->base + ph->p_vaddr;
        if (a >= lo && a - lo < ph->p_memsz)
            return 1;
    }
    return 0;
}

/* The slot lies in a writable PT_LOAD (RELRO is part of one): never write
 * into text (objects with DT_TEXTREL have relocations there). */
static int obj_writable(const obj_t *o, uintptr_t a)
{
    for (size_t i = 0; i < o->phnum; i++) {
        const ElfW(Phdr) *ph = &o->phdr[i];
        if (ph->p_type != PT_LOAD || !(ph->p_flags & PF_W))
            continue;
        uintptr_t lo = o->base + ph->p_vaddr;
        if (a >= lo && a - lo + sizeof(uintptr_t) <= ph->p_memsz)
            return 1;
    }
    return 0;
}

static int phdrs_contain(uintptr_t base, const ElfW(Phdr) *phdr, size_t phnum, uintptr_t a)
{
    obj_t o;
    o.base = base;
    o.phdr = phdr;
    o.phnum = phnum;
    return obj_contains(&o, a);
}

/* glibc rewrites most d_ptr values to absolute addresses (not on every
 * architecture, and never DT_VERNEED): accept either form. */
static uintptr_t dyn_ptr(const obj_t *o, uintptr_t v)
{
    if (v == 0)
        return 0;
    if (obj_contains(o, v))
        return v;
    if (obj_contains(o, o->base + v))
        return o->base + v;
    return 0;
}

static int obj_parse(uintptr_t base, const ElfW(Phdr) *phdr, size_t phnum, obj_t *o)
{
    memset(o, 0, sizeof(*o));
    o->base = base;
    o->phdr = phdr;
    o->phnum = phnum;
    o->lo = UINTPTR_MAX;
    for (size_t i = 0; i < phnum; i++) {
        const ElfW(Phdr) *ph = &phdr[i];
        if (ph->p_type == PT_DYNAMIC) {
            o->dyn = base + ph->p_vaddr;
        } else if (ph->p_type == PT_GNU_RELRO) {
            uintptr_t s = base + ph->p_vaddr;
            o->relro_lo = s & ~(uintptr_t)(pagesz - 1);
            o->relro_hi = (s + ph->p_memsz) & ~(uintptr_t)(pagesz - 1);
        } else if (ph->p_type == PT_LOAD) {
            if (ph->p_vaddr < o->lo)
                o->lo = ph->p_vaddr;
            if (ph->p_vaddr + ph->p_memsz > o->hi)
                o->hi = ph->p_vaddr + ph->p_memsz;
        }
    }
    if (!o->dyn)
        return 0;
    uintptr_t symtab = 0, strtab = 0, jmprel = 0, rela = 0, rel = 0;
    int pltrel = 0;
    for (const ElfW(Dyn) *d = (const ElfW(Dyn) *)o->dyn; d->d_tag != DT_NULL; d++) {
        switch (d->d_tag) {
        case DT_SYMTAB:   symtab = d->d_un.d_ptr; break;
        case DT_STRTAB:   strtab = d->d_un.d_ptr; break;
        case DT_STRSZ:    o->strsz = d->d_un.d_val; break;
        case DT_JMPREL:   jmprel = d->d_un.d_ptr; break;
        case DT_PLTRELSZ: o->jmprelsz = d->d_un.d_val; break;
        case DT_PLTREL:   pltrel = (int)d->d_un.d_val; break;
        case DT_RELA:     rela = d->d_un.d_ptr; break;
        case DT_RELASZ:   o->relasz = d->d_un.d_val; break;
        case DT_RELAENT:  o->relaent = d->d_un.d_val; break;
        case DT_REL:      rel = d->d_un.d_ptr; break;
        case DT_RELSZ:    o->relsz = d->d_un.d_val; break;
        case DT_RELENT:   o->relent = d->d_un.d_val; break;
        default: break;
        }
    }
    o->symtab = (const ElfW(Sym) *)dyn_ptr(o, symtab);
    o->strtab = (const char *)dyn_ptr(o, strtab);
    if (!o->symtab || !o->strtab || !o->strsz)
        return 0;
    o->jmprel = dyn_ptr(o, jmprel);
    o->jmprel_rela = (pltrel == DT_RELA);
    o->rela = dyn_ptr(o, rela);
    o->rel = dyn_ptr(o, rel);
    if (!o->relaent)
        o->relaent = sizeof(ElfW(Rela));
    if (!o->relent)
        o->relent = sizeof(ElfW(Rel));
    return 1;
}

/* Calls fn for every JUMP_SLOT/GLOB_DAT relocation whose symbol name
 * match() accepts (match returns an index >= 0). */
typedef int (*match_fn)(const char *name, void *ctx);
typedef void (*visit_fn)(const obj_t *o, uintptr_t slot, const ElfW(Sym) *sym, int idx, void *ctx);

static void visit_table(const obj_t *o, uintptr_t tab, size_t sz, size_t ent, int is_rela,
                        match_fn match, visit_fn fn, void *ctx)
{
    if (!tab || !sz || !ent)
        return;
    for (size_t off = 0; off + ent <= sz; off += ent) {
        const ElfW(Rel) *r = (const ElfW(Rel) *)(tab + off); /* Rela starts the same way */
        unsigned long type = RELOC_TYPE(r->r_info);
        if (type != R_JUMP_SLOT && type != R_GLOB_DAT && type != R_ABS)
            continue;
        if (is_rela && ((const ElfW(Rela) *)r)->r_addend != 0)
            continue;
        size_t si = RELOC_SYM(r->r_info);
        if (si == 0)
            continue;
        const ElfW(Sym) *sym = &o->symtab[si];
        if (sym->st_name >= o->strsz)
            continue;
        int idx = match(o->strtab + sym->st_name, ctx);
        if (idx >= 0)
            fn(o, o->base + r->r_offset, sym, type == R_ABS ? -1 - idx : idx, ctx);
    }
}

static void visit_relocs(const obj_t *o, match_fn match, visit_fn fn, void *ctx)
{
    visit_table(o, o->jmprel, o->jmprelsz, o->jmprel_rela ? o->relaent : o->relent,
                o->jmprel_rela, match, fn, ctx);
    visit_table(o, o->rela, o->relasz, o->relaent, 1, match, fn, ctx);
    visit_table(o, o->rel, o->relsz, o->relent, 0, match, fn, ctx);
}

static int match_defs(const char *name, void *ctx)
{
    (void)ctx;
    for (size_t i = 0; i < ndefs; i++)
        if (name[0] == defs[i].name[0] && strcmp(name, defs[i].name) == 0)
            return (int)i;
    return -1;
}

static int is_any_hook(uintptr_t v)
{
    for (size_t i = 0; i < ndefs; i++)
        if (v == (uintptr_t)defs[i].hook)
            return 1;
    return 0;
}

/* ---- patch / restore of one object ------------------------------------- */

enum { MODE_PATCH, MODE_RESTORE, MODE_COUNT };

typedef struct {
    int mode;
    int write;          /* 0: planning pass, 1: writing pass */
    size_t writes;      /* slots to write (planning) / written */
    int need_relro;
    int not_ready;      /* a slot still holds an unrelocated value */
    size_t hooked;      /* MODE_COUNT */
} pass_t;

static uintptr_t log_find(uintptr_t slot, uintptr_t base)
{
    const patch_rec_t *r = log_buf.p;
    for (size_t i = log_len; i-- > 0;)
        if (r[i].slot == slot && r[i].base == base)
            return r[i].orig;
    return 0;
}

static void log_add(uintptr_t slot, uintptr_t orig, uintptr_t base)
{
    if (gbuf_reserve(&log_buf, (log_len + 1) * sizeof(patch_rec_t)) != 0)
        return; /* restore will fall back to the resolved function */
    patch_rec_t *r = log_buf.p;
    r[log_len].slot = slot;
    r[log_len].orig = orig;
    r[log_len].base = base;
    log_len++;
}

static void slot_visit(const obj_t *o, uintptr_t slot, const ElfW(Sym) *sym, int idx, void *ctx)
{
    pass_t *p = ctx;
    int is_abs = idx < 0; /* data pointer, not a GOT slot */
    if (is_abs)
        idx = -1 - idx;
    const _scalene_mem_hookdef_t *d = &defs[idx];
    uintptr_t *sp = (uintptr_t *)slot;
    if (slot & (sizeof(uintptr_t) - 1))
        return; /* never a function pointer we can swap atomically */
    if (!obj_writable(o, slot))
        return; /* never write outside the object's writable data */
    uintptr_t v = __atomic_load_n(sp, __ATOMIC_ACQUIRE);
    uintptr_t target;

    if (p->mode == MODE_COUNT) {
        if (is_any_hook(v))
            p->hooked++;
        return;
    }
    if (p->mode == MODE_PATCH) {
        if (v == (uintptr_t)d->hook)
            return;
        if (v != (uintptr_t)d->real) {
            if (is_abs)
                return; /* data pointers: only exact matches */
            /* Unrelocated (object still being loaded): 0, or a link-time address. */
            if (v == 0 || (o->base != 0 && v >= o->lo && v < o->hi)) {
                p->not_ready = 1;
                return;
            }
            /* A lazy PLT stub of this object (symbol not defined here) will
             * bind to the global definition: take it.  Anything else is
             * bound to another definition: leave it alone. */
            if (!obj_contains(o, v) || sym->st_shndx != SHN_UNDEF)
                return;
        }
        target = (uintptr_t)d->hook;
    } else { /* MODE_RESTORE */
        if (v != (uintptr_t)d->hook)
            return;
        target = log_find(slot, o->base);
        if (!target)
            target = (uintptr_t)d->real;
    }
    if (!p->write) {
        p->writes++;
        if (slot >= o->relro_lo && slot < o->relro_hi)
            p->need_relro = 1;
        return;
    }
    if (p->mode == MODE_PATCH)
        log_add(slot, v, o->base);
    __atomic_store_n(sp, target, __ATOMIC_RELEASE);
    p->writes++;
}

/* Returns slots written (>= 0), or -errno. */
static int object_apply(const obj_t *o, int mode, pass_t *p)
{
    memset(p, 0, sizeof(*p));
    p->mode = mode;
    visit_relocs(o, match_defs, slot_visit, p);
    if (mode == MODE_COUNT || p->writes == 0)
        return 0;
    int relro = p->need_relro;
    if (relro && mprotect((void *)o->relro_lo, o->relro_hi - o->relro_lo, PROT_READ | PROT_WRITE) != 0)
        return -errno;
    p->write = 1;
    p->writes = 0;
    visit_relocs(o, match_defs, slot_visit, p);
    if (relro)
        mprotect((void *)o->relro_lo, o->relro_hi - o->relro_lo, PROT_READ);
    return (int)p->writes;
}

/* ---- object enumeration ------------------------------------------------- */

static int is_loader_name(const char *name)
{
    const char *b = strrchr(name, '/');
    b = b ? b + 1 : name;
    return strncmp(b, "ld-linux", 8) == 0 || strncmp(b, "ld64.so", 7) == 0 ||
           strncmp(b, "ld-musl", 7) == 0 || strncmp(b, "ld.so", 5) == 0;
}

typedef struct {
    int first;
    int changed;
    int check_changes; /* stop early if nothing was loaded/unloaded */
    int track;         /* a patch scan: consume the change counters */
    int oom;
} collect_t;

/* Runs with the loader's write lock held: copy, never call into ld.so. */
static int collect_cb(struct dl_phdr_info *info, size_t size, void *arg)
{
    collect_t *c = arg;
    int is_main = c->first;
    if (c->first) {
        c->first = 0;
        if (c->track && size >= offsetof(struct dl_phdr_info, dlpi_subs) + sizeof(info->dlpi_subs)) {
            if (c->check_changes && info->dlpi_adds == last_adds && info->dlpi_subs == last_subs)
                return 1; /* nothing loaded or unloaded since the last patch scan */
            if (info->dlpi_subs != last_subs)
                nseen = 0; /* something went away: its address may be reused */
            last_adds = info->dlpi_adds;
            last_subs = info->dlpi_subs;
        }
        c->changed = 1;
    }
    uintptr_t base = info->dlpi_addr;
    const char *name = info->dlpi_name ? info->dlpi_name : "";
    size_t phnum = info->dlpi_phnum;
    if (phdrs_contain(base, info->dlpi_phdr, phnum, (uintptr_t)&_scalene_mem_got_install))
        return 0; /* this extension: its calls must reach the real functions */
    if ((at_base && phdrs_contain(base, info->dlpi_phdr, phnum, at_base)) || (name[0] && is_loader_name(name)))
        return 0; /* the dynamic loader */
    if (at_vdso && phdrs_contain(base, info->dlpi_phdr, phnum, at_vdso))
        return 0; /* the vDSO */
    if (!is_main && !name[0])
        return 0; /* unnamed, cannot be pinned with dlopen */
    size_t nl = strlen(name) + 1;
    if (gbuf_reserve(&cand_buf, (ncand + 1) * sizeof(cand_t)) != 0 ||
        gbuf_reserve(&names_buf, names_len + nl) != 0) {
        c->oom = 1;
        return 1;
    }
    cand_t *cd = &((cand_t *)cand_buf.p)[ncand++];
    cd->base = base;
    cd->phdr = info->dlpi_phdr;
    cd->phnum = phnum;
    cd->name_off = names_len;
    cd->is_main = is_main;
    memcpy((char *)names_buf.p + names_len, name, nl);
    names_len += nl;
    return 0;
}

static int seen_has(uintptr_t base, uintptr_t dyn)
{
    const seen_t *s = seen_buf.p;
    for (size_t i = 0; i < nseen; i++)
        if (s[i].base == base && s[i].dyn == dyn)
            return 1;
    return 0;
}

static void seen_add(uintptr_t base, uintptr_t dyn)
{
    if (gbuf_reserve(&seen_buf, (nseen + 1) * sizeof(seen_t)) != 0)
        return;
    seen_t *s = seen_buf.p;
    s[nseen].base = base;
    s[nseen].dyn = dyn;
    nseen++;
}

typedef struct {
    int mode;
    size_t objects_written;
    size_t slots;
    size_t hooked_objects;
    int errors;
    int last_error;
    const char *substr;
    int substr_found;
} scan_t;

/* Pins the candidate with dlopen(RTLD_NOLOAD) and parses it; 1 on success
 * (then *h must be dlclose()d). */
static int pin_candidate(const cand_t *cd, obj_t *o, void **h)
{
    const char *name = (const char *)names_buf.p + cd->name_off;
    *h = dlopen(cd->is_main ? NULL : name, RTLD_NOLOAD | RTLD_LAZY);
    if (!*h)
        return 0;
    struct link_map *lm = NULL;
    if (dlinfo(*h, RTLD_DI_LINKMAP, &lm) != 0 || !lm || lm->l_addr != cd->base ||
        !obj_parse(cd->base, cd->phdr, cd->phnum, o) || (uintptr_t)lm->l_ld != o->dyn) {
        dlclose(*h);
        *h = NULL;
        return 0;
    }
    return 1;
}

/* One scan over all loaded objects.  Pre: got_lock held. */
static int scan_once(scan_t *s, int check_changes)
{
    collect_t c = {1, 0, check_changes, s->mode == MODE_PATCH, 0};
    ncand = 0;
    names_len = 0;
    dl_iterate_phdr(collect_cb, &c);
    if (c.oom)
        return -ENOMEM;
    if (!c.changed)
        return 0;
    /* Snapshot: candidates may be appended by nobody else (we hold got_lock). */
    for (size_t i = 0; i < ncand; i++) {
        const cand_t *cd = &((const cand_t *)cand_buf.p)[i];
        obj_t o;
        void *h;
        if (!pin_candidate(cd, &o, &h))
            continue;
        if (s->mode == MODE_PATCH && seen_has(o.base, o.dyn)) {
            dlclose(h);
            continue;
        }
        pass_t p;
        int r = object_apply(&o, s->mode, &p);
        if (r < 0) {
            s->errors++;
            s->last_error = r;
        } else if (r > 0) {
            s->objects_written++;
            s->slots += (size_t)r;
        }
        if (s->mode == MODE_PATCH && r >= 0 && !p.not_ready)
            seen_add(o.base, o.dyn);
        else if (s->mode == MODE_PATCH)
            last_adds = ~0ULL; /* make the next refresh look at it again */
        if (s->mode == MODE_COUNT && p.hooked) {
            s->slots += p.hooked;
            s->hooked_objects++;
            if (s->substr && strstr((const char *)names_buf.p + cd->name_off, s->substr))
                s->substr_found = 1;
        }
        dlclose(h);
    }
    return 0;
}

static void init_platform(void)
{
    if (!pagesz) {
        long ps = sysconf(_SC_PAGESIZE);
        pagesz = ps > 0 ? (size_t)ps : 4096;
        at_base = (uintptr_t)getauxval(AT_BASE);
        at_vdso = (uintptr_t)getauxval(AT_SYSINFO_EHDR);
    }
}

/* Releases got_lock, first serving refresh requests made while we held it. */
static void unlock_and_drain(void)
{
    while (__atomic_exchange_n(&refresh_pending, 0, __ATOMIC_ACQ_REL)) {
        if (__atomic_load_n(&installed, __ATOMIC_RELAXED)) {
            scan_t s;
            memset(&s, 0, sizeof(s));
            s.mode = MODE_PATCH;
            scan_once(&s, 1);
            __atomic_fetch_add(&patched_objects, s.objects_written, __ATOMIC_RELAXED);
        }
    }
    pthread_mutex_unlock(&got_lock);
    /* A request may have arrived between the last check and the unlock. */
    if (__atomic_load_n(&refresh_pending, __ATOMIC_ACQUIRE) && pthread_mutex_trylock(&got_lock) == 0)
        unlock_and_drain();
}

/* ---- internal API -------------------------------------------------------- */

int _scalene_mem_got_install(const _scalene_mem_hookdef_t *d, size_t n, char *why, size_t why_len)
{
#ifdef SCALENE_MEM_NO_GOT
    (void)d;
    (void)n;
    return _scalene_mem_fail(why, why_len, -ENOSYS, "GOT patching is not implemented for this architecture");
#else
    if (n > MAX_DEFS)
        return _scalene_mem_fail(why, why_len, -EINVAL, "too many hooks (%zu)", n);
    pthread_mutex_lock(&got_lock);
    init_platform();
    memcpy(defs, d, n * sizeof(*d));
    ndefs = n;
    nseen = 0;
    log_len = 0;
    last_adds = last_subs = 0;
    __atomic_store_n(&patched_objects, 0, __ATOMIC_RELAXED);
    scan_t s;
    memset(&s, 0, sizeof(s));
    s.mode = MODE_PATCH;
    int r = scan_once(&s, 0);
    __atomic_fetch_add(&patched_objects, s.objects_written, __ATOMIC_RELAXED);
    __atomic_store_n(&installed, 1, __ATOMIC_RELEASE);
    if (r < 0 || (s.objects_written == 0 && s.errors > 0)) {
        /* Nothing usable: undo whatever was written. */
        scan_t u;
        memset(&u, 0, sizeof(u));
        u.mode = MODE_RESTORE;
        scan_once(&u, 0);
        __atomic_store_n(&installed, 0, __ATOMIC_RELEASE);
        pthread_mutex_unlock(&got_lock);
        int e = r < 0 ? r : s.last_error;
        return _scalene_mem_fail(why, why_len, e, "could not patch any loaded object (%s)", strerror(-e));
    }
    unlock_and_drain();
    return 0;
#endif
}

void _scalene_mem_got_refresh(void)
{
    if (!__atomic_load_n(&installed, __ATOMIC_ACQUIRE))
        return;
    __atomic_store_n(&refresh_pending, 1, __ATOMIC_RELEASE);
    if (pthread_mutex_trylock(&got_lock) != 0)
        return; /* the holder will serve the request before unlocking */
    unlock_and_drain();
}

int _scalene_mem_got_uninstall(void)
{
    pthread_mutex_lock(&got_lock);
    if (!__atomic_load_n(&installed, __ATOMIC_RELAXED)) {
        pthread_mutex_unlock(&got_lock);
        return 0;
    }
    __atomic_store_n(&installed, 0, __ATOMIC_RELEASE);
    __atomic_store_n(&refresh_pending, 0, __ATOMIC_RELAXED);
    scan_t s;
    memset(&s, 0, sizeof(s));
    s.mode = MODE_RESTORE;
    int r = scan_once(&s, 0);
    nseen = 0;
    log_len = 0;
    pthread_mutex_unlock(&got_lock);
    if (r < 0)
        return r;
    return s.errors ? s.last_error : 0;
}

uint64_t _scalene_mem_got_patched_objects(void)
{
    return __atomic_load_n(&patched_objects, __ATOMIC_RELAXED);
}

static size_t count_hooked(const char *substr, int *found, size_t *objects)
{
    pthread_mutex_lock(&got_lock);
    init_platform();
    scan_t s;
    memset(&s, 0, sizeof(s));
    s.mode = MODE_COUNT;
    s.substr = substr;
    /* Count against the hooks of the last install, even after uninstall. */
    scan_once(&s, 0);
    pthread_mutex_unlock(&got_lock);
    if (found)
        *found = s.substr_found;
    if (objects)
        *objects = s.hooked_objects;
    return s.slots;
}

size_t _scalene_mem_got_count_hooked(size_t *objects)
{
    return count_hooked(NULL, NULL, objects);
}

int _scalene_mem_got_object_hooked(const char *substr)
{
    int found = 0;
    count_hooked(substr, &found, NULL);
    return found;
}

/* ---- canonical PLT stubs --------------------------------------------------
 * In a non-PIE executable that takes the address of, say, malloc, the
 * executable's PLT stub becomes the canonical address of malloc, and
 * dlsym(RTLD_DEFAULT, "malloc") returns that stub.  Forwarding to it would
 * jump through the executable's (patched) GOT slot back into our hook.  The
 * function behind the stub is the value of that GOT slot once bound, or else
 * the first definition in load order after the executable. */

typedef struct {
    const char *name;
    uintptr_t cand;
    int is_stub;
    uintptr_t bound;
} unstub_t;

static int match_one(const char *name, void *ctx)
{
    return strcmp(name, ((unstub_t *)ctx)->name) == 0 ? 0 : -1;
}

static void unstub_visit(const obj_t *o, uintptr_t slot, const ElfW(Sym) *sym, int idx, void *ctx)
{
    unstub_t *u = ctx;
    if (idx < 0)
        return; /* data relocation, not the PLT slot */
    if (sym->st_shndx != SHN_UNDEF || sym->st_value == 0 || o->base + sym->st_value != u->cand)
        return;
    u->is_stub = 1;
    uintptr_t v = __atomic_load_n((uintptr_t *)slot, __ATOMIC_ACQUIRE);
    if (v && !obj_contains(o, v))
        u->bound = v;
}

static int main_cb(struct dl_phdr_info *info, size_t size, void *arg)
{
    (void)size;
    obj_t *o = arg;
    if (!obj_parse(info->dlpi_addr, info->dlpi_phdr, info->dlpi_phnum, o))
        o->dyn = 0;
    return 1; /* the main program is always first */
}

void *_scalene_mem_got_unstub(const char *name, void *cand)
{
#ifdef SCALENE_MEM_NO_GOT
    (void)name;
    return cand;
#else
    init_platform();
    obj_t o;
    memset(&o, 0, sizeof(o));
    dl_iterate_phdr(main_cb, &o);
    if (!o.dyn || !obj_contains(&o, (uintptr_t)cand))
        return cand;
    unstub_t u = {name, (uintptr_t)cand, 0, 0};
    visit_relocs(&o, match_one, unstub_visit, &u);
    if (!u.is_stub)
        return cand; /* the executable really defines it */
    if (u.bound)
        return (void *)u.bound;
    /* Unbound lazy slot: first definition among the other objects. */
    pthread_mutex_lock(&got_lock);
    collect_t c = {1, 0, 0, 0, 0};
    ncand = 0;
    names_len = 0;
    dl_iterate_phdr(collect_cb, &c);
    void *found = NULL;
    for (size_t i = 0; i < ncand && !found; i++) {
        const cand_t *cd = &((const cand_t *)cand_buf.p)[i];
        obj_t oo;
        void *h;
        if (cd->is_main || !pin_candidate(cd, &oo, &h))
            continue;
        void *f = dlsym(h, name);
        if (f && obj_contains(&oo, (uintptr_t)f))
            found = f;
        dlclose(h);
    }
    pthread_mutex_unlock(&got_lock);
    return found;
#endif
}

/* ---- fork ----------------------------------------------------------------
 * No prepare handler: taking got_lock there could deadlock against a scan
 * blocked in dlopen(NOLOAD) behind a fork()ing library constructor.  The
 * child is single-threaded, so it simply starts with a fresh lock; a scan
 * that was in progress in the parent is abandoned in the child (its RELRO
 * pages may stay writable there, which is harmless). */
void _scalene_mem_got_atfork_child(void)
{
    pthread_mutex_init(&got_lock, NULL);
    __atomic_store_n(&refresh_pending, 0, __ATOMIC_RELAXED);
}
