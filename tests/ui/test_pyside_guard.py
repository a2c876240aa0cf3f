"""Many void Qt calls in one process must not abort the interpreter (PySide6 6.12.0 + Python 3.11 bug)."""

import subprocess
import sys

from ui.pyside_guard import needs_guard

SCRIPT = """
import os
os.environ["QT_QPA_PLATFORM"] = "offscreen"
import ui  # applies the guard where needed
from PySide6.QtWidgets import QApplication, QLabel
app = QApplication([])
label = QLabel()
for _ in range(100_000):
    label.setText("x")
print("alive")
"""


def test_hundred_thousand_void_calls_keep_the_process_alive():
    done = subprocess.run([sys.executable, "-c", SCRIPT], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
    assert "alive" in done.stdout


def test_guard_applies_only_to_the_affected_versions():
    assert needs_guard((3, 11), "6.12.0")
    assert not needs_guard((3, 12), "6.12.0")
    assert not needs_guard((3, 11), "6.11.3")
