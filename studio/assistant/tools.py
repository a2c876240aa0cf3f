"""The tools the assistant may call, by name, for one reply (the Calendar's `today` is fixed per reply)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date

from studio.assistant.calculator import calculate
from studio.assistant.calendar import Calendar

TOOL_NAMES = ("Calculator", "Calendar")


class ToolBox:
    """Runs tool calls by name. Unknown tools, bad arguments and tool errors give `None`, never an exception."""

    def __init__(self, today: date | None = None):
        self.today = today or date.today()
        self._tools: dict[str, Callable[[str], str | None]] = {
            "Calculator": calculate,
            "Calendar": Calendar(self.today),
        }

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(self._tools)

    def run(self, name: str, argument: str) -> str | None:
        """The tool's result text, or None when the tool is unknown or has no result for `argument`."""
        tool = self._tools.get(name)
        if tool is None:
            return None
        try:
            return tool(argument)
        except Exception:  # a tool must never break a reply; a failing call simply has no result
            return None
