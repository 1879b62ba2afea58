"""Three interchangeable ways to advance a batch of UFM runs by whole epochs.

All three apply the same update to the same state, so they agree to rounding (tests check it):
for a batch S of the epoch's shuffled order (`epoch_permutation`), with g_i = s (softmax(W^T h_i)
- e_{y_i}), s = 1 for reduction "sum" (Eqn (1)) or 1/|S| for "mean",

    W   <- W   - lr (sum_{i in S} h_i g_i^T + lam W)
    h_i <- h_i - lr (W g_i + lam h_i)   for i in S;   h_j <- h_j - lr lam h_j otherwise,

i.e. torch.optim.SGD(weight_decay=lam) on cross_entropy(reduction) of the batch, which is the
ridge-regularized (1) when lam > 0 and the unregularized CE of Fig 4 when lam = 0.

- "kernel": one compiled C loop per group of runs (see `_ufm_kernel`), runs split over threads.
  CPU only; the fastest by far, since a step is a few hundred flops.
- "torch": the runs batched into (runs, ...) tensors with the gradients written out (no
  autograd): 7 small ops per step for all runs at once (gather, bmm, softmax, addcmul, bmm,
  baddbmm_, scatter_add_), with the epoch's indices, labels and weights prepared in bulk. Works on cpu and cuda;
  on cuda, with cuda_graphs=True, an epoch's steps are captured once in a CUDA graph and
  replayed (opt-in: not yet measured on a GPU).
- "autograd": the plain PyTorch loop, one run at a time, torch.optim.SGD and loss.backward()
  per step. The reference the others are tested against, and the benchmark's baseline.

State layout (shared): Wt (runs, k, d) and Ht (runs, rows, d) with rows = n_max + 1; row n_max is a
padding row the batched engine points empty batch slots at. W = Wt^T, H = Ht[:n]^T.
"""

from __future__ import annotations

import contextlib
import math
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import torch

from . import _ufm_kernel

_M1 = np.uint64(0x9E3779B97F4A7C15)
_M2 = np.uint64(0xBF58476D1CE4E5B9)
_M3 = np.uint64(0x94D049BB133111EB)


def _mix64(z: np.ndarray) -> np.ndarray:
    """splitmix64's finalizer on uint64 arrays (wrapping arithmetic, as in C)."""
    z = z + _M1
    z = (z ^ (z >> np.uint64(30))) * _M2
    z = (z ^ (z >> np.uint64(27))) * _M3
    return z ^ (z >> np.uint64(31))


def epoch_permutation(seeds, epoch, n) -> np.ndarray:
    """The batch order of one epoch for each run: a Fisher-Yates shuffle of 0..n_r-1.

    Counter-based, so the order is a pure function of (seed, epoch): resuming needs no
    generator state and every engine, in C or NumPy, visits the same batches. Returns
    (runs, max n) int64, each row's first n_r entries a permutation (the rest -1); with an
    array of epochs, (epochs, runs, max n).

    >>> epoch_permutation([0], 0, [6]).tolist()
    [[2, 5, 1, 3, 0, 4]]
    """
    seeds = np.asarray(seeds, dtype=np.uint64).reshape(-1)
    n = np.broadcast_to(np.asarray(n, dtype=np.int64), seeds.shape)
    epochs = np.asarray(epoch, dtype=np.uint64)
    E = epochs.reshape(-1)
    n_max = int(n.max()) if n.size else 0
    with np.errstate(over="ignore"):
        base = _mix64(_mix64(seeds)[None, :] ^ E[:, None]).reshape(-1)  # (E * runs,)
        i = np.arange(n_max, dtype=np.uint64)
        r = _mix64(base[:, None] + i[None, :]) >> np.uint64(32)  # (E * runs, n_max)
        j = ((r * (i + np.uint64(1))[None, :]) >> np.uint64(32)).astype(np.int64)
    nn = np.tile(n, E.size)  # (E * runs,)
    perm = np.tile(np.arange(n_max, dtype=np.int64), (nn.size, 1))
    rows = np.arange(nn.size)
    for t in range(n_max - 1, 0, -1):
        live = rows[t < nn] if t >= n.min() else rows
        jt = j[live, t]
        a = perm[live, t].copy()
        perm[live, t] = perm[live, jt]
        perm[live, jt] = a
    perm[np.arange(n_max)[None, :] >= nn[:, None]] = -1
    if epochs.ndim == 0:
        return perm.reshape(seeds.size, n_max)
    return perm.reshape(E.size, seeds.size, n_max)


