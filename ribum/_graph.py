"""Strongly connected components of dense directed graphs.

Revealed-preference graphs are dense (about half of all ordered pairs are arcs), so
handing all T^2 arcs to a sparse SCC routine spends most of its time building the
edge list. This module works on the dense boolean adjacency matrix instead and
uses the FW-BW-Trim scheme of parallel SCC algorithms (Hong, Rodia & Olukotun,
SC 2013):

1. *Trim*: repeatedly delete nodes with no in-arc or no out-arc among the live
   nodes (level-synchronous Kahn peeling from both ends). Deleted nodes lie on no
   cycle, so they are singleton components.
2. *Forward-backward*: from a pivot of large degree, the forward and backward
   reachable sets (dense breadth-first search, one vectorized row reduction per
   level) intersect in the pivot's component; this peels a giant component at
   the cost of two searches.
3. Whatever remains goes to ``scipy.sparse.csgraph.connected_components``
   (Pearce's algorithm) on the induced subgraph, which is exact for any graph.

Every step is exact; the first two only make the common cases (near-acyclic
data, or one giant component) fast.
"""
from __future__ import annotations

import numpy as np
import scipy.sparse as sp
from scipy.sparse.csgraph import connected_components

#: Below this many live nodes the induced subgraph goes straight to scipy.
_SCIPY_NODES = 1500
#: Forward-backward rounds before falling back to scipy.
_FB_ROUNDS = 4


def _row_count(M: np.ndarray, rows: np.ndarray) -> np.ndarray:
    """Column sums of ``M[rows]`` as int64, without materialising a huge copy at once."""
    out = np.zeros(M.shape[1], dtype=np.int64)
    step = 256
    for i in range(0, rows.size, step):
        out += np.count_nonzero(M[rows[i : i + step]], axis=0)
    return out


def _trim(W: np.ndarray, WT: np.ndarray, alive: np.ndarray, indeg: np.ndarray, outdeg: np.ndarray) -> None:
    """Delete (in place, from ``alive``) nodes with no live in-arc or out-arc, repeatedly."""
    while True:
        dead = np.flatnonzero(alive & ((indeg == 0) | (outdeg == 0)))
        if dead.size == 0:
            return
        alive[dead] = False
        # A deleted node's out-arcs lower its successors' in-degree, its in-arcs
        # lower its predecessors' out-degree.
        indeg -= _row_count(W, dead)
        outdeg -= _row_count(WT, dead)


def _reach(W: np.ndarray, start: int, alive: np.ndarray) -> np.ndarray:
    """Nodes reachable from ``start`` through live nodes (dense breadth-first search)."""
    seen = np.zeros(W.shape[0], dtype=bool)
    seen[start] = True
    frontier = np.array([start])
    while frontier.size:
        nxt = np.zeros(W.shape[0], dtype=bool)
        for i in range(0, frontier.size, 256):
            nxt |= np.logical_or.reduce(W[frontier[i : i + 256]], axis=0)
        nxt &= alive
        nxt &= ~seen
        seen |= nxt
        frontier = np.flatnonzero(nxt)
    return seen


