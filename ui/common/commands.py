"""Commands as plain data: what a menu item does, where it goes and its shortcut.

Controllers list their commands (`commands()`); the shell turns the table into menus and actions
(`ui.shell.menus`). A command's `run` is a method of its controller, so tests and scripts call the same code
the menu does.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from PySide6.QtGui import QKeySequence


@dataclass(frozen=True)
class Command:
    """`key` names the action in the command table the shell builds; `menu` is the menu's title without its mnemonic
    ("File", "Edit", "Generate"...); `separator` puts a separator line before the item."""

    key: str
    menu: str
    text: str
    run: Callable[[], object]
    shortcut: QKeySequence.StandardKey | str | None = None
    tip: str = ""
    separator: bool = False
