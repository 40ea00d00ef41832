/* symbols_elf.c: scalene_symbolize() for ELF platforms (Linux).
 *
 * dladdr finds the object an address belongs to and its dynamic symbol;
 * the object's .symtab, read once from its file, names static functions
 * too.  Everything here runs on the drain thread with the table lock held
 * (see symbols.h): that lock protects every static below.
 */
#include "symbols.h"

#include <dlfcn.h>
#include <elf.h>
#include <fcntl.h>
#include <link.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

typedef struct {
    uintptr_t start; /* relative to the object's load bias */
    uintptr_t size;  /* 0: unknown, the symbol extends to the next one */
    uint32_t name;   /* offset into the object's names */
} func_sym_t;

typedef struct {
    uintptr_t base;       /* dli_fbase: identifies the loaded object */
    uintptr_t bias;       /* add to a symbol's value to get its address */
    char *module;         /* basename of the file */
    func_sym_t *syms;     /* sorted by start; NULL if the file had no .symtab */
    size_t nsyms;
    char *names;
    uintptr_t *starts;    /* function starts (relative) from .eh_frame_hdr, sorted */
    size_t nstarts;
    char *anon;           /* "0x<start>" names of those, lazily, 20 bytes each */
} object_t;

/* Objects seen so far (table lock).  A process maps a few hundred at most. */
static object_t *objects;
static size_t nobjects, objects_cap;

/* pc -> resolved name, direct-mapped (table lock): native samples repeat
 * the same hot addresses, and dladdr is a linear walk of the loaded objects. */
#define PC_CACHE_SIZE 4096
typedef struct {
    uintptr_t pc;
    const object_t *obj; /* NULL: entry empty */
    const char *symbol;
    uintptr_t offset;
} pc_entry_t;
static pc_entry_t pc_cache[PC_CACHE_SIZE];

#define ANON_NAME 20 /* "0x" + 16 hex digits + NUL, rounded */

/* C++ names, demangled once per distinct name (table lock): mangled name
 * pointer (stable while its object is known) -> malloc'd readable name. */
#define DEMANGLED_CACHE_SIZE 1024
typedef struct {
    const char *mangled; /* NULL: entry empty */
    char *readable;
} demangled_t;
static demangled_t demangled_cache[DEMANGLED_CACHE_SIZE];

/* The C++ runtime's demangler, if the process has one loaded (a process
 * whose native leaves are C++ code usually has): looked up, not linked, so
 * that the engine does not depend on libstdc++, and never loaded by us.
 * Extension modules are loaded RTLD_LOCAL, and so is the libstdc++ they
 * bring, so the global scope does not see it: ask for it by name. */
typedef char *(*cxa_demangle_t)(const char *, char *, size_t *, int *);
static cxa_demangle_t cxa_demangle; /* table lock; once found, kept */

static cxa_demangle_t
find_demangler(void)
{
    static const char *const runtimes[] = {"libstdc++.so.6", "libc++abi.so.1", "libc++.so.1"};
    if (cxa_demangle != NULL) {
        return cxa_demangle;
    }
    cxa_demangle = (cxa_demangle_t)dlsym(RTLD_DEFAULT, "__cxa_demangle");
    for (size_t i = 0; cxa_demangle == NULL && i < sizeof(runtimes) / sizeof(runtimes[0]); i++) {
        /* RTLD_NOLOAD: only if already loaded.  The reference it takes is
         * kept on purpose: the function must outlive its other users. */
        void *h = dlopen(runtimes[i], RTLD_LAZY | RTLD_NOLOAD);
        if (h != NULL) {
            cxa_demangle = (cxa_demangle_t)dlsym(h, "__cxa_demangle");
        }
    }
    return cxa_demangle;
}

/* A readable form of a C++ (Itanium ABI) name; name itself otherwise, or
 * when no demangler is loaded or the name does not parse. */
static const char *
readable_name(const char *name)
{
    if (name == NULL || name[0] != '_' || name[1] != 'Z') {
        return name;
    }
    demangled_t *e = &demangled_cache[((uintptr_t)name >> 3) % DEMANGLED_CACHE_SIZE];
    if (e->mangled == name) {
        return e->readable;
    }
    cxa_demangle_t demangle = find_demangler();
    if (demangle == NULL) {
        return name;
    }
    int status = -1;
    char *readable = demangle(name, NULL, NULL, &status);
    if (status != 0 || readable == NULL) {
        free(readable);
        return name;
    }
    for (size_t i = 0; e->readable != NULL && i < PC_CACHE_SIZE; i++) {
        if (pc_cache[i].symbol == e->readable) {
            pc_cache[i].obj = NULL; /* about to be evicted: forget who points at it */
        }
    }
    free(e->readable);
    e->mangled = name;
    e->readable = readable;
    return readable;
}

