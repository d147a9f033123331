"""The one way pitboard compiles a kernel.

`cache=True` writes machine code beside the source (`__pycache__`), so only the first
process after an install or an edit pays the JIT (`pitboard warmup` pays it at set-up).
`nogil=True` lets a thread pool run kernels on several columns at once. `error_model=
"numpy"` makes float division by zero give inf/NaN as numpy does, without a Python check
in every loop. Kernels are compiled lazily on first call, never at import.
"""

from __future__ import annotations

from numba import njit

jit = njit(cache=True, nogil=True, error_model="numpy")