@contextlib.contextmanager
def one_cpu_thread(device):
    """Run tiny CPU ops on one thread (restored after): intra-op threads only add sync cost
    for tensors of a few dozen entries, and on a loaded machine make each op ~30x slower."""
    if torch.device(device).type != "cpu":
        yield
        return
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(before)


class Batch:
    """What an engine needs about the runs besides the state (all per run, in run order)."""

    def __init__(self, n, y, seeds, lr, *, lam: float, reduction: str, batch_size: int | None,
                 rows: int):
        self.n = np.asarray(n, dtype=np.int64)  # (runs,)
        self.y = np.asarray(y, dtype=np.int64)  # (runs, rows), padding rows labelled 0
        self.seeds = np.asarray(seeds, dtype=np.uint64)
        self.lr = np.asarray(lr, dtype=np.float64)
        self.lam = float(lam)
        self.mean = reduction == "mean"
        self.full_batch = batch_size is None  # GD: one step per epoch over all n, no shuffle
        self.batch_size = batch_size
        self.rows = rows

    def batch_for(self, r: int) -> int:
        return int(self.n[r]) if self.full_batch else int(self.batch_size)


# --------------------------------------------------------------------------- kernel


class KernelEngine:
    name = "kernel"

    def __init__(self, batch: Batch, threads: int = 1):
        self.lib = _ufm_kernel.load()
        if self.lib is None:
            raise OSError(_ufm_kernel.error())
        self.b = batch
        self.threads = max(1, int(threads))
        self._n = np.ascontiguousarray(batch.n)
        self._y = np.ascontiguousarray(batch.y)
        self._seeds = np.ascontiguousarray(batch.seeds)
        self._lr = np.ascontiguousarray(batch.lr)
        self._pool = ThreadPoolExecutor(self.threads) if self.threads > 1 else None

    def advance(self, Wt: torch.Tensor, Ht: torch.Tensor, e0: int, e1: int) -> int:
        """Epochs e0..e1-1 in place; returns -1, or the first epoch where a run's W went non-finite."""
        if Wt.device.type != "cpu" or not (Wt.is_contiguous() and Ht.is_contiguous()):
            raise ValueError("the kernel engine needs contiguous CPU tensors")
        fn = self.lib.ufm_epochs_f64 if Wt.dtype == torch.float64 else self.lib.ufm_epochs_f32
        runs, k, d = Wt.shape
        rows = Ht.shape[1]
        if self.b.full_batch:
            # GD: one batch of all n_r examples; the kernel's batch argument is then max n.
            batch_arg, shuffle = int(self.b.n.max()), 0
        else:
            batch_arg, shuffle = int(self.b.batch_size), 1
        es = Wt.element_size()

        def call(r0: int, r1: int) -> int:
            return fn(
                r1 - r0, d, k, rows, batch_arg, e0, e1,
                self._n.ctypes.data + 8 * r0, self._y.ctypes.data + 8 * rows * r0,
                self._seeds.ctypes.data + 8 * r0, self._lr.ctypes.data + 8 * r0,
                self.b.lam, int(self.b.mean), shuffle,
                Wt.data_ptr() + es * k * d * r0, Ht.data_ptr() + es * rows * d * r0,
            )

        groups = np.array_split(np.arange(runs), min(self.threads, runs))
        spans = [(int(g[0]), int(g[-1]) + 1) for g in groups if g.size]
        if self._pool is None or len(spans) == 1:
            bad = [call(a, b) for a, b in spans]
        else:
            bad = list(self._pool.map(lambda s: call(*s), spans))
        if any(x == -2 for x in bad):
            raise MemoryError("the UFM kernel could not allocate its work buffers")
        bad = [x for x in bad if x >= 0]
        return min(bad) if bad else -1

    def close(self):
        if self._pool is not None:
            self._pool.shutdown()


# --------------------------------------------------------------------------- batched torch


