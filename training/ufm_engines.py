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
  autograd), one epoch = a few small ops per step for all runs at once. Works on cpu and cuda;
  on cuda each epoch's steps are captured once in a CUDA graph and replayed.
- "autograd": the plain PyTorch loop, one run at a time, torch.optim.SGD and loss.backward()
  per step. The reference the others are tested against, and the benchmark's baseline.

State layout (shared): Wt (runs, k, d) and Ht (runs, rows, d) with rows = n_max + 1; row n_max is a
padding row the batched engine points empty batch slots at. W = Wt^T, H = Ht[:n]^T.
"""

from __future__ import annotations

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


def epoch_permutation(seeds, epoch: int, n) -> np.ndarray:
    """The batch order of one epoch for each run: a Fisher-Yates shuffle of 0..n_r-1.

    Counter-based, so the order is a pure function of (seed, epoch): resuming needs no
    generator state and every engine, in C or NumPy, visits the same batches. Returns
    (runs, max n) int64, each row's first n_r entries a permutation (the rest -1).

    >>> epoch_permutation([0], 0, [6]).tolist()
    [[2, 5, 1, 3, 0, 4]]
    """
    seeds = np.asarray(seeds, dtype=np.uint64).reshape(-1)
    n = np.broadcast_to(np.asarray(n, dtype=np.int64), seeds.shape)
    n_max = int(n.max()) if n.size else 0
    with np.errstate(over="ignore"):
        base = _mix64(_mix64(seeds) ^ np.uint64(epoch))  # (runs,)
        i = np.arange(n_max, dtype=np.uint64)
        r = _mix64(base[:, None] + i[None, :]) >> np.uint64(32)  # (runs, n_max)
        j = ((r * (i + np.uint64(1))[None, :]) >> np.uint64(32)).astype(np.int64)
    perm = np.tile(np.arange(n_max, dtype=np.int64), (seeds.size, 1))
    rows = np.arange(seeds.size)
    for t in range(n_max - 1, 0, -1):
        live = rows[t < n]
        jt = j[live, t]
        a = perm[live, t].copy()
        perm[live, t] = perm[live, jt]
        perm[live, jt] = a
    perm[np.arange(n_max)[None, :] >= n[:, None]] = -1
    return perm


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

    def __init__(self, batch: Batch, device, dtype, *, cuda_graphs: bool = True):
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
        self.lr = torch.as_tensor(batch.lr, dtype=dtype, device=self.device).view(runs, 1, 1)
        self.use_graphs = cuda_graphs and self.device.type == "cuda"
        self._graph = None

    def _schedule(self, epoch: int):
        """(S, runs, B) row indices (padding row for empty slots) and weights, for one epoch."""
        b, runs = self.b, self.b.n.size
        if b.full_batch:
            perm = np.tile(np.arange(b.rows - 1), (runs, 1))
            perm[np.arange(b.rows - 1)[None, :] >= b.n[:, None]] = -1
        else:
            perm = epoch_permutation(b.seeds, epoch, b.n)
        ix = np.full((runs, self.S * self.B), b.rows - 1, dtype=np.int64)
        w = np.zeros((runs, self.S * self.B))
        for r in range(runs):
            nr, Br = int(b.n[r]), b.batch_for(r)
            steps = math.ceil(nr / Br)
            for s in range(steps):
                chunk = perm[r, s * Br:min(nr, (s + 1) * Br)]
                ix[r, s * self.B:s * self.B + chunk.size] = chunk
                w[r, s * self.B:s * self.B + chunk.size] = 1.0 / chunk.size if b.mean else 1.0
        ix = ix.reshape(runs, self.S, self.B).transpose(1, 0, 2)
        w = w.reshape(runs, self.S, self.B).transpose(1, 0, 2)
        active = (w.sum(axis=2) > 0).astype(np.float64)  # (S, runs)
        return ix, w, active

    def _step(self, Wt, Ht, ix, w, act):
        # ix (runs, B) rows; w (runs, B, 1) weights; act (runs, 1, 1) 1 if the run has this step
        runs, _, d = Ht.shape
        ixe = ix.unsqueeze(-1).expand(runs, self.B, d)
        Hb = torch.gather(Ht, 1, ixe)  # (runs, B, d)
        P = torch.softmax(torch.bmm(Hb, Wt.transpose(1, 2)), dim=-1)  # (runs, B, k)
        Yb = torch.gather(self.Yoh, 1, ix.unsqueeze(-1).expand(runs, self.B, self.k))
        G = (P - Yb) * w  # (runs, B, k)
        gW = torch.bmm(G.transpose(1, 2), Hb)  # (runs, k, d)
        gH = torch.bmm(G, Wt)  # (runs, B, d)
        if self.b.lam != 0.0:
            # weight decay on all of W and H, only for runs that take this step
            Ht.mul_(1 - self.lr * self.b.lam * act)
            gW = gW + self.b.lam * act * Wt
        Wt.sub_(self.lr * gW)
        Ht.scatter_add_(1, ixe, gH.mul_(-self.lr))

    def advance(self, Wt, Ht, e0: int, e1: int) -> int:
        for e in range(e0, e1):
            ix, w, act = self._schedule(e)
            ix = torch.as_tensor(ix, device=self.device)
            w = torch.as_tensor(w, dtype=self.dtype, device=self.device).unsqueeze(-1)
            act = torch.as_tensor(act, dtype=self.dtype, device=self.device)[..., None, None]
            if self.use_graphs:
                self._replay(Wt, Ht, ix, w, act)
            else:
                for s in range(self.S):
                    self._step(Wt, Ht, ix[s], w[s], act[s])
            if not bool(torch.isfinite(Wt).all()):
                return e
        return -1

    def _replay(self, Wt, Ht, ix, w, act):
        if self._graph is None or self._graph[0] is not Wt or self._graph[1] is not Ht:
            static = (ix.clone(), w.clone(), act.clone())
            stream = torch.cuda.Stream()
            stream.wait_stream(torch.cuda.current_stream())
            W0, H0 = Wt.clone(), Ht.clone()
            with torch.cuda.stream(stream):  # warm-up outside the graph, then undo it
                for s in range(self.S):
                    self._step(Wt, Ht, static[0][s], static[1][s], static[2][s])
            torch.cuda.current_stream().wait_stream(stream)
            Wt.copy_(W0)
            Ht.copy_(H0)
            graph = torch.cuda.CUDAGraph()
            with torch.cuda.graph(graph):
                for s in range(self.S):
                    self._step(Wt, Ht, static[0][s], static[1][s], static[2][s])
            self._graph = (Wt, Ht, graph, static)
            # capture recorded but did not run the epoch: fall through to replay
        _, _, graph, static = self._graph
        static[0].copy_(ix)
        static[1].copy_(w)
        static[2].copy_(act)
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
