"""Make docs/chat.png: the window with a conversation in the Assistant panel that used both tools.

The replies come from the shipped assistant model (resources/assistant), with the Calendar's date fixed to
Thursday, November 26, 2026. The first reply's prompt is applied to the Generate panel. The script fails if the
conversation did not call both the Calculator and the Calendar. Run from the repository root:

    QT_QPA_PLATFORM=offscreen .venv/bin/python docs/make_chat_screenshot.py [--out docs/chat.png]
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from PySide6.QtCore import QSettings, Qt  # noqa: E402
from PySide6.QtWidgets import QApplication  # noqa: E402

TODAY = date(2026, 11, 26)
MESSAGES = (
    "a poster of a red fox in a forest, watercolor",
    "A print is 18 inches wide at 300 dpi. How many pixels wide is it?",
    "How many days until Christmas?",
)


def wait_until(condition, timeout_s: float = 120.0) -> None:
    end = time.monotonic() + timeout_s
    while not condition():
        if time.monotonic() > end:
            raise TimeoutError("the assistant did not answer in time")
        QApplication.processEvents()
        time.sleep(0.01)


def main() -> None:
    parser = argparse.ArgumentParser(description="Make the chat panel screenshot.")
    parser.add_argument("--out", type=Path, default=Path(__file__).with_name("chat.png"))
    args = parser.parse_args()
    import torch

    torch.set_num_threads(1)
    app = QApplication.instance() or QApplication([])
    sys.path.insert(0, str(Path(__file__).parent))
    from make_screenshot import sketch

    from studio.document import Document
    from ui.app_paths import AppPaths
    from ui.main_window import MainWindow
    from ui.theme import apply_dark_theme

    apply_dark_theme(app)
    with tempfile.TemporaryDirectory() as folder:
        tmp = Path(folder)
        paths = AppPaths(model_settings=tmp / "models.json", data_dir=tmp / "data")
        document = Document(768, 768)
        sketch(document)
        window = MainWindow(settings=QSettings(str(tmp / "s.ini"), QSettings.Format.IniFormat), paths=paths,
                            document=document)
        window.resize(1600, 1000)
        window.show()
        window.docks["assistant"].raise_()
        window.resizeDocks([window.docks["assistant"]], [560], Qt.Orientation.Horizontal)
        window.chat.session.today = TODAY
        for message in MESSAGES:
            assert window.chat.send(message)
            wait_until(lambda: not window.chat.replying)
            QApplication.processEvents()
        tools = {call.tool for turn in window.chat.turns if turn.reply for call in turn.reply.calls}
        if not {"Calculator", "Calendar"} <= tools:
            raise SystemExit(f"the conversation used {sorted(tools)}, not both tools: "
                             + " | ".join(turn.raw for turn in window.chat.turns))
        window.chat.apply(0)
        window.view.fit_to_window()
        for _ in range(20):
            QApplication.processEvents()
            time.sleep(0.02)
        args.out.parent.mkdir(parents=True, exist_ok=True)
        window.grab().save(str(args.out))
        window.files.modified = False
        window.close()
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