class TorchEngine:
    name = "torch"
    CHUNK = 64  # epochs whose batch schedule is built and uploaded at once

    def __init__(self, batch: Batch, device, dtype, *, cuda_graphs: bool = False):
        self.b = batch
        self.device = torch.device(device)
        self.dtype = dtype
        runs = batch.n.size
        k = int(batch.y.max()) + 1 if batch.y.size else 1
        self.k = k
        self.B = max(batch.batch_for(r) for r in range(runs))
        self.S = max(math.ceil(int(batch.n[r]) / batch.batch_for(r)) for r in range(runs))
        y = torch.as_tensor(batch.y, device=self.device)
        self.Yoh = torch.nn.functional.one_hot(y, k).to(dtype)  # (runs, rows, k)
        self.lr = torch.as_tensor(batch.lr, dtype=dtype, device=self.device)  # (runs,)
        self.d = None
        self.use_graphs = cuda_graphs and self.device.type == "cuda"
        self._graph = None

    def _schedule(self, e0: int, e1: int):
        """Row indices (E, S, runs, B) (the padding row for empty slots), weights (E, S, runs,
        B) and step flags (E, S, runs) for epochs e0..e1-1, built with whole-array operations."""
        b, runs, E = self.b, self.b.n.size, e1 - e0
        n_max = b.rows - 1
        if b.full_batch:
            perm = np.tile(np.arange(n_max), (E, runs, 1))
            perm[..., np.arange(n_max)[None, :] >= b.n[:, None]] = -1
            Bv = b.n.copy()  # one batch of all n_r
        else:
            perm = epoch_permutation(b.seeds, np.arange(e0, e1), b.n)  # (E, runs, n_max)
            Bv = np.full(runs, b.batch_size)
        slots = self.S * self.B  # flat slot p = s * B + j; for GD S = 1 and p < n_r
        ix = np.full((E, runs, slots), n_max, dtype=np.int64)
        ix[..., :n_max] = np.where(perm >= 0, perm, n_max)
        p = np.arange(slots)[None, :]
        valid = p < b.n[:, None]  # (runs, slots)
        step_of = p // Bv[:, None]
        size = np.clip(b.n[:, None] - step_of * Bv[:, None], 0, Bv[:, None])  # batch size
        w = np.where(valid, 1.0 / np.maximum(size, 1) if b.mean else 1.0, 0.0)  # (runs, slots)
        w = np.repeat(w[None], E, axis=0)  # (E, runs, slots)
        ix = ix.reshape(E, runs, self.S, self.B).transpose(0, 2, 1, 3)
        w = w.reshape(E, runs, self.S, self.B).transpose(0, 2, 1, 3)
        active = (w.sum(axis=3) > 0).astype(np.float64)  # (E, S, runs)
        return np.ascontiguousarray(ix), np.ascontiguousarray(w), active

    def _inputs(self, c0: int, c1: int):
        """Per-step tensors for epochs c0..c1-1, each with leading axes (E, S):
        ixe (runs, B, d) row indices expanded for gather/scatter; Yneg = lr w e_y and
        wl = -lr w (runs, B, k | 1), so that G = P wl + Yneg = -lr w (softmax - e_y);
        f = 1 - lr lam [run takes this step] (runs, 1, 1), the weight decay factor."""
        ix, w, act = self._schedule(c0, c1)  # (E, S, runs, B), same, (E, S, runs)
        runs, d = self.b.n.size, self.d
        dev, dt = self.device, self.dtype
        ix = torch.as_tensor(ix, device=dev)
        w = torch.as_tensor(w, dtype=dt, device=dev).unsqueeze(-1)  # (E, S, runs, B, 1)
        lr = self.lr.view(1, 1, runs, 1, 1)
        wl = -lr * w
        r_idx = torch.arange(runs, device=dev).view(1, 1, runs, 1)
        Yneg = -self.Yoh[r_idx, ix] * wl  # (E, S, runs, B, k)
        ixe = ix.unsqueeze(-1).expand(*ix.shape, d).contiguous()
        act = torch.as_tensor(act, dtype=dt, device=dev)[..., None, None]  # (E, S, runs, 1, 1)
        f = 1 - lr * self.b.lam * act if self.b.lam != 0.0 else None  # (E, S, runs, 1, 1)
        return ixe, Yneg, wl, f

    def _step(self, Wt, Ht, ixe, Yneg, wl, f):
        Hb = torch.gather(Ht, 1, ixe)  # (runs, B, d)
        P = torch.softmax(torch.bmm(Hb, Wt.transpose(1, 2)), dim=-1)  # (runs, B, k)
        G = torch.addcmul(Yneg, P, wl)  # -lr w (softmax - e_y), (runs, B, k)
        gH = torch.bmm(G, Wt)  # -lr (W g_i) with the W before this step, (runs, B, d)
        if f is not None:  # weight decay on all of W and H for runs that take this step
            Wt.mul_(f)
            Ht.mul_(f)
        Wt.baddbmm_(G.transpose(1, 2), Hb)  # W - lr sum_i g_i h_i^T  (as Wt: (runs, k, d))
        Ht.scatter_add_(1, ixe, gH)

    def advance(self, Wt, Ht, e0: int, e1: int) -> int:
        with one_cpu_thread(self.device):
            return self._advance(Wt, Ht, e0, e1)

    def _advance(self, Wt, Ht, e0: int, e1: int) -> int:
        self.d = Wt.shape[-1]
        for c0 in range(e0, e1, self.CHUNK):
            c1 = min(e1, c0 + self.CHUNK)
            ixe, Yneg, wl, f = self._inputs(c0, c1)
            for q in range(c1 - c0):
                epoch = (ixe[q], Yneg[q], wl[q], None if f is None else f[q])
                if self.use_graphs:
                    self._replay(Wt, Ht, epoch)
                else:
                    for s in range(self.S):
                        self._step(Wt, Ht, *(None if x is None else x[s] for x in epoch))
            if not bool(torch.isfinite(Wt).all()):
                return c1 - 1  # detected at the end of this chunk of epochs
        return -1

    def _replay(self, Wt, Ht, epoch):
        if self._graph is None or self._graph[0] is not Wt or self._graph[1] is not Ht:
            static = tuple(None if x is None else x.clone() for x in epoch)

            def run_epoch():
                for s in range(self.S):
                    self._step(Wt, Ht, *(None if x is None else x[s] for x in static))

            stream = torch.cuda.Stream()
            stream.wait_stream(torch.cuda.current_stream())
            W0, H0 = Wt.clone(), Ht.clone()
            with torch.cuda.stream(stream):  # warm-up outside the graph, then undo it
                run_epoch()
            torch.cuda.current_stream().wait_stream(stream)
            Wt.copy_(W0)
            Ht.copy_(H0)
            graph = torch.cuda.CUDAGraph()
            with torch.cuda.graph(graph):
                run_epoch()
            self._graph = (Wt, Ht, graph, static)
            # capture recorded the epoch but did not run it: the replay below does
        _, _, graph, static = self._graph
        for dst, src in zip(static, epoch):
            if dst is not None:
                dst.copy_(src)
        graph.replay()

    def close(self):
        self._graph = None


