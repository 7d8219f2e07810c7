"""Run BLAS single-threaded inside the O(T^2) budget-data kernels.

The expenditure blocks are products (n x G) @ (G x m) with G ~ 5: memory-bound,
so OpenBLAS threads only contend (measured 5-7x slower with two threads on a
loaded two-core machine). threadpoolctl ships with scikit-learn, a dependency.
"""
from __future__ import annotations

import contextlib
import functools


def single_threaded_blas(func):
    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        try:
            from threadpoolctl import threadpool_limits
        except ImportError:  # pragma: no cover - scikit-learn brings it
            ctx = contextlib.nullcontext()
        else:
            ctx = threadpool_limits(limits=1, user_api="blas")
        with ctx:
            return func(*args, **kwargs)

    return wrapper
