/* Frame access for CPython 3.10: PyFrameObject chain from tstate->frame,
 * f_lasti counts code units (2 bytes each) into co_code. */
#include <Python.h>
#if PY_MAJOR_VERSION == 3 && PY_MINOR_VERSION == 10
#include <frameobject.h>

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
    for (PyFrameObject *f = tstate->frame; f != NULL && n < max; f = f->f_back) {
        PyCodeObject *code = f->f_code;
        if (code == NULL || Py_TYPE(code) != &PyCode_Type || code->co_code == NULL) {
            break;
        }
        Py_ssize_t nunits = PyBytes_GET_SIZE(code->co_code) / 2;
        int lasti = f->f_lasti;
        if (lasti >= nunits) {
            break;
        }
        if (n == 0 && lasti >= 0) {
            *top_opcode = ((const unsigned char *)PyBytes_AS_STRING(code->co_code))[2 * lasti];
        }
        out[n].code = code;
        out[n].offset = lasti < 0 ? -1 : 2 * lasti;
        n++;
    }
    return n;
}

int
scalene_frames_minor_version(void)
{
    return 10;
}

#endif
