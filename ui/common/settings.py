"""What the window remembers between runs (QSettings): layout, recent files, last folders, the scorer folder.

Tests pass a `QSettings` on an ini file in a temporary folder, so they never touch the user's settings.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QByteArray, QSettings

MAX_RECENT_FILES = 10


def default_settings() -> QSettings:
    """The user's settings store (organisation and application names come from the QApplication)."""
    return QSettings(QSettings.Format.IniFormat, QSettings.Scope.UserScope, "ControlNetStudio", "ControlNet Studio")


class AppSettings:
    """Typed access to the few values the window keeps in QSettings."""

    def __init__(self, settings: QSettings) -> None:
        self.qsettings = settings

    # Window layout -------------------------------------------------------------------------------
    def window_geometry(self) -> QByteArray | None:
        value = self.qsettings.value("window/geometry")
        return value if isinstance(value, QByteArray) else None

    def window_state(self) -> QByteArray | None:
        value = self.qsettings.value("window/state")
        return value if isinstance(value, QByteArray) else None

    def save_window(self, *, geometry: QByteArray, state: QByteArray) -> None:
        self.qsettings.setValue("window/geometry", geometry)
        self.qsettings.setValue("window/state", state)
        self.qsettings.sync()

    # Recent files --------------------------------------------------------------------------------
    def recent_files(self) -> list[Path]:
        value = self.qsettings.value("files/recent", [])
        if isinstance(value, str):  # QSettings returns a lone string for a one-item list
            value = [value]
        return [Path(item) for item in (value or [])]

    def add_recent_file(self, path: Path) -> list[Path]:
        path = Path(path).resolve()
        files = [path] + [item for item in self.recent_files() if item != path]
        files = files[:MAX_RECENT_FILES]
        self.qsettings.setValue("files/recent", [str(item) for item in files])
        self.qsettings.sync()
        return files

    def clear_recent_files(self) -> None:
        self.qsettings.setValue("files/recent", [])

    # Folders -------------------------------------------------------------------------
    def last_folder(self) -> Path:
        return Path(str(self.qsettings.value("files/last_folder", str(Path.home()))))

    def set_last_folder(self, folder: Path) -> None:
        self.qsettings.setValue("files/last_folder", str(folder))

    # Scorer --------------------------------------------------------------------------------------
    def scorer_folder(self) -> Path | None:
        """The folder of `studio scorer train` the Gallery sorts by (None: no scorer chosen)."""
        value = self.qsettings.value("scorer/folder", "")
        return Path(str(value)) if value else None

    def set_scorer_folder(self, folder: Path | None) -> None:
        self.qsettings.setValue("scorer/folder", str(folder) if folder else "")
        self.qsettings.sync()
