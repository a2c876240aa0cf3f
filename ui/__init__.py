"""PySide6 views over the studio core."""

from ui.pyside_guard import protect_none_refcount

protect_none_refcount()