# --------------------------------------------------------------------------- plain loop


class AutogradEngine:
    """The plain PyTorch loop: per run, nn.Parameters, torch.optim.SGD, backward() per step."""

    name = "autograd"

    def __init__(self, batch: Batch, device, dtype):
        self.b = batch
        self.device = torch.device(device)
        self.dtype = dtype

    def advance(self, Wt, Ht, e0: int, e1: int) -> int:
        with one_cpu_thread(self.device):
            return self._advance(Wt, Ht, e0, e1)

    def _advance(self, Wt, Ht, e0: int, e1: int) -> int:
        b = self.b
        bad = -1
        for r in range(b.n.size):
            nr = int(b.n[r])
            y = torch.as_tensor(b.y[r, :nr], device=self.device)
            W = torch.nn.Parameter(Wt[r].T.clone())  # (d, k)
            H = torch.nn.Parameter(Ht[r, :nr].T.clone())  # (d, n)
            opt = torch.optim.SGD([W, H], lr=float(b.lr[r]), weight_decay=b.lam)
            Br = b.batch_for(r)
            for e in range(e0, e1):
                order = (np.arange(nr) if b.full_batch
                         else epoch_permutation(b.seeds[r:r + 1], e, [nr])[0])
                order = torch.as_tensor(order, device=self.device)
                for s0 in range(0, nr, Br):
                    idx = order[s0:s0 + Br]
                    logits = (W.T @ H[:, idx]).T  # (B, k)
                    loss = torch.nn.functional.cross_entropy(
                        logits, y[idx], reduction="mean" if b.mean else "sum")
                    opt.zero_grad(set_to_none=True)
                    loss.backward()
                    opt.step()
                if bad < 0 and not bool(torch.isfinite(W).all()):
                    bad = e
                    break
            with torch.no_grad():
                Wt[r].copy_(W.T)
                Ht[r, :nr].copy_(H.T)
        return bad

    def close(self):
        pass