static int
cmp_sym(const void *a, const void *b)
{
    const func_sym_t *x = a, *y = b;
    return x->start < y->start ? -1 : x->start > y->start;
}

/* Function starts from .eh_frame_hdr, which stripping keeps (unwinding
 * needs it): where a stripped library has no name for a function, its
 * samples still add up under one "0x<start>" instead of one per address.
 * Only the encoding every toolchain here emits is read (a table of 4-byte
 * offsets from the header); anything else leaves the object without. */
static void
load_function_starts(object_t *o, const unsigned char *hdr, size_t len, uintptr_t hdr_vaddr)
{
    enum { PE_UDATA4 = 0x03, PE_SDATA4 = 0x0b, PE_DATAREL_SDATA4 = 0x3b };
    if (len < 12 || hdr[0] != 1 || (hdr[1] & 0x0f) != PE_SDATA4 || hdr[2] != PE_UDATA4 ||
        hdr[3] != PE_DATAREL_SDATA4) {
        return;
    }
    uint32_t count;
    memcpy(&count, hdr + 8, 4);
    if (count == 0 || count > (len - 12) / 8) {
        return;
    }
    o->starts = malloc((size_t)count * sizeof(uintptr_t));
    if (o->starts == NULL) {
        return;
    }
    for (uint32_t i = 0; i < count; i++) {
        int32_t rel;
        memcpy(&rel, hdr + 12 + (size_t)i * 8, 4);
        o->starts[i] = hdr_vaddr + (uintptr_t)(intptr_t)rel;
    }
    o->nstarts = count; /* the table is sorted by definition (binary search) */
}

/* Read the function symbols of an ELF file's .symtab (64-bit, native byte
 * order).  On any inconsistency the object keeps no table: its names then
 * come from dladdr alone. */
