"""Work around a reference-count bug of PySide6 6.12.0 on Python 3.11.

Measured here: with PySide6 6.12.0 on CPython 3.11 every call of a Qt method that returns nothing
(`label.setText`, `painter.setBrush`, `widget.update`...) takes one reference from `None` without giving it
back. After a few thousand such calls `None`'s count reaches zero and the interpreter aborts with
"Fatal Python error: none_dealloc". PySide6 6.11.3 does not have the bug, and from Python 3.12 on `None` is
immortal so the missing reference does no harm.

For the affected combination only, `protect_none_refcount` gives `None` an extra 2**40 references once, so
the leak can never drain it (as Python 3.12 does by making `None` immortal).
"""

from __future__ import annotations

import ctypes
import sys

AFFECTED_PYSIDE = ("6.12.0",)
EXTRA_REFERENCES = 1 << 40
_applied = False


def needs_guard(python: tuple[int, int], pyside: str) -> bool:
    """True for the Python / PySide6 versions known to drain None's reference count."""
    return python < (3, 12) and pyside in AFFECTED_PYSIDE


def protect_none_refcount() -> bool:
    """Apply the guard when needed (once per process); returns whether it is active."""
    global _applied
    import PySide6

    if not needs_guard(sys.version_info[:2], PySide6.__version__):
        return False
    if not _applied:
        # ob_refcnt is the first field of every PyObject in CPython 3.11 (release builds).
        ctypes.c_ssize_t.from_address(id(None)).value += EXTRA_REFERENCES
        _applied = True
    return True
