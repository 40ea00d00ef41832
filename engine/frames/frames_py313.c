/* Frame access for CPython 3.13: _PyInterpreterFrame chain from
 * tstate->current_frame; f_executable may be a non-code object for shim
 * frames; instr_ptr points at the instruction being executed. */
#include <Python.h>
#if PY_MAJOR_VERSION == 3 && PY_MINOR_VERSION == 13
#define Py_BUILD_CORE 1
#include "internal/pycore_frame.h"

#include "frames.h"

int
scalene_frames_capture(void *ts, scalene_raw_frame_t *out, int max, int *top_opcode)
{
    PyThreadState *tstate = (PyThreadState *)ts;
    *top_opcode = -1;
    if (tstate == NULL) {
        return 0;
    }
    int n = 0;
    int hops = 0;
    for (_PyInterpreterFrame *f = tstate->current_frame; f != NULL && n < max && hops < 4 * max;
         f = f->previous, hops++) {
        if (f->owner == FRAME_OWNED_BY_CSTACK) {
            continue;
        }
        PyObject *exe = f->f_executable;
        if (exe == NULL) {
            break;
        }
        if (Py_TYPE(exe) != &PyCode_Type) {
            continue; /* a shim frame (e.g. None), not Python code */
        }
        PyCodeObject *code = (PyCodeObject *)exe;
        _Py_CODEUNIT *first = _PyCode_CODE(code);
        Py_ssize_t index = f->instr_ptr - first;
        if (index >= Py_SIZE(code)) {
            break;
        }
        if (f->owner != FRAME_OWNED_BY_GENERATOR && index < code->_co_firsttraceable) {
            continue;
        }
        if (n == 0 && index >= 0) {
            *top_opcode = first[index].op.code;
        }
        out[n].code = code;
        out[n].offset = index < 0 ? -1 : (int32_t)(index * (Py_ssize_t)sizeof(_Py_CODEUNIT));
        n++;
    }
    return n;
}

int
scalene_frames_minor_version(void)
{
    return 13;
}

#endif
