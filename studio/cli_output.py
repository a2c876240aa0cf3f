"""What the `studio` command (and the window's terminal) prints: Studio's own messages, not the libraries'.

`quiet_libraries()` runs once at start-up, before torch, transformers or diffusers are imported. Those libraries
otherwise print advisories that a user cannot act on (transformers 5.x warns twice, on every command, that
torchvision is not installed, which Studio does not use) and their own progress bars, which interleave with
Studio's lines. The choice is made through the libraries' documented environment variables, set only where the
user has not set them, so `TRANSFORMERS_VERBOSITY=warning studio ...` (or `DIFFUSERS_VERBOSITY`,
`HF_HUB_DISABLE_PROGRESS_BARS=0`, `PYTHONWARNINGS=default`) brings a library's output back for debugging.
Errors are never hidden: they reach the user as exceptions, which Studio words itself.

`step_progress()` is the one progress bar Studio prints: on a terminal it ends with a newline, so the next
message starts on a line of its own; when the output is a file or a pipe it prints nothing (carriage-return
redraws would tangle a log).
"""

from __future__ import annotations

import os
import sys
import warnings
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, TextIO

# Read by transformers / diffusers / huggingface_hub when they are first imported.
LIBRARY_ENVIRONMENT = {
    "TRANSFORMERS_VERBOSITY": "error",
    "DIFFUSERS_VERBOSITY": "error",
    "TRANSFORMERS_NO_ADVISORY_WARNINGS": "1",
    "HF_HUB_DISABLE_PROGRESS_BARS": "1",
}

# Python `warnings` raised inside these packages are theirs to fix, not the user's.
LIBRARY_PACKAGES = ("torch", "torchvision", "transformers", "diffusers", "huggingface_hub", "accelerate",
                    "safetensors", "tokenizers")


def quiet_libraries(environ: dict[str, str] | None = None) -> None:
    """Keep library warnings and library progress bars off the terminal (the user's own settings win)."""
    environ = os.environ if environ is None else environ
    for name, value in LIBRARY_ENVIRONMENT.items():
        environ.setdefault(name, value)
    if not sys.warnoptions and "PYTHONWARNINGS" not in environ:
        pattern = r"(%s)(\.|$)" % "|".join(LIBRARY_PACKAGES)
        warnings.filterwarnings("ignore", module=pattern)


@contextmanager
def step_progress(total: int, desc: str, *, unit: str = "step",
                  stream: TextIO | None = None) -> Iterator[Callable[[int, int], None]]:
    """A progress bar for `total` steps; yields `update(step, total)`. The bar ends with a newline on exit
    (also after an error or Ctrl-C), and is left out when `stream` is not a terminal."""
    from tqdm import tqdm

    stream = sys.stderr if stream is None else stream
    terminal = _is_terminal(stream)
    bar = tqdm(total=total, desc=desc, unit=unit, leave=True, file=stream, disable=not terminal,
               **(_size(stream) if terminal else {}))

    def update(step: int, new_total: int) -> None:
        if new_total != bar.total:
            bar.total = new_total
        bar.update(step - bar.n)

    try:
        yield update
    finally:
        bar.close()
        stream.flush()


def _size(stream: Any) -> dict[str, int]:
    """The terminal's size for tqdm; 80x24 where it reports 0x0 (a pseudo-terminal without a size, as `script`
    or `docker run -t` make, where tqdm would otherwise hide the bar and print only the newlines)."""
    try:
        size = os.get_terminal_size(stream.fileno())
        columns, lines = size.columns, size.lines
    except (AttributeError, OSError, ValueError):
        columns = lines = 0
    return {"ncols": columns or 80, "nrows": lines or 24}


def _is_terminal(stream: Any) -> bool:
    try:
        return bool(stream.isatty())
    except (AttributeError, ValueError):  # closed or not a file
        return False
