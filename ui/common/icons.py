"""Tool icons drawn with QPainter (crisp at any scale, no image files to ship)."""

from __future__ import annotations

from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import QBrush, QColor, QIcon, QLinearGradient, QPainter, QPainterPath, QPen, QPixmap

SIZE = 64
INK = QColor("#e4e4e6")
ACCENT = QColor("#6aa7ff")


def _pen(width: float, color: QColor = INK) -> QPen:
    return QPen(color, width, Qt.PenStyle.SolidLine, Qt.PenCapStyle.RoundCap, Qt.PenJoinStyle.RoundJoin)


def _brush(p: QPainter) -> None:
    path = QPainterPath(QPointF(10, 50))
    path.cubicTo(QPointF(22, 20), QPointF(38, 56), QPointF(54, 14))
    p.setPen(_pen(6))
    p.drawPath(path)


def _eraser(p: QPainter) -> None:
    p.translate(32, 32)
    p.rotate(-35)
    p.setPen(_pen(3))
    p.setBrush(QColor("#d98c8c"))
    p.drawRoundedRect(QRectF(-20, -10, 26, 20), 3, 3)
    p.setBrush(Qt.BrushStyle.NoBrush)
    p.drawRoundedRect(QRectF(6, -10, 14, 20), 3, 3)


def _line(p: QPainter) -> None:
    p.setPen(_pen(5))
    p.drawLine(QPointF(12, 52), QPointF(52, 12))
    p.setBrush(ACCENT)
    p.setPen(Qt.PenStyle.NoPen)
    for point in (QPointF(12, 52), QPointF(52, 12)):
        p.drawEllipse(point, 6, 6)


def _depth_brush(p: QPainter) -> None:
    gradient = QLinearGradient(QPointF(10, 32), QPointF(54, 32))
    gradient.setColorAt(0, QColor("#1b1f2a"))
    gradient.setColorAt(1, QColor("#9cc0ff"))
    p.setPen(_pen(2))
    p.setBrush(QBrush(gradient))
    p.drawEllipse(QRectF(10, 10, 44, 44))


def _gradient(p: QPainter) -> None:
    gradient = QLinearGradient(QPointF(8, 56), QPointF(56, 8))
    gradient.setColorAt(0, QColor("#f0f4ff"))
    gradient.setColorAt(1, QColor("#111319"))
    p.setPen(_pen(2))
    p.setBrush(QBrush(gradient))
    p.drawRoundedRect(QRectF(8, 8, 48, 48), 6, 6)


def _fill(p: QPainter) -> None:
    p.setPen(_pen(3))
    p.setBrush(QColor("#5f7fb8"))
    bucket = QPainterPath(QPointF(14, 24))
    bucket.lineTo(QPointF(42, 24))
    bucket.lineTo(QPointF(38, 54))
    bucket.lineTo(QPointF(18, 54))
    bucket.closeSubpath()
    p.drawPath(bucket)
    p.setBrush(ACCENT)
    p.drawEllipse(QPointF(50, 44), 5, 7)
    p.setBrush(Qt.BrushStyle.NoBrush)
    p.drawArc(QRectF(14, 8, 28, 30), 0, 180 * 16)


def _pose(p: QPainter) -> None:
    joints = {"head": (32, 12), "neck": (32, 22), "hip": (32, 40), "lh": (16, 30), "rh": (48, 30),
              "lf": (22, 56), "rf": (42, 56)}
    bones = (("head", "neck"), ("neck", "hip"), ("neck", "lh"), ("neck", "rh"), ("hip", "lf"), ("hip", "rf"))
    colors = ("#ff5555", "#55ff88", "#ffaa00", "#aaff00", "#00c0ff", "#5577ff")
    for (a, b), color in zip(bones, colors):
        p.setPen(_pen(5, QColor(color)))
        p.drawLine(QPointF(*joints[a]), QPointF(*joints[b]))
    p.setPen(Qt.PenStyle.NoPen)
    p.setBrush(INK)
    for x, y in joints.values():
        p.drawEllipse(QPointF(x, y), 3.5, 3.5)


MASK = QColor(255, 70, 110, 170)  # the canvas shows the inpaint mask in this colour


def _mask_brush(p: QPainter) -> None:
    p.setPen(Qt.PenStyle.NoPen)
    p.setBrush(MASK)
    p.drawEllipse(QRectF(8, 14, 40, 36))
    _brush(p)


def _mask_eraser(p: QPainter) -> None:
    p.setPen(Qt.PenStyle.NoPen)
    p.setBrush(MASK)
    p.drawEllipse(QRectF(8, 14, 40, 36))
    _eraser(p)


def _mask_fill(p: QPainter) -> None:
    p.setPen(Qt.PenStyle.NoPen)
    p.setBrush(MASK)
    p.drawRect(QRectF(6, 30, 52, 28))
    _fill(p)


_DRAWERS = {
    "brush": _brush, "eraser": _eraser, "line": _line, "depth_brush": _depth_brush, "gradient": _gradient,
    "fill": _fill, "pose": _pose, "mask_brush": _mask_brush, "mask_eraser": _mask_eraser, "mask_fill": _mask_fill,
}


def tool_icon(name: str) -> QIcon:
    """The icon of canvas tool `name` (an empty icon for unknown names)."""
    drawer = _DRAWERS.get(name)
    if drawer is None:
        return QIcon()
    pixmap = QPixmap(SIZE, SIZE)
    pixmap.fill(Qt.GlobalColor.transparent)
    painter = QPainter(pixmap)
    painter.setRenderHint(QPainter.RenderHint.Antialiasing, True)
    drawer(painter)
    painter.end()
    return QIcon(pixmap)

