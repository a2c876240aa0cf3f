"""The pose tool: drag joints; drag a person to move it, Shift-drag to scale, Ctrl-drag to rotate.

Each drag is one history group, so it is one undo step. Whole-person commands (add from template, delete,
mirror, add hands or face) act on the selected person through `PoseTool` methods the window's menu calls.
"""

from __future__ import annotations

import math

from PySide6.QtCore import QPointF, Qt

from studio.document import DocumentError
from ui.canvas.pose_item import HANDLE_RADIUS_PX, PointRef
from ui.canvas.tools.base import Tool, ToolEvent

HIT_SLOP = 1.6  # a joint is hit within this many handle radii
PERSON_MARGIN_PX = 12.0
SCALE_PX_PER_DOUBLING = 200.0


class PoseTool(Tool):
    """Edits the pose layer. `selected` is the index of the selected person (or None)."""

    name, label, shortcut, layer = "pose", "Pose", "P", "pose"

    def __init__(self, view) -> None:
        super().__init__(view)
        self._drag: str | None = None  # "point", "move", "scale", "rotate"
        self._point: PointRef | None = None
        self._last = QPointF()
        self._center = (0.0, 0.0)
        self._press_pos = QPointF()
        self._applied = 0.0  # scale factor or angle applied so far in this drag

    @property
    def _layer(self):
        return self.view.document.pose

    @property
    def _item(self):
        return self.view.items.pose

    @property
    def selected(self) -> int | None:
        selected = self._item.selected_person
        return selected if selected is not None and selected < len(self._layer.people) else None

    def select(self, index: int | None) -> None:
        self._item.selected_person = index
        self._item.update()

    def activate(self) -> None:
        self._item.show_handles = True
        self._item.update()

    def deactivate(self) -> None:
        self.cancel()
        self._item.show_handles = False
        self._item.hot_point = None
        self._item.update()

    # Hit testing ---------------------------------------------------------------------------------
    def point_at(self, pos: QPointF) -> PointRef | None:
        """The visible keypoint nearest to `pos` within reach of its handle, if any."""
        reach = HANDLE_RADIUS_PX * HIT_SLOP / (self.view.zoom or 1.0)
        best, best_distance = None, reach
        for person_index, person in enumerate(self._layer.people):
            for part, points in person.parts():
                if part != "body" and person_index != self.selected:
                    continue  # hands and face are edited on the selected person (their handles show there)
                for index, ((x, y), shown) in enumerate(zip(points.xy, points.visible)):
                    distance = math.hypot(x - pos.x(), y - pos.y())
                    if shown and distance <= best_distance:
                        best, best_distance = PointRef(person_index, part, index), distance
        return best

    def person_at(self, pos: QPointF) -> int | None:
        """The topmost person whose (slightly enlarged) bounding box holds `pos`."""
        margin = PERSON_MARGIN_PX / (self.view.zoom or 1.0)
        for index in reversed(range(len(self._layer.people))):
            box = self._layer.people[index].bounds()
            if box and box[0] - margin <= pos.x() <= box[2] + margin and box[1] - margin <= pos.y() <= box[3] + margin:
                return index
        return None

    # Gestures ------------------------------------------------------------------------------------
    def hover(self, event: ToolEvent) -> None:
        point = self.point_at(event.pos)
        if point != self._item.hot_point:
            self._item.hot_point = point
            self._item.update()
        cursor = Qt.CursorShape.PointingHandCursor if point else (
            Qt.CursorShape.SizeAllCursor if self.person_at(event.pos) is not None else Qt.CursorShape.ArrowCursor
        )
        self.view.viewport().setCursor(cursor)

    def press(self, event: ToolEvent) -> None:
        point = self.point_at(event.pos)
        person = point.person if point else self.person_at(event.pos)
        self.select(person)
        if person is None:
            return
        self._layer.check_editable()
        self._last = self._press_pos = event.pos
        if point is not None and not event.modifiers & (Qt.KeyboardModifier.ShiftModifier |
                                                        Qt.KeyboardModifier.ControlModifier):
            self._drag, self._point, label = "point", point, "Move point"
        elif event.modifiers & Qt.KeyboardModifier.ShiftModifier:
            self._drag, label = "scale", "Scale person"
        elif event.modifiers & Qt.KeyboardModifier.ControlModifier:
            self._drag, label = "rotate", "Rotate person"
        else:
            self._drag, label = "move", "Move person"
        self._applied = 1.0 if self._drag == "scale" else 0.0
        self._center = self._layer.people[person].center()
        self._layer.history.begin_group(label)

    def move(self, event: ToolEvent) -> None:
        if self._drag is None:
            return
        pos, person = event.pos, self.selected
        if self._drag == "point":
            self._layer.move_point(self._point.person, self._point.part, self._point.index, pos.x(), pos.y())
            self._item.hot_point = self._point
        elif self._drag == "move":
            self._layer.move_person(person, pos.x() - self._last.x(), pos.y() - self._last.y())
        elif self._drag == "scale":
            pixels = (self._press_pos.y() - pos.y()) * (self.view.zoom or 1.0)
            factor = 2.0 ** (pixels / SCALE_PX_PER_DOUBLING)
            self._layer.scale_person(person, factor / self._applied, center=self._center)
            self._applied = factor
        elif self._drag == "rotate":
            cx, cy = self._center
            start = math.atan2(self._press_pos.y() - cy, self._press_pos.x() - cx)
            angle = math.degrees(math.atan2(pos.y() - cy, pos.x() - cx) - start)
            self._layer.rotate_person(person, angle - self._applied, center=self._center)
            self._applied = angle
        self._last = pos

    def release(self, event: ToolEvent) -> None:
        self.cancel()

    def cancel(self) -> None:
        if self._drag is not None:
            self._drag = None
            self._point = None
            self._layer.history.end_group()

    # Commands on the selected person -------------------------------------------------------------
    def _target(self) -> int:
        """The selected person, or the only person when there is just one."""
        if self.selected is not None:
            return self.selected
        if len(self._layer.people) == 1:
            return 0
        raise DocumentError("Select a person with the pose tool first.")

    def add_template(self, name: str) -> None:
        self.select(self._layer.add_template(name))

    def delete_selected(self) -> None:
        self._layer.remove_person(self._target())
        self.select(None)

    def mirror_selected(self) -> None:
        self._layer.mirror_person(self._target())

    def add_hands(self) -> None:
        self._layer.add_hands(self._target())

    def add_face(self) -> None:
        self._layer.add_face(self._target())
