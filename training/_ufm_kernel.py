"""The UFM's SGD epochs as one compiled C loop over runs, epochs and steps (CPU engine "kernel").

Why C: a UFM step touches 4 columns of H and a d x k matrix W, a few hundred flops, so any
per-step dispatch dwarfs the arithmetic. Measured for the 12 runs of Fig 4 batched (d = 4, 2
shared cores): PyTorch eager ~75 us per step of all runs (11 small ops), torch.compile of a
10-step unrolled chunk ~37 us/step after 70 s of compiling, NumPy ~55 us/step. Here the whole
loop runs in C on the tensors' own memory (torch tensors, CPU, contiguous): about 0.3-1 us per
step of each run. The source below is compiled once per machine with the system C
compiler (`cc -O2`, no fast-math, so IEEE results are reproducible) into a cache folder
($SELI_CACHE, else $XDG_CACHE_HOME/seli or ~/.cache/seli), under a name hashed from the source,
the flags and the compiler's version, and loaded with ctypes; without a compiler the trainer
falls back to the batched torch engine (engine "auto"; the CLI says so on stderr).

Storage is transposed for contiguous vectors: Wt (runs, k, d) so w_c is a row, Ht (runs, rows, d)
so h_i is a row (rows >= every run's n; run r uses its first n_r rows). The per-epoch batch
order is the counter-based Fisher-Yates shuffle of `training.ufm_engines.epoch_permutation`
(the same function of (seed, epoch) in C and in NumPy), so every engine visits the same
batches and a resumed run needs no generator state.
"""

from __future__ import annotations

import ctypes
import hashlib
import os
import shutil
import subprocess
import tempfile
from pathlib import Path

SOURCE = r"""
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

static inline uint64_t mix64(uint64_t z) {
    z += 0x9E3779B97F4A7C15ULL;
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
    return z ^ (z >> 31);
}

/* Fisher-Yates: for i = n-1 .. 1, j = floor(u_i (i+1)), u_i from mix64(base + i). */
static void permutation(uint64_t seed, int64_t epoch, int64_t n, int64_t *perm) {
    uint64_t base = mix64(mix64(seed) ^ (uint64_t)epoch);
    for (int64_t i = 0; i < n; i++) perm[i] = i;
    for (int64_t i = n - 1; i > 0; i--) {
        uint64_t r = mix64(base + (uint64_t)i) >> 32;
        int64_t j = (int64_t)((r * (uint64_t)(i + 1)) >> 32);
        int64_t t = perm[i]; perm[i] = perm[j]; perm[j] = t;
    }
}

#define DEFINE_EPOCHS(NAME, REAL, EXP)                                                        \
int64_t NAME(int64_t runs, int64_t d, int64_t k, int64_t rows, int64_t batch,              \
             int64_t epoch_from, int64_t epoch_to, const int64_t *n, const int64_t *y,       \
             const uint64_t *seed, const double *lr, double lam, int64_t mean, int64_t shuffle,\
             REAL *Wt, REAL *Ht)                                                             \
{                                                                                           \
    int64_t *perm = (int64_t *)malloc(sizeof(int64_t) * (size_t)rows);                    \
    REAL *gW = (REAL *)malloc(sizeof(REAL) * (size_t)(k * d));                               \
    REAL *gH = (REAL *)malloc(sizeof(REAL) * (size_t)(batch * d));                           \
    REAL *z = (REAL *)malloc(sizeof(REAL) * (size_t)k);                                      \
    int64_t bad = -1;                                                                       \
    if (!perm || !gW || !gH || !z) { free(perm); free(gW); free(gH); free(z); return -2; }  \
    for (int64_t r = 0; r < runs && bad < 0; r++) {                                          \
        REAL *W = Wt + r * k * d;                                                           \
        REAL *H = Ht + r * rows * d;                                                       \
        const int64_t *yr = y + r * rows;                                                  \
        const int64_t nr = n[r];                                                            \
        const REAL eta = (REAL)lr[r];                                                       \
        const REAL decay = (REAL)lam;                                                       \
        for (int64_t e = epoch_from; e < epoch_to; e++) {                                   \
            if (shuffle) permutation(seed[r], e, nr, perm);                                 \
            else for (int64_t i = 0; i < nr; i++) perm[i] = i;                              \
            for (int64_t s0 = 0; s0 < nr; s0 += batch) {                                    \
                const int64_t bs = (nr - s0 < batch) ? nr - s0 : batch;                     \
                const REAL scale = mean ? (REAL)1 / (REAL)bs : (REAL)1;                     \
                memset(gW, 0, sizeof(REAL) * (size_t)(k * d));                              \
                for (int64_t b = 0; b < bs; b++) {                                          \
                    const int64_t i = perm[s0 + b];                                         \
                    const REAL *h = H + i * d;                                              \
                    REAL zmax = -INFINITY, zsum = 0;                                        \
                    for (int64_t c = 0; c < k; c++) {   /* z = W^T h_i */                   \
                        const REAL *w = W + c * d; REAL acc = 0;                            \
                        for (int64_t j = 0; j < d; j++) acc += w[j] * h[j];                 \
                        z[c] = acc; if (acc > zmax) zmax = acc;                             \
                    }                                                                       \
                    for (int64_t c = 0; c < k; c++) { z[c] = EXP(z[c] - zmax); zsum += z[c]; } \
                    REAL *gh = gH + b * d;                                                  \
                    for (int64_t j = 0; j < d; j++) gh[j] = 0;                              \
                    for (int64_t c = 0; c < k; c++) {   /* g = (softmax - e_y) * scale */  \
                        REAL g = (z[c] / zsum - (c == yr[i] ? (REAL)1 : (REAL)0)) * scale; \
                        const REAL *w = W + c * d; REAL *gw = gW + c * d;                   \
                        for (int64_t j = 0; j < d; j++) { gw[j] += g * h[j]; gh[j] += g * w[j]; } \
                    }                                                                       \
                }                                                                           \
                if (decay != 0) {   /* ridge of (1) as weight decay: all of W and H, every step */ \
                    for (int64_t q = 0; q < k * d; q++) gW[q] += decay * W[q];              \
                    for (int64_t b = 0; b < bs; b++) {  /* gH <- h - eta (g_h + lam h) */   \
                        const REAL *h = H + perm[s0 + b] * d; REAL *gh = gH + b * d;        \
                        for (int64_t j = 0; j < d; j++) gh[j] = h[j] - eta * (gh[j] + decay * h[j]); \
                    }                                                                       \
                    for (int64_t q = 0; q < nr * d; q++) H[q] -= eta * (decay * H[q]);      \
                    for (int64_t b = 0; b < bs; b++)                                        \
                        memcpy(H + perm[s0 + b] * d, gH + b * d, sizeof(REAL) * (size_t)d); \
                } else {                                                                    \
                    for (int64_t b = 0; b < bs; b++) {                                      \
                        REAL *h = H + perm[s0 + b] * d; const REAL *gh = gH + b * d;        \
                        for (int64_t j = 0; j < d; j++) h[j] -= eta * gh[j];                \
                    }                                                                       \
                }                                                                           \
                for (int64_t q = 0; q < k * d; q++) W[q] -= eta * gW[q];                    \
            }                                                                               \
            REAL check = 0;   /* W[q] * 0 is NaN exactly when W[q] is NaN or inf */      \
            for (int64_t q = 0; q < k * d; q++) check += W[q] * 0;                          \
            if (isnan(check)) { bad = e; break; }                             \
        }                                                                                   \
    }                                                                                       \
    free(perm); free(gW); free(gH); free(z);                                                \
    return bad;                                                                             \
}

DEFINE_EPOCHS(ufm_epochs_f64, double, exp)
DEFINE_EPOCHS(ufm_epochs_f32, float, expf)

void permutations(const uint64_t *seed, int64_t runs, int64_t epoch, int64_t n, int64_t *out) {
    for (int64_t r = 0; r < runs; r++) permutation(seed[r], epoch, n, out + r * n);
}
"""

