"""The pose tool: drag joints; drag a person to move it, Shift-drag to scale, Ctrl-drag to rotate.

Each drag is one history group, so it is one undo step. Whole-person commands (add from template, delete,
mirror, add hands or face, hide or show hands, face and single joints) act on the selected person (and joint)
through `PoseTool` methods the window's menu calls. `selection_changed` fires when the selection changes.
"""

from __future__ import annotations

import math

from PySide6.QtCore import QPointF, Qt

from studio.app.observable import Event
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
        self.selection_changed = Event("pose selection")  # no arguments: read `selected`, `selected_point`

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

    @property
    def selected_point(self) -> PointRef | None:
        """The joint last pressed on the selected person, while it exists and is shown."""
        point = self._item.selected_point
        if point is None or point.person != self.selected:
            return None
        points = self._layer.people[point.person].part(point.part)
        return point if points is not None and point.index < len(points) and points.visible[point.index] else None

    def select(self, index: int | None, point: PointRef | None = None) -> None:
        """Select person `index` (None: nobody) and, on it, joint `point`."""
        self._item.selected_person = index
        self._item.selected_point = point if point is not None and point.person == index else None
        self._item.update()
        self.selection_changed.emit()

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
        self.select(person, point)
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
    @property
    def target(self) -> int | None:
        """The person the commands act on: the selected one, or the only one when there is just one."""
        if self.selected is not None:
            return self.selected
        return 0 if self.view.document is not None and len(self._layer.people) == 1 else None

    def _target(self) -> int:
        target = self.target
        if target is None:
            raise DocumentError("Select a person with the pose tool first.")
        return target

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

    def hide_selected_point(self) -> None:
        """Hide the selected joint (it keeps its position; Pose ▸ Show Joint brings it back)."""
        point = self.selected_point
        if point is None:
            raise DocumentError("Click a joint with the pose tool first.")
        self._layer.set_point_visible(point.person, point.part, point.index, False)
        self.select(point.person)

    def show_point(self, part: str, index: int) -> None:
        self._layer.set_point_visible(self._target(), part, index, True)

    def set_parts_visible(self, parts: tuple[str, ...], visible: bool, noun: str) -> None:
        """Show or hide whole parts ("left_hand", "right_hand", "face", "body") of the target as one undo step;
        parts the person does not have are left out."""
        target = self._target()
        person = self._layer.people[target]
        present = [part for part in parts if person.part(part) is not None]
        if not present:
            raise DocumentError(f"The person has no {noun}; add them first (Pose menu).")
        with self._layer.history.group(f"{'Show' if visible else 'Hide'} {noun}"):
            for part in present:
                self._layer.set_part_visible(target, part, visible)