static void
load_symtab(object_t *o, const char *path)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        return;
    }
    struct stat st;
    if (fstat(fd, &st) != 0 || st.st_size < (off_t)sizeof(Elf64_Ehdr)) {
        close(fd);
        return;
    }
    size_t len = (size_t)st.st_size;
    const unsigned char *map = mmap(NULL, len, PROT_READ, MAP_PRIVATE, fd, 0);
    close(fd);
    if (map == MAP_FAILED) {
        return;
    }
    const Elf64_Ehdr *eh = (const void *)map;
    if (memcmp(eh->e_ident, ELFMAG, SELFMAG) != 0 || eh->e_ident[EI_CLASS] != ELFCLASS64 ||
        eh->e_shentsize != sizeof(Elf64_Shdr) || eh->e_phentsize != sizeof(Elf64_Phdr) ||
        eh->e_shoff > len || (size_t)eh->e_shnum * sizeof(Elf64_Shdr) > len - eh->e_shoff ||
        eh->e_phoff > len || (size_t)eh->e_phnum * sizeof(Elf64_Phdr) > len - eh->e_phoff) {
        goto done;
    }
    /* The load bias: dli_fbase is where the lowest PT_LOAD segment's page
     * was mapped, so bias = base - that segment's page-aligned vaddr. */
    const Elf64_Phdr *ph = (const void *)(map + eh->e_phoff);
    uintptr_t lowest = UINTPTR_MAX;
    for (int i = 0; i < eh->e_phnum; i++) {
        if (ph[i].p_type == PT_LOAD && ph[i].p_vaddr < lowest) {
            lowest = ph[i].p_vaddr;
        }
    }
    if (lowest == UINTPTR_MAX) {
        goto done;
    }
    o->bias = o->base - (lowest & ~(uintptr_t)0xfff);
    for (int i = 0; i < eh->e_phnum; i++) {
        if (ph[i].p_type == PT_GNU_EH_FRAME && ph[i].p_offset <= len && ph[i].p_filesz <= len - ph[i].p_offset) {
            load_function_starts(o, map + ph[i].p_offset, ph[i].p_filesz, ph[i].p_vaddr);
        }
    }
    const Elf64_Shdr *sh = (const void *)(map + eh->e_shoff);
    for (int i = 0; i < eh->e_shnum; i++) {
        if (sh[i].sh_type != SHT_SYMTAB || sh[i].sh_link >= eh->e_shnum ||
            sh[i].sh_entsize != sizeof(Elf64_Sym)) {
            continue;
        }
        const Elf64_Shdr *strs = &sh[sh[i].sh_link];
        if (sh[i].sh_offset > len || sh[i].sh_size > len - sh[i].sh_offset || strs->sh_offset > len ||
            strs->sh_size > len - strs->sh_offset || strs->sh_size == 0) {
            break;
        }
        const Elf64_Sym *sym = (const void *)(map + sh[i].sh_offset);
        size_t n = sh[i].sh_size / sizeof(Elf64_Sym);
        const char *strtab = (const char *)(map + strs->sh_offset);
        size_t nfunc = 0, names_len = 0;
        for (size_t j = 0; j < n; j++) {
            if (ELF64_ST_TYPE(sym[j].st_info) == STT_FUNC && sym[j].st_value != 0 && sym[j].st_name < strs->sh_size) {
                nfunc++;
                names_len += strnlen(strtab + sym[j].st_name, strs->sh_size - sym[j].st_name) + 1;
            }
        }
        if (nfunc == 0 || names_len > UINT32_MAX) {
            break;
        }
        o->syms = malloc(nfunc * sizeof(func_sym_t));
        o->names = malloc(names_len);
        if (o->syms == NULL || o->names == NULL) {
            free(o->syms);
            free(o->names);
            o->syms = NULL;
            o->names = NULL;
            break;
        }
        size_t k = 0, at = 0;
        for (size_t j = 0; j < n; j++) {
            if (ELF64_ST_TYPE(sym[j].st_info) == STT_FUNC && sym[j].st_value != 0 && sym[j].st_name < strs->sh_size) {
                size_t l = strnlen(strtab + sym[j].st_name, strs->sh_size - sym[j].st_name);
                memcpy(o->names + at, strtab + sym[j].st_name, l);
                o->names[at + l] = '\0';
                o->syms[k++] = (func_sym_t){.start = sym[j].st_value, .size = sym[j].st_size, .name = (uint32_t)at};
                at += l + 1;
            }
        }
        o->nsyms = k;
        qsort(o->syms, k, sizeof(func_sym_t), cmp_sym);
        break;
    }
done:
    munmap((void *)map, len);
}

static object_t *
object_for(const Dl_info *info)
{
    uintptr_t base = (uintptr_t)info->dli_fbase;
    for (size_t i = 0; i < nobjects; i++) {
        if (objects[i].base == base) {
            return &objects[i];
        }
    }
    if (nobjects == objects_cap) {
        size_t cap = objects_cap ? 2 * objects_cap : 32;
        object_t *bigger = realloc(objects, cap * sizeof(object_t));
        if (bigger == NULL) {
            return NULL;
        }
        /* pc_cache points into the array: it moves, so forget the cache */
        memset(pc_cache, 0, sizeof(pc_cache));
        objects = bigger;
        objects_cap = cap;
    }
    object_t *o = &objects[nobjects];
    memset(o, 0, sizeof(*o));
    o->base = base;
    /* The main program's dli_fname is whatever argv[0] was; its file is
     * /proc/self/exe.  A shared object's is the path it was loaded from. */
    const char *path = info->dli_fname != NULL ? info->dli_fname : "";
    Dl_info main_info;
    void *main_handle = dlopen(NULL, RTLD_LAZY | RTLD_NOLOAD);
    struct link_map *main_map = NULL;
    int is_main = path[0] == '\0' || strchr(path, '/') == NULL;
    if (main_handle != NULL) {
        if (dlinfo(main_handle, RTLD_DI_LINKMAP, &main_map) == 0 && main_map != NULL &&
            dladdr((void *)main_map->l_ld, &main_info) != 0 && (uintptr_t)main_info.dli_fbase == base) {
            is_main = 1;
        }
        dlclose(main_handle);
    }
    char exe[4096];
    if (is_main) {
        ssize_t l = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
        if (l > 0) {
            exe[l] = '\0';
            path = exe;
        }
    }
    const char *slash = strrchr(path, '/');
    o->module = strdup(slash != NULL ? slash + 1 : (path[0] ? path : "?"));
    if (o->module == NULL) {
        return NULL;
    }
    load_symtab(o, path);
    nobjects++;
    return o;
}

