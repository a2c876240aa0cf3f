"""The core package must never pull in PySide6 or the ui package."""

import pkgutil
import subprocess
import sys

import studio


def _all_studio_modules() -> list[str]:
    names = ["studio"]
    for info in pkgutil.walk_packages(studio.__path__, prefix="studio."):
        names.append(info.name)
    return names


def test_importing_every_studio_module_loads_no_qt():
    modules = _all_studio_modules()
    assert "studio.cli" in modules
    code = (
        "import importlib, sys\n"
        f"for name in {modules!r}:\n"
        "    importlib.import_module(name)\n"
        "bad = sorted(m for m in sys.modules if m.split('.')[0] in ('PySide6', 'shiboken6', 'ui'))\n"
        "print(','.join(bad))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=600)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "", f"studio imports Qt/ui modules: {out.stdout.strip()}"
