"""Undo history on the model: a linear stack of undo steps with a memory cap and push notifications.

Every edit (one stroke, one drag, one pose operation, one fill) pushes exactly one `UndoStep`. A Qt
`QUndoStack` stays a thin adapter: subscribe to the history, wrap each pushed step in a command whose
first redo() does nothing, and let that command's undo()/redo() call `history.undo()`/`history.redo()`
so both stacks move together. Steps dropped by the memory cap are reported as `"dropped"` events.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Callable, Iterator

DEFAULT_MEMORY_LIMIT = 512 * 1024 * 1024  # bytes kept by all undo steps together


class UndoStep(ABC):
    """One undoable edit. It holds what it needs to go back and forth, nothing more."""

    label: str = ""

    @abstractmethod
    def undo(self) -> None:
        """Bring the model back to the state before the edit (emits change events)."""

    @abstractmethod
    def redo(self) -> None:
        """Apply the edit again (emits change events)."""

    @property
    def nbytes(self) -> int:
        """Approximate memory the step holds (for the history's memory cap)."""
        return 256

    def merge(self, later: "UndoStep") -> bool:
        """Absorb `later` (the step that follows) into this one when both are parts of one gesture."""
        return False


class CompoundStep(UndoStep):
    """Several steps that undo and redo together (built by `UndoHistory.group`)."""

    def __init__(self, label: str, steps: list[UndoStep]) -> None:
        self.label = label
        self.steps = steps

    def undo(self) -> None:
        for step in reversed(self.steps):
            step.undo()

    def redo(self) -> None:
        for step in self.steps:
            step.redo()

    @property
    def nbytes(self) -> int:
        return sum(step.nbytes for step in self.steps)


@dataclass(frozen=True)
class HistoryEvent:
    """What happened to the history: action is "push", "undo", "redo", "dropped" or "clear"."""

    action: str
    step: UndoStep | None = None


class UndoHistory:
    """Linear undo/redo stack. `memory_limit` caps the bytes held; the oldest steps go first."""

    def __init__(self, *, memory_limit: int = DEFAULT_MEMORY_LIMIT) -> None:
        self.memory_limit = memory_limit
        self._steps: list[UndoStep] = []
        self._sizes: list[int] = []  # nbytes of each step when it was pushed
        self._index = 0  # steps[:index] are done, steps[index:] can be redone
        self._callbacks: list[Callable[[HistoryEvent], None]] = []
        self._group_depth = 0
        self._group_label = ""
        self._group_steps: list[UndoStep] = []
        self._open_edits: list[Callable[[], None]] = []

    # -- notifications -------------------------------------------------------------------------
    def subscribe(self, callback: Callable[[HistoryEvent], None]) -> Callable[[], None]:
        """Call `callback(HistoryEvent)` on every push, undo, redo, drop and clear; returns an unsubscriber."""
        self._callbacks.append(callback)

        def unsubscribe() -> None:
            if callback in self._callbacks:
                self._callbacks.remove(callback)

        return unsubscribe

    def _notify(self, action: str, step: UndoStep | None = None) -> None:
        event = HistoryEvent(action, step)
        for callback in list(self._callbacks):
            callback(event)

    # -- open edits (a stroke in progress) -------------------------------------------------------
    def register_open_edit(self, finish: Callable[[], None]) -> None:
        """Remember an unfinished gesture; undo/redo finish it first so it becomes a step of its own."""
        self._open_edits.append(finish)

    def unregister_open_edit(self, finish: Callable[[], None]) -> None:
        if finish in self._open_edits:
            self._open_edits.remove(finish)

    def finish_open_edits(self) -> None:
        """Finish every gesture in progress (each becomes its own step)."""
        for finish in list(self._open_edits):
            finish()

    # -- pushing ---------------------------------------------------------------------------------
    def push(self, step: UndoStep) -> None:
        """Record a step that has already been applied to the model."""
        if self._group_depth:
            if not (self._group_steps and self._group_steps[-1].merge(step)):
                self._group_steps.append(step)
            return
        del self._steps[self._index :]
        del self._sizes[self._index :]
        self._steps.append(step)
        self._sizes.append(step.nbytes)
        self._index = len(self._steps)
        self._notify("push", step)
        self._enforce_memory_limit()

    def begin_group(self, label: str) -> None:
        """Start collecting steps into one (e.g. on mouse press of a drag). Groups nest."""
        if self._group_depth == 0:
            self._group_label = label
            self._group_steps = []
        self._group_depth += 1

    def end_group(self) -> None:
        """Close the group; its steps become one step (nothing is pushed if the group was empty)."""
        if self._group_depth == 0:
            raise RuntimeError("end_group() without begin_group()")
        self._group_depth -= 1
        if self._group_depth:
            return
        steps, self._group_steps = self._group_steps, []
        if len(steps) == 1:
            steps[0].label = self._group_label or steps[0].label
            self.push(steps[0])
        elif steps:
            self.push(CompoundStep(self._group_label, steps))

    @contextmanager
    def group(self, label: str) -> Iterator[None]:
        """`with history.group("Drag point"): ...` makes everything inside one undo step."""
        self.begin_group(label)
        try:
            yield
        finally:
            self.end_group()

    # -- moving ------------------------------------------------------------------------------------
    @property
    def can_undo(self) -> bool:
        return self._index > 0

    @property
    def can_redo(self) -> bool:
        return self._index < len(self._steps)

    @property
    def undo_label(self) -> str | None:
        return self._steps[self._index - 1].label if self.can_undo else None

    @property
    def redo_label(self) -> str | None:
        return self._steps[self._index].label if self.can_redo else None

    def undo(self) -> bool:
        """Undo the latest step; returns False when there is nothing to undo."""
        self.finish_open_edits()
        if not self.can_undo:
            return False
        self._index -= 1
        step = self._steps[self._index]
        step.undo()
        self._notify("undo", step)
        return True

    def redo(self) -> bool:
        """Redo the next step; returns False when there is nothing to redo."""
        self.finish_open_edits()
        if not self.can_redo:
            return False
        step = self._steps[self._index]
        self._index += 1
        step.redo()
        self._notify("redo", step)
        return True

    def clear(self) -> None:
        """Forget all steps (e.g. after loading another document)."""
        self._steps.clear()
        self._sizes.clear()
        self._index = 0
        self._notify("clear")

    # -- memory ----------------------------------------------------------------------------------
    @property
    def nbytes(self) -> int:
        return sum(self._sizes)

    def __len__(self) -> int:
        return len(self._steps)

    @property
    def index(self) -> int:
        """How many steps are currently applied (undo moves it down, redo up)."""
        return self._index

    def _enforce_memory_limit(self) -> None:
        total = self.nbytes
        # The newest step always stays, even when it alone exceeds the limit.
        while total > self.memory_limit and len(self._steps) > 1 and self._index > 0:
            oldest = self._steps.pop(0)
            total -= self._sizes.pop(0)
            self._index -= 1
            self._notify("dropped", oldest)