def _dense_to_csr(M: np.ndarray) -> sp.csr_matrix:
    """CSR of a dense boolean matrix with int32 indices, built in row chunks.

    ``scipy.sparse.csr_matrix(dense)`` goes through COO with int64 row and column
    arrays (several times slower and larger), and csgraph would then copy float
    data; a zero-stride float64 view of 1.0 is accepted as it is.
    """
    n, m = M.shape
    counts = np.count_nonzero(M, axis=1)
    indptr = np.zeros(n + 1, dtype=np.int64)
    np.cumsum(counts, out=indptr[1:])
    indices = np.empty(int(indptr[-1]), dtype=np.int32)
    cols = np.arange(m, dtype=np.int32)
    step = max(1, (1 << 22) // max(m, 1))
    for i in range(0, n, step):
        block = M[i : i + step]
        indices[indptr[i] : indptr[min(i + step, n)]] = np.broadcast_to(cols, block.shape)[block]
    if indptr[-1] < np.iinfo(np.int32).max:
        indptr = indptr.astype(np.int32)
    data = np.broadcast_to(np.float64(1.0), indices.shape)
    return sp.csr_matrix((data, indices, indptr), shape=(n, m))


def transpose(M: np.ndarray, block: int = 512) -> np.ndarray:
    """C-contiguous transpose in cache-sized tiles (several times faster than
    ``np.ascontiguousarray(M.T)`` for large boolean matrices)."""
    n, m = M.shape
    out = np.empty((m, n), dtype=M.dtype)
    for i in range(0, n, block):
        for j in range(0, m, block):
            out[j : j + block, i : i + block] = M[i : i + block, j : j + block].T
    return out


def strongly_connected(W: np.ndarray, *, overwrite: bool = False) -> tuple[np.ndarray, np.ndarray]:
    """Strongly connected components of a dense directed graph.

    Parameters
    ----------
    W : (n, n) bool array
        Adjacency matrix, ``W[i, j]`` true for an arc i -> j. The diagonal is ignored.
    overwrite : bool
        Allow clearing the diagonal of ``W`` in place instead of copying it.

    Returns
    -------
    labels : (n,) int array
        Component label of every node.
    on_cycle : (n,) bool array
        True for nodes in a component with at least two nodes (nodes on a cycle).
    """
    n = W.shape[0]
    if not (overwrite and W.dtype == bool and W.flags.c_contiguous):
        W = np.array(W, dtype=bool, copy=True)
    np.fill_diagonal(W, False)
    WT = transpose(W)
    labels = np.full(n, -1, dtype=np.int64)
    on_cycle = np.zeros(n, dtype=bool)
    alive = np.ones(n, dtype=bool)
    indeg = np.count_nonzero(W, axis=0).astype(np.int64)
    outdeg = np.count_nonzero(W, axis=1).astype(np.int64)
    next_label = 0
    _trim(W, WT, alive, indeg, outdeg)
    for _ in range(_FB_ROUNDS):
        n_alive = int(alive.sum())
        if n_alive <= _SCIPY_NODES:
            break
        score = np.where(alive, indeg * outdeg, -1)
        pivot = int(np.argmax(score))
        comp = _reach(W, pivot, alive) & _reach(WT, pivot, alive)
        labels[comp] = next_label
        next_label += 1  # noqa: SIM113 (continues after the loop)
        size = int(comp.sum())
        if size > 1:
            on_cycle[comp] = True
        alive[comp] = False
        members = np.flatnonzero(comp)
        indeg -= _row_count(W, members)
        outdeg -= _row_count(WT, members)
        _trim(W, WT, alive, indeg, outdeg)
        if size < n_alive // 4:
            # No giant component here: further pivots would each cost a full
            # search for little, so hand the rest to scipy.
            break
    rest = np.flatnonzero(alive)
    if rest.size:
        if rest.size > 0.75 * n:
            # Cheaper to hand scipy the whole graph than to copy the induced
            # subgraph: deleted nodes only come back as singletons.
            rest = np.arange(n)
            labels[:] = -1
            on_cycle[:] = False
            next_label = 0
            sub = _dense_to_csr(W)
        else:
            sub = _dense_to_csr(W[np.ix_(rest, rest)])
        n_comp, sub_labels = connected_components(sub, directed=True, connection="strong")
        sizes = np.bincount(sub_labels, minlength=n_comp)
        labels[rest] = next_label + sub_labels
        on_cycle[rest] = sizes[sub_labels] > 1
        next_label += n_comp
    single = labels < 0
    labels[single] = next_label + np.arange(int(single.sum()))
    return labels, on_cycle


def has_cycle(W: np.ndarray) -> bool:
    """Whether the dense directed graph ``W`` (diagonal ignored) has a cycle."""
    return bool(strongly_connected(W)[1].any())


# ----------------------------------------------------------------------------- stacks of small graphs


def closure_bits(W: np.ndarray, *, packed: np.ndarray | None = None) -> np.ndarray:
    """Transitive closure of a stack of boolean graphs (N, T, T), bit-packed Warshall.

    Returns the closure packed as uint64 words laid out (words, N, T): bit j of
    ``B[w, n, t]`` is column 64 w + j of row t of graph n. Step k ORs row k into
    every row that reaches k, for all graphs at once. ``packed``, if given, is
    ``pack_rows(W)``; it is copied, not changed.
    """
    N, T, _ = W.shape
    B = pack_rows(W) if packed is None else packed.copy()
    one = np.uint64(1)
    shifts = [np.uint64(b) for b in range(64)]
    has = np.empty((N, T), dtype=np.uint64)
    tmp = np.empty_like(B)
    for k in range(T):
        w, b = divmod(k, 64)
        np.right_shift(B[w], shifts[b], out=has)
        np.bitwise_and(has, one, out=has)  # 1 in the rows that reach k, else 0
        np.multiply(has[None], B[:, :, k, None], out=tmp)  # row k where has, else 0
        np.bitwise_or(B, tmp, out=B)
    return B


def pack_rows(W: np.ndarray) -> np.ndarray:
    """Pack the rows of boolean (N, T, T) into uint64 words laid out (words, N, T)."""
    N, T, _ = W.shape
    nw = (T + 63) // 64
    buf = np.zeros((N, T, nw * 8), dtype=np.uint8)
    buf[..., : (T + 7) // 8] = np.packbits(W, axis=2, bitorder="little")
    return np.ascontiguousarray(buf.view("<u8").transpose(2, 0, 1))


def diagonal_bits(B: np.ndarray) -> np.ndarray:
    """(N, T) bool: bit t of row t of each packed graph (node t lies on a cycle)."""
    T = B.shape[2]
    idx = np.arange(T)
    words = B[idx // 64, :, idx]  # (T, N)
    return ((words >> (idx % 64).astype(np.uint64)[:, None]) & np.uint64(1)).astype(bool).T


_POPCOUNT8 = np.array([bin(i).count("1") for i in range(256)], dtype=np.uint8)


def popcount_sum(B: np.ndarray, axis) -> np.ndarray:
    """Sum of set bits of a uint64 array over ``axis`` (np.bitwise_count where numpy has it, numpy >= 2)."""
    if hasattr(np, "bitwise_count"):
        return np.bitwise_count(B).sum(axis=axis, dtype=np.int64)
    bytes_ = np.ascontiguousarray(B).view(np.uint8).reshape(*B.shape, 8)
    return _POPCOUNT8[bytes_].sum(axis=-1, dtype=np.int64).sum(axis=axis, dtype=np.int64)


def _pack_nodes(M: np.ndarray) -> np.ndarray:
    """Pack the last axis of boolean (..., T) into little-endian uint64 words (..., ceil(T / 64))."""
    T = M.shape[-1]
    nw = (T + 63) // 64
    buf = np.zeros((*M.shape[:-1], nw * 8), dtype=np.uint8)
    buf[..., : (T + 7) // 8] = np.packbits(M, axis=-1, bitorder="little")
    return buf.view("<u8")


def _unpack_nodes(B: np.ndarray, T: int) -> np.ndarray:
    """Inverse of :func:`_pack_nodes`: (..., words) uint64 to (..., T) bool."""
    bytes_ = np.ascontiguousarray(B).view(np.uint8)
    return np.unpackbits(bytes_, axis=-1, count=T, bitorder="little").astype(bool)


def compact_groups(mask: np.ndarray, max_elements: int = 1 << 22):
    """Group the rows of a boolean (N, T) node mask by their number of marked nodes.

    Yields ``(rows, nodes, valid)`` for the rows with at least one marked node:
    ``nodes`` (n, M) lists each row's marked nodes first (ascending), padded with
    unmarked ones to the group's largest count M, and ``valid`` (n, M) says which
    entries are marked. Groups are cut so that n * M^2 stays near ``max_elements``.
    """
    m = mask.sum(axis=1)
    rows = np.flatnonzero(m)
    if rows.size == 0:
        return
    order = np.argsort(m[rows], kind="stable")
    rows, m = rows[order], m[rows][order]
    i = 0
    while i < rows.size:
        cap = m[i:].astype(np.int64) ** 2 * np.arange(1, rows.size - i + 1)
        j = i + max(1, int(np.searchsorted(cap, max_elements, side="right")))
        grp = rows[i:j]
        M = int(m[j - 1])
        nodes = np.argsort(~mask[grp], axis=1, kind="stable")[:, :M]
        yield grp, nodes, np.take_along_axis(mask[grp], nodes, axis=1)
        i = j


#: Trimming stops when a level deletes at most 1 / _TRIM_STOP of the live nodes.
_TRIM_STOP = 32
#: Graphs of at most this many nodes skip trimming.
_TRIM_MIN_NODES = 64


def cycle_nodes_stack(W: np.ndarray, *, packed: np.ndarray | None = None) -> np.ndarray:
    """Nodes on a directed cycle, for each graph of a stack (N, T, T) (diagonal must be False).

    Exact. Graphs of at most 64 nodes get the bit-packed Warshall closure of
    :func:`closure_bits` directly. Larger ones are trimmed first: a node without
    an arc to or from the live nodes lies on no cycle, so such nodes are deleted
    level by level (bit-packed, all graphs at once; near-acyclic graphs vanish in
    a few dozen levels). When a level deletes little, the surviving induced
    subgraphs get the bit-packed Warshall closure of :func:`closure_bits`
    (compacted and grouped by size when that saves work); a survivor is on a
    cycle iff it reaches itself. Every cycle lies among the survivors, so the
    closure there decides it exactly. ``packed``, if given, must be
    ``pack_rows(W)`` (made by a caller that packed W while it was in cache).

    Returns
    -------
    on : (N, T) bool

    Example
    -------
    >>> W = np.zeros((1, 80, 80), dtype=bool)
    >>> W[0, np.arange(79), np.arange(1, 80)] = True  # a path 0 -> 1 -> ... -> 79
    >>> W[0, 50, 40] = True  # closes the cycle 40 -> ... -> 50 -> 40
    >>> np.flatnonzero(cycle_nodes_stack(W)[0]).tolist() == list(range(40, 51))
    True
    """
    N, T, _ = W.shape
    on = np.zeros((N, T), dtype=bool)
    if N == 0 or T < 2:
        return on
    if T <= _TRIM_MIN_NODES:
        return diagonal_bits(closure_bits(W, packed=packed))  # T Warshall steps cost less than the trimming levels
    R = pack_rows(W) if packed is None else packed  # (words, N, T): bit s of R[:, n, t] is the arc t -> s
    nw = R.shape[0]
    active = np.arange(N)
    alive = np.ones((N, T), dtype=bool)
    n_alive = N * T
    zero = np.uint64(0)
    while True:
        A = np.ascontiguousarray(_pack_nodes(alive).T)  # (words, n)
        out = np.zeros(alive.shape, dtype=np.uint64)
        inn = np.empty((nw, alive.shape[0]), dtype=np.uint64)
        mask = np.negative(alive, dtype=np.uint64)  # all ones on live rows
        for w in range(nw):
            out |= R[w] & A[w][:, None]
            inn[w] = np.bitwise_or.reduce(R[w] & mask, axis=1)
        new = alive & (out != zero) & _unpack_nodes(inn.T, T)
        left = int(np.count_nonzero(new))
        removed, n_alive, alive = n_alive - left, left, new
        keep = alive.any(axis=1)
        if not keep.any():
            return on
        if 4 * np.count_nonzero(keep) < 3 * keep.size:
            active, alive, R = active[keep], alive[keep], np.ascontiguousarray(R[:, keep])
        if removed * _TRIM_STOP <= n_alive:
            break  # a fixed point, or slow progress: Warshall on the survivors
    if n_alive * 4 >= 3 * alive.size:
        # Most nodes survive: the survivors' graphs in place, without compaction.
        sub = W[active] & alive[:, :, None] & alive[:, None, :]
        on[active] = diagonal_bits(closure_bits(sub)) & alive
        return on
    for grp, nodes, valid in compact_groups(alive):
        g = active[grp]
        rows_ = (g * T)[:, None] + nodes  # global row of each (graph, node)
        flat = (rows_ * T)[:, :, None] + nodes[:, None, :]
        sub = np.take(W.reshape(-1), flat)
        sub &= valid[:, :, None] & valid[:, None, :]
        on[g[:, None], nodes] |= diagonal_bits(closure_bits(sub)) & valid
    return on
