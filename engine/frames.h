/* frames.h: the one interface to CPython's version-specific frame layout.
 *
 * "Give me this thread's frames: code object and instruction offset."  Each
 * supported minor version implements it in its own small file,
 * frames/frames_py3XX.c, compiled only against that version's headers (the
 * others compile to nothing).  A new CPython release is a new file here.
 */
#ifndef SCALENE_FRAMES_H
#define SCALENE_FRAMES_H

#include <stdint.h>

typedef struct {
    void *code;     /* PyCodeObject *, borrowed: alive as long as the frame
                       is on the (interrupted) thread's stack */
    int32_t offset; /* byte offset of the instruction being executed, or -1
                       if the frame has not started executing */
} scalene_raw_frame_t;

/* Walk the Python frames of thread state `tstate` (a PyThreadState *),
 * innermost first, writing at most `max` of them to `out`; returns how many.
 * `*top_opcode` receives the opcode byte stored at the innermost frame's
 * current instruction (possibly a specialised or instrumented opcode), or -1.
 *
 * Async-signal-safe when called on tstate's own thread from a signal handler
 * (nothing can push or pop frames under us): it reads memory only, follows
 * only pointers that it has validated (code objects must have PyCode_Type,
 * offsets must lie inside the code), skips frames that are still being set
 * up, and stops at the first inconsistency.  Also safe with the GIL held for
 * another thread's state. */
int scalene_frames_capture(void *tstate, scalene_raw_frame_t *out, int max, int *top_opcode);

/* The CPython minor version this build reads frames for (e.g. 12). */
int scalene_frames_minor_version(void);

#endif /* SCALENE_FRAMES_H */
