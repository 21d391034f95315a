"""Building mel and DCT kernels costs about as much as the kernels themselves (issue 10).

Before: ``mel(n_mels=20000)`` spent seconds in a quadratic filter grouping and the filterbank held
five full-size temporaries; ``dct_matrix(n, n)`` held three. Memory is measured with
:mod:`tracemalloc` (numpy reports its buffers to it), which is deterministic, unlike wall time; the
filter grouping is measured by the elements its dynamic programme touches.
"""

from __future__ import annotations

import tracemalloc
import warnings

import numpy as np
import pytest

from nnaudio_core.kernels import dct_matrix, filter_groups, mel_filterbank


def _peak_bytes(build):
    tracemalloc.start()
    try:
        result = build()
        return result, tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def test_dct_matrix_allocates_only_the_matrix_it_returns():
    small, peak = _peak_bytes(lambda: dct_matrix(20000, 20))
    assert small.shape == (20, 20000)
    assert peak < 8 * 20000 * 20 * 2 + 2**20  # far below one 20000 x 20000 array (3.2 GB)
    square, peak = _peak_bytes(lambda: dct_matrix(1500, 1500))
    assert peak < 1.2 * square.nbytes, f"peak {peak / square.nbytes:.2f} x the matrix (was 3 x)"


def test_mel_filterbank_needs_no_full_size_temporaries():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # empty filters: expected at this density
        weights, peak = _peak_bytes(lambda: mel_filterbank(sr=22050, n_fft=1024, n_mels=20000))
    assert weights.shape == (20000, 513)
    assert peak < 1.3 * weights.nbytes, f"peak {peak / weights.nbytes:.2f} x the filterbank (was 5 x)"


class _CountingAccumulate:
    """Stands in for ``np.minimum``/``np.maximum`` inside filter_groups, counting accumulated elements."""

    def __init__(self, ufunc):
        self.ufunc = ufunc
        self.elements = 0

    def accumulate(self, a):
        self.elements += a.size
        return self.ufunc.accumulate(a)

    def __call__(self, *args, **kwargs):
        return self.ufunc(*args, **kwargs)


def test_filter_groups_work_grows_with_the_filters_not_their_square(monkeypatch):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        weights = mel_filterbank(sr=22050, n_fft=1024, n_mels=20000)
    counter = _CountingAccumulate(np.minimum)
    with monkeypatch.context() as patch:
        patch.setattr(np, "minimum", counter)
        blocks = filter_groups(weights)
    # the exhaustive search accumulates 20000 * 20001 / 2 = 2e8 elements, 19.5 x the kernel; now 1.7 x
    assert counter.elements < 3 * weights.size, f"{counter.elements} elements for a {weights.shape} filterbank"
    assert blocks[0][0] == 0 and blocks[-1][1] == 20000
    assert all(a[1] == b[0] for a, b in zip(blocks, blocks[1:], strict=False))
    for r0, r1, c0, c1 in blocks:
        rows = weights[r0:r1]
        assert not rows[:, :c0].any() and not rows[:, c1:].any()


@pytest.mark.parametrize("group_cost", [0, 7, 2048, 10**6])
def test_filter_groups_pruning_finds_the_full_minimum(group_cost):
    """The windowed search returns the exhaustive dynamic programme's blocks, ties included."""
    rng = np.random.default_rng(group_cost)
    for _ in range(15):
        w = rng.random((int(rng.integers(1, 70)), int(rng.integers(1, 90))))
        w[rng.random(w.shape) < rng.random()] = 0
        assert filter_groups(w, group_cost=group_cost) == _exhaustive(w, group_cost)


def _exhaustive(w, group_cost):
    nonzero = w != 0
    n_rows, n_cols = w.shape
    has = nonzero.any(axis=1)
    first = np.where(has, nonzero.argmax(axis=1), n_cols)
    last = np.where(has, n_cols - nonzero[:, ::-1].argmax(axis=1), 0)
    best, start = [0.0], [0]
    for j in range(1, n_rows + 1):
        costs = [best[i] + (j - i) * max(int(last[i:j].max()) - int(first[i:j].min()), 0) + group_cost
                 for i in range(j)]
        i = int(np.argmin(costs))
        best.append(costs[i])
        start.append(i)
    blocks, j = [], n_rows
    while j > 0:
        i = start[j]
        lo = min(int(first[i:j].min()), n_cols)
        blocks.append((i, j, lo, max(int(last[i:j].max()), lo)))
        j = i
    return tuple(blocks[::-1])
