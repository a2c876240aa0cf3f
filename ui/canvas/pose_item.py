"""Canvas item that draws the pose layer's people in the OpenPose colours, with editing handles."""

from __future__ import annotations

from dataclasses import dataclass

from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import QColor, QPainter, QPen
from PySide6.QtWidgets import QGraphicsItem, QStyleOptionGraphicsItem, QWidget

from studio.document.pose import PoseLayer
from studio.document.pose_render import (
    BODY_COLORS, BODY_LIMBS, FACE_POINT_COLOR, HAND_BONES, HAND_POINT_COLOR, hand_bone_color,
)  # fmt: skip

HANDLE_RADIUS_PX = 5.0  # on screen, whatever the zoom
SELECTION_COLOR = QColor("#3d9bff")


@dataclass(frozen=True)
class PointRef:
    """One keypoint: person index, part name ("body", "left_hand", ...) and point index."""

    person: int
    part: str
    index: int


class PoseItem(QGraphicsItem):
    """Draws every person of a `PoseLayer`. `show_handles` adds joint handles (pose tool), `selected_person`
    gets a dashed box, `hot_point` (the point under the pointer or being dragged) is drawn larger."""

    def __init__(self, layer: PoseLayer) -> None:
        super().__init__()
        self.layer = layer
        self.show_handles = False
        self.selected_person: int | None = None
        self.hot_point: PointRef | None = None
        self.selected_point: PointRef | None = None  # the joint the pose menu's Hide Joint acts on
        self._scale = max(1.0, min(layer.width, layer.height) / 512.0)

    def boundingRect(self) -> QRectF:
        return QRectF(-4096, -4096, self.layer.width + 8192, self.layer.height + 8192)

    def refresh(self) -> None:
        self.update()

    def paint(self, painter: QPainter, option: QStyleOptionGraphicsItem, widget: QWidget | None = None) -> None:
        people = self.layer.people
        if not people:
            return
        painter.setRenderHint(QPainter.RenderHint.Antialiasing, True)
        zoom = painter.worldTransform().m11() or 1.0
        for person in people:
            self._paint_body(painter, person.body)
            for hand in (person.left_hand, person.right_hand):
                if hand is not None:
                    self._paint_hand(painter, hand)
            if person.face is not None:
                self._paint_points(painter, person.face, FACE_POINT_COLOR, 2.0 * self._scale)
        if self.selected_person is not None and self.selected_person < len(people):
            self._paint_selection(painter, people[self.selected_person], zoom)
        if self.show_handles:
            self._paint_handles(painter, zoom)

    def _paint_body(self, painter: QPainter, body) -> None:
        xy, visible = body.xy, body.visible
        for limb, (a, b) in enumerate(BODY_LIMBS):
            if visible[a] and visible[b]:
                color = QColor(*BODY_COLORS[limb])
                color.setAlphaF(0.75)
                pen = QPen(color, 8 * self._scale, Qt.PenStyle.SolidLine, Qt.PenCapStyle.RoundCap)
                painter.setPen(pen)
                painter.drawLine(QPointF(*xy[a]), QPointF(*xy[b]))
        painter.setPen(Qt.PenStyle.NoPen)
        for index in range(len(xy)):
            if visible[index]:
                painter.setBrush(QColor(*BODY_COLORS[index]))
                painter.drawEllipse(QPointF(*xy[index]), 4 * self._scale, 4 * self._scale)

    def _paint_hand(self, painter: QPainter, hand) -> None:
        xy, visible = hand.xy, hand.visible
        for bone, (a, b) in enumerate(HAND_BONES):
            if visible[a] and visible[b]:
                painter.setPen(QPen(QColor(*(round(c) for c in hand_bone_color(bone))), 2 * self._scale))
                painter.drawLine(QPointF(*xy[a]), QPointF(*xy[b]))
        self._paint_points(painter, hand, HAND_POINT_COLOR, 2.5 * self._scale)

    def _paint_points(self, painter: QPainter, points, color: tuple[int, int, int], radius: float) -> None:
        painter.setPen(Qt.PenStyle.NoPen)
        painter.setBrush(QColor(*color))
        for (x, y), shown in zip(points.xy, points.visible):
            if shown:
                painter.drawEllipse(QPointF(x, y), radius, radius)

    def _paint_selection(self, painter: QPainter, person, zoom: float) -> None:
        box = person.bounds()
        if box is None:
            return
        pen = QPen(SELECTION_COLOR, 1.5 / zoom, Qt.PenStyle.DashLine)
        painter.setPen(pen)
        painter.setBrush(Qt.BrushStyle.NoBrush)
        margin = 12 / zoom
        painter.drawRect(QRectF(box[0] - margin, box[1] - margin, box[2] - box[0] + 2 * margin,
                                box[3] - box[1] + 2 * margin))

    def _paint_handles(self, painter: QPainter, zoom: float) -> None:
        radius = HANDLE_RADIUS_PX / zoom
        outline = QPen(QColor(255, 255, 255, 230), 1.5 / zoom)
        for person_index, person in enumerate(self.layer.people):
            for part, points in person.parts():
                small = part != "body"
                if small and person_index != self.selected_person:
                    continue  # hand and face handles only on the selected person, to keep the canvas readable
                for index, ((x, y), shown) in enumerate(zip(points.xy, points.visible)):
                    if not shown:
                        continue
                    ref = PointRef(person_index, part, index)
                    hot = self.hot_point == ref or self.selected_point == ref
                    r = radius * (1.6 if hot else (0.45 if small else 1.0))
                    painter.setPen(outline)
                    painter.setBrush(SELECTION_COLOR if hot else QColor(0, 0, 0, 90))
                    painter.drawEllipse(QPointF(x, y), r, r)
