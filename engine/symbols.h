/* symbols.h: a name for a native code address (the leaf of a native sample).
 *
 * Never called from a signal handler: dladdr takes the dynamic loader's
 * lock, and an object's ELF symbol table is read from its file the first
 * time one of its addresses is asked for.  The drain calls it, with the
 * table lock held; that lock is what serialises the caches here.
 *
 * The name comes from the object's full symbol table (.symtab) where the
 * file still has one, so static functions (most of CPython's and numpy's
 * loops) get their own names; otherwise from the dynamic symbols dladdr
 * sees, which for a static function is the nearest exported one before it,
 * so the name is then marked as approximate ("sym+0x1f0" style offsets are
 * left to the caller).  C++ names are demangled by the process's own
 * __cxa_demangle when one is loaded, else left mangled.
 */
#ifndef SCALENE_SYMBOLS_H
#define SCALENE_SYMBOLS_H

#include <stdint.h>

typedef struct {
    const char *module; /* file name of the object, without directories */
    const char *symbol; /* function name, or "0x<offset in module>" if none */
    uintptr_t offset;   /* pc - start of that function (or of the module) */
} scalene_symbol_t;

/* 1 and *out filled if pc lies in a loaded object, else 0.  The strings
 * stay valid until scalene_symbols_reset(). */
int scalene_symbolize(uintptr_t pc, scalene_symbol_t *out);

/* Forget every cached object and name (after a dlclose could have reused
 * addresses: at reset and at the end of a profile). */
void scalene_symbols_reset(void);

/* In a forked child: drop (leak) the caches, which a drain may have been
 * updating when the parent forked. */
void scalene_symbols_after_fork_child(void);

#endif
