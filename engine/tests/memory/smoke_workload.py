"""Runs inside a live interpreter: install the layer, work, check, uninstall.

usage: python smoke_workload.py path/to/libscalene_mem_smoke.so
Prints the counters and exits nonzero on a failed check.
"""
import ctypes
import os
import sys
import threading

lib = ctypes.PyDLL(sys.argv[1])  # PyDLL: calls keep the GIL
lib.smoke_install.argtypes = [ctypes.c_uint64, ctypes.c_int, ctypes.c_char_p, ctypes.c_size_t]
Counts = ctypes.c_uint64 * 14


def counts():
    c = Counts()
    lib.smoke_counts(c)
    names = ["mal_native", "mal_python", "frees", "copies", "w_native", "w_python", "w_freed", "w_copied",
             "st_malloc", "st_free", "st_copy", "dropped", "tracked", "patched"]
    return dict(zip(names, c))


def check(cond, what):
    if not cond:
        print("FAILED:", what, counts(), flush=True)
        sys.exit(1)


why = ctypes.create_string_buffer(256)
r = lib.smoke_install(1 << 16, 1, why, 256)
check(r == 0, f"install: {r} {why.value!r}")

# Imports after install: extension modules are dlopen()ed now and get patched.
import decimal, json, zlib  # noqa: E401,E402
try:
    import sqlite3
except ImportError:
    sqlite3 = None

data = [{"k": i, "v": str(i) * 10, "d": decimal.Decimal(i) / 7} for i in range(20000)]
s = json.dumps(data, default=str)
back = json.loads(s)
z = zlib.compress(s.encode())  # zlib allocates with malloc (NATIVE)
check(zlib.decompress(z) == s.encode(), "zlib round trip")
if sqlite3 is not None:
    con = sqlite3.connect(":memory:")
    con.execute("create table t(x, y)")
    con.executemany("insert into t values (?, ?)", [(i, "x" * 100) for i in range(5000)])
    check(con.execute("select count(*) from t").fetchone()[0] == 5000, "sqlite")
    con.close()

# dlopen after install.  (ctypes gets malloc from dlsym and calls it directly:
# such calls bypass every relocation and are not seen -- documented.)
libc = ctypes.CDLL(None)
libc.malloc.restype = ctypes.c_void_p
libc.free.argtypes = [ctypes.c_void_p]
for _ in range(200):
    libc.free(libc.malloc(1 << 20))


def work():
    for i in range(100):
        x = [bytes(1000) for _ in range(100)]
        y = bytearray(100000)
        y[:] = bytes(100000)
        del x, y


ts = [threading.Thread(target=work) for _ in range(4)]
[t.start() for t in ts]
[t.join() for t in ts]

pid = os.fork()
if pid == 0:
    before = counts()["mal_python"]
    junk = [str(i) * 50 for i in range(20000)]
    os._exit(0 if counts()["mal_python"] > before else 3)
_, status = os.waitpid(pid, 0)
check(os.WIFEXITED(status) and os.WEXITSTATUS(status) == 0, f"forked child status {status}")

c = counts()
print(sys.version.split()[0], c, flush=True)
check(c["mal_python"] > 100 and c["mal_native"] > 10, "samples in both domains")
check(c["frees"] > 10 and c["copies"] > 10, "frees and copies")
check(c["patched"] >= 5, "patched objects")
check(c["dropped"] == 0, "dropped")
tracked_before = c["tracked"]
del data, s, back, z
c = counts()
check(c["tracked"] < tracked_before, "frees of Python objects retire their records")
r = lib.smoke_uninstall()
check(r == 0, f"uninstall: {r}")
n = counts()["st_malloc"]
junk = [bytes(100000) for _ in range(1000)]
check(counts()["st_malloc"] == n, "samples after uninstall")
print("ok", flush=True)