static const func_sym_t *
find_sym(const object_t *o, uintptr_t rel)
{
    size_t lo = 0, hi = o->nsyms;
    while (lo < hi) { /* first symbol starting after rel */
        size_t mid = lo + (hi - lo) / 2;
        if (o->syms[mid].start <= rel) {
            lo = mid + 1;
        } else {
            hi = mid;
        }
    }
    /* candidates end at lo-1; prefer one whose extent contains rel (aliases
     * share a start, nested local labels may precede) */
    for (size_t i = lo; i > 0 && lo - i < 8; i--) {
        const func_sym_t *s = &o->syms[i - 1];
        if (s->size == 0 || rel < s->start + s->size) {
            return s;
        }
    }
    return NULL;
}

/* The function containing rel by .eh_frame_hdr, named by its start. */
static int
anonymous_function(object_t *o, uintptr_t rel, const char **symbol, uintptr_t *offset)
{
    size_t lo = 0, hi = o->nstarts;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (o->starts[mid] <= rel) {
            lo = mid + 1;
        } else {
            hi = mid;
        }
    }
    if (lo == 0) {
        return 0;
    }
    if (o->anon == NULL) {
        o->anon = calloc(o->nstarts, ANON_NAME);
        if (o->anon == NULL) {
            return 0;
        }
    }
    char *name = o->anon + (lo - 1) * ANON_NAME;
    if (name[0] == '\0') {
        snprintf(name, ANON_NAME, "0x%lx", (unsigned long)o->starts[lo - 1]);
    }
    *symbol = name;
    *offset = rel - o->starts[lo - 1];
    return 1;
}

int
scalene_symbolize(uintptr_t pc, scalene_symbol_t *out)
{
    pc_entry_t *e = &pc_cache[(pc >> 2) % PC_CACHE_SIZE];
    if (e->obj != NULL && e->pc == pc) {
        *out = (scalene_symbol_t){.module = e->obj->module, .symbol = e->symbol, .offset = e->offset};
        return 1;
    }
    Dl_info info;
    if (pc == 0 || dladdr((void *)pc, &info) == 0 || info.dli_fbase == NULL) {
        return 0;
    }
    object_t *o = object_for(&info);
    if (o == NULL) {
        return 0;
    }
    const char *symbol = NULL;
    uintptr_t offset = 0;
    const func_sym_t *s = o->syms != NULL ? find_sym(o, pc - o->bias) : NULL;
    if (s != NULL) {
        symbol = o->names + s->name;
        offset = pc - o->bias - s->start;
    } else if (info.dli_sname != NULL && info.dli_saddr != NULL && (uintptr_t)info.dli_saddr <= pc) {
        symbol = info.dli_sname; /* lives as long as the object is loaded */
        offset = pc - (uintptr_t)info.dli_saddr;
    } else if (!anonymous_function(o, pc - o->bias, &symbol, &offset)) {
        static char unknown[] = "?";
        *out = (scalene_symbol_t){.module = o->module, .symbol = unknown, .offset = 0};
        return 1; /* not cached: rare, and a later load may know it */
    }
    symbol = readable_name(symbol);
    *e = (pc_entry_t){.pc = pc, .obj = o, .symbol = symbol, .offset = offset};
    *out = (scalene_symbol_t){.module = o->module, .symbol = symbol, .offset = offset};
    return 1;
}

void
scalene_symbols_after_fork_child(void)
{
    objects = NULL;
    nobjects = objects_cap = 0;
    memset(pc_cache, 0, sizeof(pc_cache));
    memset(demangled_cache, 0, sizeof(demangled_cache));
}

void
scalene_symbols_reset(void)
{
    for (size_t i = 0; i < nobjects; i++) {
        free(objects[i].module);
        free(objects[i].syms);
        free(objects[i].names);
        free(objects[i].starts);
        free(objects[i].anon);
    }
    free(objects);
    objects = NULL;
    nobjects = objects_cap = 0;
    memset(pc_cache, 0, sizeof(pc_cache));
    for (size_t i = 0; i < DEMANGLED_CACHE_SIZE; i++) {
        free(demangled_cache[i].readable);
    }
    memset(demangled_cache, 0, sizeof(demangled_cache));
}
