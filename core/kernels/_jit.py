"""The one way pitboard compiles a kernel.

`cache=True` writes machine code beside the source (`__pycache__`), so only the first
process after an install or an edit pays the JIT (`pitboard warmup` pays it at set-up);
where neither that folder nor the user's cache folder can be written, `_cache` finds
another before numba is imported, or compiles uncached. `nogil=True` lets a thread pool
run kernels on several columns at once. `error_model="numpy"` makes float division by
zero give inf/NaN as numpy does, without a Python check in every loop. Kernels are
compiled lazily on first call, never at import.
"""

from __future__ import annotations

from core.kernels._cache import prepare

CACHE = prepare()  # before numba is imported: it reads NUMBA_CACHE_DIR then

from numba import njit  # noqa: E402

jit = njit(cache=CACHE, nogil=True, error_model="numpy")
