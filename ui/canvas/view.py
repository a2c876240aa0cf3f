"""The canvas view: shows a document's layers, zooms, pans and hands pointer input to the current tool."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager

from PySide6.QtCore import QPointF, QRectF, Qt, Signal
from PySide6.QtGui import (
    QColor, QKeyEvent, QMouseEvent, QPainter, QPen, QTabletEvent, QWheelEvent,
)  # fmt: skip
from PySide6.QtWidgets import QGraphicsEllipseItem, QGraphicsItem, QGraphicsScene, QGraphicsView, QWidget

from studio.document import ChangeEvent, Document, DocumentError
from ui.canvas.layer_items import LayerItems
from ui.canvas.brush_memory import BrushMemory
from ui.canvas.tools.base import Tool, ToolEvent, ToolSettings

ZOOM_STEP = 1.25
MIN_ZOOM, MAX_ZOOM = 0.02, 64.0
BACKGROUND = QColor("#202023")
PAPER = QColor("#000000")  # control maps are white on black: the document shows black where layers are empty
PAPER_BORDER = QColor("#4a4a50")
FIT_PADDING = 0.02  # of the document's longer side, around the document when fitted


class CanvasView(QGraphicsView):
    """A QGraphicsView over one `Document`.

    Wheel zooms around the pointer; middle button or space + left drag pans; the left button (or a tablet
    pen, with its pressure) goes to the current tool. Edits raise core errors (e.g. a locked layer); those are
    reported through `message` instead of escaping the event handler.
    """

    message = Signal(str)  # a sentence for the user (status bar)
    zoom_changed = Signal(float)
    tool_changed = Signal(str)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setScene(QGraphicsScene(self))
        self.setTransformationAnchor(QGraphicsView.ViewportAnchor.AnchorUnderMouse)
        self.setResizeAnchor(QGraphicsView.ViewportAnchor.AnchorViewCenter)
        self.setViewportUpdateMode(QGraphicsView.ViewportUpdateMode.MinimalViewportUpdate)
        self.setOptimizationFlag(QGraphicsView.OptimizationFlag.DontAdjustForAntialiasing, True)
        self.setRenderHint(QPainter.RenderHint.Antialiasing, True)
        self.setMouseTracking(True)
        self.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.setVerticalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.setFrameShape(QGraphicsView.Shape.NoFrame)
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        self.document: Document | None = None
        self.items: LayerItems | None = None
        self.tool_settings = ToolSettings()
        self.brush_memory = BrushMemory(self.tool_settings)
        self.tools: dict[str, Tool] = {}
        self.tool: Tool | None = None
        self._unsubscribe: Callable[[], None] | None = None
        self._space_down = False
        self._pan_from: QPointF | None = None
        self._tool_active = False
        self._pen_pressure: float | None = None
        self._auto_fit = True
        self.outline = QGraphicsEllipseItem()
        pen = QPen(QColor(255, 255, 255, 200), 0)
        pen.setCosmetic(True)
        self.outline.setPen(pen)
        self.outline.setVisible(False)
        self._overlays: list[QGraphicsItem] = []
        self.add_overlay(self.outline)

    def add_overlay(self, item: QGraphicsItem) -> None:
        """Keep `item` (a tool preview or the brush outline) above the layers, across document changes."""
        item.setZValue(1000 + len(self._overlays))
        self._overlays.append(item)
        self.scene().addItem(item)

    # Document ------------------------------------------------------------------------------------
    def set_document(self, document: Document) -> None:
        """Show `document` (replaces the previous one and its items) and fit it to the window."""
        if self.tool is not None:
            self.tool.cancel()
        if self._unsubscribe is not None:
            self._unsubscribe()
        scene = self.scene()
        for overlay in self._overlays:
            scene.removeItem(overlay)
        scene.clear()
        self.document = document
        self.items = LayerItems(document)
        for item in self.items.all():
            scene.addItem(item)
        for overlay in self._overlays:
            scene.addItem(overlay)
        # Room around the document so it can be panned anywhere (no scroll bars: space-drag or middle button).
        margin = max(document.width, document.height)
        scene.setSceneRect(QRectF(-margin, -margin, document.width + 2 * margin, document.height + 2 * margin))
        self._unsubscribe = document.subscribe(self._on_change)
        self.fit_to_window()

    @contextmanager
    def overlays_hidden(self) -> Iterator[None]:
        """Hide tool previews, the brush outline and pose handles (e.g. while rendering the canvas to a file)."""
        shown = [item for item in self._overlays if item.isVisible()]
        handles = self.items.pose.show_handles if self.items else False
        for item in shown:
            item.setVisible(False)
        if self.items:
            self.items.pose.show_handles = False
        try:
            yield
        finally:
            for item in shown:
                item.setVisible(True)
            if self.items:
                self.items.pose.show_handles = handles

    def drawBackground(self, painter: QPainter, rect: QRectF) -> None:
        painter.fillRect(rect, BACKGROUND)
        if self.document is None:
            return
        paper = QRectF(0, 0, self.document.width, self.document.height)
        painter.fillRect(paper.intersected(rect), PAPER)
        pen = QPen(PAPER_BORDER, 0)
        pen.setCosmetic(True)
        painter.setPen(pen)
        painter.drawRect(paper)

    def _on_change(self, event: ChangeEvent) -> None:
        if self.items is not None:
            self.items.apply(event)

    # Tools ---------------------------------------------------------------------------------------
    def add_tool(self, tool: Tool) -> None:
        self.tools[tool.name] = tool

    def set_tool(self, name: str) -> None:
        """Make the tool called `name` current."""
        tool = self.tools[name]
        if tool is self.tool:
            return
        if self.tool is not None:
            self._tool_active = False
            self.tool.deactivate()
        self.tool = tool
        self.brush_memory.switch(name)  # each tool keeps its own size and hardness
        tool.activate()
        self._update_outline(None)
        self.tool_changed.emit(name)

    def run_edit(self, action: Callable[[], object]) -> object:
        """Run a document edit; core errors (locked layer, bad values) become a `message`."""
        try:
            return action()
        except DocumentError as exc:
            self.message.emit(str(exc))
            return None

    # Zoom and pan --------------------------------------------------------------------------------
    @property
    def zoom(self) -> float:
        return self.transform().m11()

    def set_zoom(self, zoom: float) -> None:
        self._auto_fit = False
        zoom = min(MAX_ZOOM, max(MIN_ZOOM, zoom))
        factor = zoom / self.zoom
        self.scale(factor, factor)
        self.zoom_changed.emit(self.zoom)

    def zoom_in(self) -> None:
        self.set_zoom(self.zoom * ZOOM_STEP)

    def zoom_out(self) -> None:
        self.set_zoom(self.zoom / ZOOM_STEP)

    def fit_to_window(self) -> None:
        """Show the whole document; it stays fitted when the view is resized until the user zooms."""
        self._auto_fit = True
        if self.document is None:
            return
        pad = FIT_PADDING * max(self.document.width, self.document.height)
        rect = QRectF(0, 0, self.document.width, self.document.height).adjusted(-pad, -pad, pad, pad)
        self.fitInView(rect, Qt.AspectRatioMode.KeepAspectRatio)
        self.zoom_changed.emit(self.zoom)

    def resizeEvent(self, event) -> None:
        super().resizeEvent(event)
        if self._auto_fit:
            self.fit_to_window()

    def actual_size(self) -> None:
        self.set_zoom(1.0)

    def wheelEvent(self, event: QWheelEvent) -> None:
        delta = event.angleDelta().y()
        if delta:
            self.set_zoom(self.zoom * ZOOM_STEP ** (delta / 120.0))
        event.accept()

    def _pan_by(self, delta: QPointF) -> None:
        self.horizontalScrollBar().setValue(self.horizontalScrollBar().value() - round(delta.x()))
        self.verticalScrollBar().setValue(self.verticalScrollBar().value() - round(delta.y()))

    def keyPressEvent(self, event: QKeyEvent) -> None:
        if event.key() == Qt.Key.Key_Space and not event.isAutoRepeat():
            self._space_down = True
            self.viewport().setCursor(Qt.CursorShape.OpenHandCursor)
            event.accept()
            return
        super().keyPressEvent(event)

    def keyReleaseEvent(self, event: QKeyEvent) -> None:
        if event.key() == Qt.Key.Key_Space and not event.isAutoRepeat():
            self._space_down = False
            self.viewport().unsetCursor()
            event.accept()
            return
        super().keyReleaseEvent(event)

    # Pointer input -------------------------------------------------------------------------------
    def _tool_event(self, event: QMouseEvent | QTabletEvent) -> ToolEvent:
        pressure = 1.0
        if self._pen_pressure is not None and self.tool_settings.use_pressure:
            pressure = self._pen_pressure
        return ToolEvent(
            pos=self.mapToScene(event.position().toPoint()) + self._subpixel(event),
            pressure=pressure,
            modifiers=event.modifiers(),
            button=event.button(),
        )

    def _subpixel(self, event: QMouseEvent | QTabletEvent) -> QPointF:
        """The fraction of a view pixel that toPoint() dropped, in scene units (pens report sub-pixels)."""
        pos = event.position()
        scale = self.zoom or 1.0
        return QPointF((pos.x() - round(pos.x())) / scale, (pos.y() - round(pos.y())) / scale)

    def mousePressEvent(self, event: QMouseEvent) -> None:
        if event.button() == Qt.MouseButton.MiddleButton or (
            event.button() == Qt.MouseButton.LeftButton and self._space_down
        ):
            self._pan_from = event.position()
            self.viewport().setCursor(Qt.CursorShape.ClosedHandCursor)
            event.accept()
            return
        if event.button() == Qt.MouseButton.LeftButton and self.tool is not None and self.document is not None:
            self._tool_active = True
            tool_event = self._tool_event(event)
            self.run_edit(lambda: self.tool.press(tool_event))
            self._update_outline(tool_event)
            event.accept()
            return
        super().mousePressEvent(event)

    def mouseMoveEvent(self, event: QMouseEvent) -> None:
        if self._pan_from is not None:
            self._pan_by(event.position() - self._pan_from)
            self._pan_from = event.position()
            event.accept()
            return
        if self.tool is None or self.document is None:
            return
        tool_event = self._tool_event(event)
        if self._tool_active:
            self.run_edit(lambda: self.tool.move(tool_event))
        else:
            self.tool.hover(tool_event)
        self._update_outline(tool_event)
        event.accept()

    def mouseReleaseEvent(self, event: QMouseEvent) -> None:
        if self._pan_from is not None and event.button() in (Qt.MouseButton.MiddleButton, Qt.MouseButton.LeftButton):
            self._pan_from = None
            if self._space_down:
                self.viewport().setCursor(Qt.CursorShape.OpenHandCursor)
            else:
                self.viewport().unsetCursor()
            event.accept()
            return
        if event.button() == Qt.MouseButton.LeftButton and self._tool_active and self.tool is not None:
            self._tool_active = False
            tool_event = self._tool_event(event)
            self.run_edit(lambda: self.tool.release(tool_event))
            self._pen_pressure = None
            event.accept()
            return
        super().mouseReleaseEvent(event)

    def tabletEvent(self, event: QTabletEvent) -> None:
        """Remember the pen pressure; Qt then delivers the same input as mouse events, which use it."""
        if event.type() == QTabletEvent.Type.TabletRelease:
            self._pen_pressure = None
        else:
            self._pen_pressure = max(0.0, min(1.0, event.pressure()))
        event.ignore()  # let Qt synthesize the mouse event

    def leaveEvent(self, event) -> None:
        self.outline.setVisible(False)
        super().leaveEvent(event)

    def focusOutEvent(self, event) -> None:
        self._space_down = False
        super().focusOutEvent(event)

    # Brush outline -------------------------------------------------------------------------------
    def _update_outline(self, event: ToolEvent | None) -> None:
        tool = self.tool
        if event is None or tool is None or not tool.shows_brush_outline:
            self.outline.setVisible(False)
            return
        diameter = tool.brush_diameter()
        radius = diameter / 2
        self.outline.setRect(QRectF(event.pos.x() - radius, event.pos.y() - radius, diameter, diameter))
        self.outline.setVisible(True)
