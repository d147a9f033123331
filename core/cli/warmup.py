"""`pitboard warmup`: compile every numba kernel once, at install time.

The first call of a numba kernel compiles it (seconds); the machine code is then cached
on disk and later processes load it in milliseconds. The Makefile runs this command after
installing (`make demo` in a background process while the demo builds), so no interactive
command ever pays the compile.
"""

from __future__ import annotations

import click


@click.command()
def warmup() -> None:
    """Compile the drift and metric kernels into numba's on-disk cache."""
    from core.kernels import warmup as compile_kernels

    seconds = compile_kernels()
    click.echo(f"kernels ready in {seconds:.1f} s")


COMMANDS = [warmup]
