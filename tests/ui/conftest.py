"""Fixtures for window tests: a MainWindow with temporary settings, model settings and data folders."""

from __future__ import annotations

from pathlib import Path

import pytest
from PySide6.QtCore import QSettings
from PySide6.QtWidgets import QMessageBox

from studio.app.paths import AppPaths


@pytest.fixture
def app_paths(tmp_path: Path) -> AppPaths:
    return AppPaths(model_settings=tmp_path / "config" / "models.json", data_dir=tmp_path / "data")


@pytest.fixture
def qsettings(tmp_path: Path) -> QSettings:
    return QSettings(str(tmp_path / "settings.ini"), QSettings.Format.IniFormat)


@pytest.fixture
def make_window(qtbot, qsettings, app_paths, monkeypatch):
    """Build MainWindows on temporary settings; closing never blocks on the 'unsaved changes' question."""
    from ui.shell.main_window import MainWindow

    monkeypatch.setattr(QMessageBox, "question", lambda *args, **kwargs: QMessageBox.StandardButton.Discard)
    windows = []

    def make(**kwargs):
        kwargs.setdefault("settings", qsettings)
        kwargs.setdefault("paths", app_paths)
        window = MainWindow(**kwargs)
        qtbot.addWidget(window)
        window.show()
        qtbot.waitExposed(window)
        windows.append(window)
        return window

    yield make
    for window in windows:
        window.generation.cancel()
        window.runner.wait(30_000)


@pytest.fixture
def window(make_window):
    return make_window()


@pytest.fixture(scope="session")
def tiny_models(tmp_path_factory) -> Path:
    """Tiny random models built once per test session through the window's demo-mode installer."""
    import torch

    from ui.dialogs.models_guide import install_demo_models

    torch.set_num_threads(1)
    folder = tmp_path_factory.mktemp("tiny") / "demo-models"
    install_demo_models(folder, folder.parent / "models.json")
    return folder


@pytest.fixture
def tiny_window(make_window, app_paths, tiny_models):
    """A window whose model settings name the tiny models."""
    from studio.engine.settings import ModelEntry
    from ui.dialogs.models_guide import add_model

    add_model(app_paths.model_settings, name="tiny", entry=ModelEntry(base=str(tiny_models)))
    return make_window()
