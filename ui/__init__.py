"""PySide6 views over the studio core."""
