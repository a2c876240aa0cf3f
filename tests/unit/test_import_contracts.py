"""The layering of the code base, as import-linter contracts in pyproject.toml ([tool.importlinter]).

Replaces the hand-written "studio loads no Qt" check: import-linter reads every import statement (also those
under `if TYPE_CHECKING:` and inside functions), so a dependency that only some code path imports is caught too.
"""

from __future__ import annotations

import subprocess
import sys
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
LINT = "import sys; from importlinter.cli import lint_imports; sys.exit(lint_imports(config_filename=sys.argv[1]))"


def _lint(project: Path) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-c", LINT, str(project / "pyproject.toml")], cwd=project,
                          capture_output=True, text=True, timeout=600)


def _contracts() -> list[dict]:
    return tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["tool"]["importlinter"]["contracts"]


def test_the_contracts_cover_the_layers_the_architecture_names():
    contracts = {contract["name"]: contract for contract in _contracts()}
    core = next((c for c in contracts.values() if c.get("source_modules") == ["studio"]), None)
    assert core is not None and {"PySide6", "ui"} <= set(core["forbidden_modules"])
    app = next(c for c in contracts.values() if c.get("source_modules") == ["studio.app"])
    assert "PySide6" in app["forbidden_modules"]
    layers = next(c for c in contracts.values() if c["type"] == "layers" and c.get("containers") is None
                  and c["layers"][0] == "studio.app")
    assert layers["layers"][-1] == "studio.document"
    shell = next(c for c in contracts.values() if c.get("forbidden_modules") == ["ui.shell"])
    assert {"ui.generate", "ui.gallery", "ui.history", "ui.chat", "ui.document"} <= set(shell["source_modules"])


def test_the_code_base_keeps_every_contract():
    out = _lint(ROOT)
    assert out.returncode == 0, out.stdout[-4000:] + out.stderr[-2000:]
    assert f"{len(_contracts())} kept, 0 broken" in out.stdout


def test_a_core_module_that_imports_qt_breaks_the_contracts(tmp_path):
    """The same contracts on a skeleton of the project whose application layer imports Qt and the window."""
    for package in ("studio", "studio/app", "studio/train", "studio/engine", "studio/history", "studio/assistant",
                    "studio/document", "ui", "ui/shell", *(f"ui/{name}" for name in (
                        "common", "document", "canvas", "generate", "gallery", "history", "chat", "dialogs"))):
        (tmp_path / package).mkdir(parents=True, exist_ok=True)
        (tmp_path / package / "__init__.py").write_text("")
    (tmp_path / "studio" / "app" / "state.py").write_text(
        "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from PySide6.QtCore import QObject\n")
    (tmp_path / "studio" / "document" / "bad.py").write_text("from studio.app import state\n")
    (tmp_path / "ui" / "gallery" / "panel.py").write_text("from ui.shell import main_window\n")
    (tmp_path / "ui" / "shell" / "main_window.py").write_text("")
    config = (ROOT / "pyproject.toml").read_text(encoding="utf-8")
    (tmp_path / "pyproject.toml").write_text(config[config.index("\n[tool.importlinter]\n"):], encoding="utf-8")
    out = _lint(tmp_path)
    assert out.returncode != 0
    assert "The application layer (studio.app) imports no Qt BROKEN" in out.stdout
    assert "studio.document.bad -> studio.app.state" in out.stdout
    assert "ui.gallery.panel -> ui.shell.main_window" in out.stdout
