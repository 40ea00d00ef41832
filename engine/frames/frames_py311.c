/* Frame access for CPython 3.11: _PyInterpreterFrame chain from
 * tstate->cframe->current_frame; prev_instr points at the instruction being
 * executed (the eval loop stores it at every instruction). */
#include <Python.h>
#if PY_MAJOR_VERSION == 3 && PY_MINOR_VERSION == 11
#define Py_BUILD_CORE 1
#include "internal/pycore_frame.h"

#include "frames.h"

int
scalene_frames_capture(void *ts, scalene_raw_frame_t *out, int max, int *top_opcode)
{
    PyThreadState *tstate = (PyThreadState *)ts;
    *top_opcode = -1;
    if (tstate == NULL || tstate->cframe == NULL) {
        return 0;
    }
    int n = 0;
    int hops = 0;
    for (_PyInterpreterFrame *f = tstate->cframe->current_frame; f != NULL && n < max && hops < 4 * max;
         f = f->previous, hops++) {
        PyCodeObject *code = f->f_code;
        if (code == NULL || Py_TYPE(code) != &PyCode_Type) {
            break;
        }
        _Py_CODEUNIT *first = _PyCode_CODE(code);
        Py_ssize_t index = f->prev_instr - first;
        if (index >= Py_SIZE(code)) {
            break;
        }
        if (f->owner != FRAME_OWNED_BY_GENERATOR && index < code->_co_firsttraceable) {
            continue; /* still being set up: not yet a visible frame */
        }
        if (n == 0 && index >= 0) {
            *top_opcode = _Py_OPCODE(first[index]);
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
    return 11;
}

#endif
