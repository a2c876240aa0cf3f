"""Make docs/chat.png: the window with a conversation in the Assistant panel that used both tools.

The replies come from the shipped assistant model (resources/assistant), with the Calendar's date fixed to
Thursday, November 26, 2026. Each reply with a prompt is applied to the Generate panel. The script fails if the conversation did not call both the Calculator and the
Calendar with a result. Run from the repository root:

    QT_QPA_PLATFORM=offscreen .venv/bin/python docs/make_chat_screenshot.py [--out docs/chat.png]
"""

from __future__ import annotations

import argparse
import os
import sys
from datetime import date
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from PySide6.QtCore import Qt  # noqa: E402
from PySide6.QtWidgets import QApplication  # noqa: E402

TODAY = date(2026, 11, 26)
MESSAGES = (  # each reply with a prompt is applied to the Generate panel before the next message
    "a poster of a red fox in a forest, watercolor",
    "A print is 18 inches wide at 300 dpi. How many pixels wide is it?",
    "How many days until Christmas?",
)


def main() -> None:
    parser = argparse.ArgumentParser(description="Make the chat panel screenshot.")
    parser.add_argument("--out", type=Path, default=Path(__file__).with_name("chat.png"))
    args = parser.parse_args()
    sys.path.insert(0, str(Path(__file__).parent))
    from make_screenshot import save_grab, sketched_window, wait_until

    with sketched_window() as window:
        window.docks["assistant"].raise_()
        window.resizeDocks([window.docks["assistant"]], [560], Qt.Orientation.Horizontal)
        window.chat.session.today = TODAY
        for index, message in enumerate(MESSAGES):
            assert window.chat.send(message)
            wait_until(lambda: not window.chat.replying)
            QApplication.processEvents()
            reply = window.chat.turns[index].reply
            if reply is not None and reply.fields is not None:
                window.chat.apply(index)
        tools = {call.tool for turn in window.chat.turns if turn.reply for call in turn.reply.calls
                 if call.result is not None}
        if not {"Calculator", "Calendar"} <= tools:
            raise SystemExit(f"the conversation used {sorted(tools)} with a result, not both tools: "
                             + " | ".join(turn.raw for turn in window.chat.turns))
        save_grab(window, args.out)


if __name__ == "__main__":
    main()