_LIB = None
_LIB_ERROR: str | None = None


def _cache_dir() -> Path:
    root = os.environ.get("SELI_CACHE") or os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(root) / "seli"


# -O2 without fast-math and without fused multiply-adds: IEEE results, the same on every run
FLAGS = ("-O2", "-std=c99", "-fPIC", "-shared", "-fno-fast-math", "-ffp-contract=off")


def _compiler() -> str:
    cc = os.environ.get("CC") or shutil.which("cc") or shutil.which("gcc") or shutil.which("clang")
    if cc is None:
        raise OSError("no C compiler (cc, gcc or clang) on PATH, and $CC is not set")
    return cc


def _compiler_id(cc: str) -> str:
    """The compiler's path and its `--version` text: an upgraded compiler gets a fresh build."""
    try:
        proc = subprocess.run([cc, "--version"], capture_output=True, text=True, timeout=30)
    except (OSError, subprocess.SubprocessError) as err:
        raise OSError(f"the C compiler {cc!r} cannot be run ({err})") from None
    return f"{shutil.which(cc) or cc}\n{proc.stdout}"


def cache_path(cc: str | None = None) -> Path:
    """Where the library for this source, these flags and this compiler is (or will be) cached.

    The name carries a hash of all three, so a changed source, flag or compiler never loads a
    stale build.
    """
    cc = cc or _compiler()
    key = "\0".join((SOURCE, " ".join(FLAGS), _compiler_id(cc)))
    tag = hashlib.sha256(key.encode()).hexdigest()[:16]
    return _cache_dir() / f"ufm_kernel_{tag}.so"


def _build() -> ctypes.CDLL:
    cc = _compiler()
    lib_path = cache_path(cc)
    folder = lib_path.parent
    folder.mkdir(parents=True, exist_ok=True)
    if not lib_path.exists():
        # Each builder compiles in a private temporary folder and renames the result into place:
        # os.replace is atomic, so processes racing here (parallel sweep cells) each load a
        # whole library, never one another's half-written file.
        with tempfile.TemporaryDirectory(dir=folder) as tmp:
            src = Path(tmp) / "ufm_kernel.c"
            src.write_text(SOURCE)
            out = Path(tmp) / lib_path.name
            proc = subprocess.run([cc, *FLAGS, "-o", str(out), str(src), "-lm"],
                                  capture_output=True, text=True)
            if proc.returncode != 0:
                # one line: the CLI quotes this reason in a one-line note
                raise OSError(f"compiling the UFM kernel with {cc} failed: "
                              f"{' '.join(proc.stderr.split())[:300]}")
            os.replace(out, lib_path)
    lib = ctypes.CDLL(str(lib_path))
    i64, p = ctypes.c_int64, ctypes.c_void_p
    for name in ("ufm_epochs_f64", "ufm_epochs_f32"):
        fn = getattr(lib, name)
        fn.restype = i64
        fn.argtypes = [i64] * 7 + [p, p, p, p, ctypes.c_double, i64, i64, p, p]
    lib.permutations.restype = None
    lib.permutations.argtypes = [p, i64, i64, i64, p]
    return lib


def load():
    """The compiled library, or None (with `error()` saying why) when it cannot be built."""
    global _LIB, _LIB_ERROR
    if _LIB is None and _LIB_ERROR is None:
        try:
            _LIB = _build()
        except OSError as err:
            _LIB_ERROR = str(err)
    return _LIB


def error() -> str | None:
    return _LIB_ERROR
