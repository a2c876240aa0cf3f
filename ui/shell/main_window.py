"""The main window: the canvas in the centre, docked panels, menus, tool bars and the status bar.

Other panels plug in with `add_panel(name, widget)`. Every edit is logged into the document's history file as it
is made (`history` session, `recorder`); the History panel browses, restores and branches it.
Everything a menu does is also a method (`new_document`, `files.open_path`, `generation.generate`...), so tests
and scripts drive the same code as the user.
"""

from __future__ import annotations

from PySide6.QtCore import QSettings, QSize, Qt
from PySide6.QtGui import QAction, QCloseEvent
from PySide6.QtWidgets import QDockWidget, QLabel, QMainWindow, QToolBar, QVBoxLayout, QWidget

from studio.app.gallery import Gallery
from studio.app.generation_state import GenerationState
from studio.app.paths import AppPaths
from studio.document import Document
from studio.engine.service import EngineClient, EngineService
from ui.canvas.mask_actions import MASK_TOOLBAR_KEYS, MaskCommands
from ui.canvas.pose_actions import PoseCommands
from ui.canvas.tool_actions import install_tools
from ui.canvas.tool_options import ToolOptionsBar
from ui.canvas.view import CanvasView
from ui.chat.controller import ChatController
from ui.chat.panel import ChatPanel
from ui.common.context import AppContext
from ui.common.message_bar import MessageBar
from ui.common.settings import AppSettings, default_settings
from ui.common.workers import JobRunner
from ui.dialogs.models_guide import ModelsGuideDialog
from ui.document.files import DocumentFiles
from ui.document.layer_commands import LayerCommands
from ui.document.layers_panel import LayersPanel
from ui.document.undo import UndoActions
from ui.gallery.panel import GalleryPanel
from ui.gallery.scorer import ScorerController
from ui.gallery.scorer_settings import ScorerFolderBox
from ui.generate.controller import GenerationController
from ui.generate.live import LiveController
from ui.generate.live_panel import LivePreviewPanel
from ui.generate.panel import GeneratePanel
from ui.history.exports import HistoryExports
from ui.history.training import HistoryTraining
from ui.history.panel import HistoryPanel
from ui.history.recorder import HistoryRecorder
from ui.history.recovery import offer_recovery
from ui.history.session import HistorySession
from ui.shell.menus import Menus

APP_TITLE = "ControlNet Studio"
LIVE_PREVIEW_HEIGHT = 380  # pixels given to the live preview when it first appears beside the Generate panel
DOCK_AREAS = {
    "layers": Qt.DockWidgetArea.LeftDockWidgetArea,
    "history": Qt.DockWidgetArea.LeftDockWidgetArea,
    "generate": Qt.DockWidgetArea.RightDockWidgetArea,
    "assistant": Qt.DockWidgetArea.RightDockWidgetArea,
    "gallery": Qt.DockWidgetArea.BottomDockWidgetArea,
    "live": Qt.DockWidgetArea.RightDockWidgetArea,
}


class MainWindow(QMainWindow):
    """The studio window over one document at a time.

    settings: where layout and recent files are kept (tests pass a QSettings on a temporary ini file).
    paths: where models settings and demo models live (tests pass temporary folders).
    engine: the engine service (default: `EngineService`, the engine with the CLI's speed-ups); tests may pass a
        scripted `EngineClient`.
    """

    def __init__(
        self,
        *,
        settings: QSettings | None = None,
        paths: AppPaths | None = None,
        document: Document | None = None,
        engine: EngineClient | None = None,
    ) -> None:
        super().__init__()
        self.setObjectName("mainWindow")
        self.app_settings = AppSettings(settings if settings is not None else default_settings())
        self.paths = paths or AppPaths.default()
        self.runner = JobRunner(self)
        self.engine_service: EngineClient = engine if engine is not None else EngineService()
        self.gallery = Gallery()  # the current document's results
        self.generation_state = GenerationState()  # the generation settings the Generate panel shows
        self.context = AppContext(widget=self, app_settings=self.app_settings, paths=self.paths,
                                  engine=self.engine_service, runner=self.runner, gallery=self.gallery)
        self.docks: dict[str, QDockWidget] = {}
        self.history = HistorySession(self.paths.autosave_dir, self)  # the document's history file and thread

        self.view = CanvasView()
        self.message_bar = MessageBar()
        central = QWidget()
        column = QVBoxLayout(central)
        column.setContentsMargins(0, 0, 0, 0)
        column.setSpacing(0)
        column.addWidget(self.message_bar)
        column.addWidget(self.view, 1)
        self.setCentralWidget(central)
        self.undo = UndoActions(self)
        self.tool_actions = install_tools(self.view, self)
        self.tool_options = ToolOptionsBar(self.view.tool_settings, self)
        self._build_toolbars()  # before the docks: adding a tool bar later leaves a stray dock tab bar behind

        self.layers_panel = LayersPanel()
        self.generate_panel = GeneratePanel(self.generation_state)
        self.gallery_panel = GalleryPanel(self.gallery)
        self.add_panel("layers", self.layers_panel, title="Layers")
        self.add_panel("generate", self.generate_panel, title="Generate")
        self.chat_panel = ChatPanel()
        self.add_panel("assistant", self.chat_panel, title="Assistant")
        self.history_panel = HistoryPanel(self.history)
        self.add_panel("history", self.history_panel, title="History")
        self.add_panel("gallery", self.gallery_panel, title="Gallery")
        self.live_panel = LivePreviewPanel()
        self.add_panel("live", self.live_panel, title="Live preview")
        self.splitDockWidget(self.docks["generate"], self.docks["live"], Qt.Orientation.Vertical)
        self.docks["live"].hide()  # shown when live mode is switched on
        # One tabbed group only: Qt leaves a stray tab bar on screen when two groups are tabified at start-up.
        self.tabifyDockWidget(self.docks["generate"], self.docks["assistant"])
        self.docks["generate"].raise_()
        self.resizeDocks([self.docks["layers"], self.docks["generate"]], [300, 420], Qt.Orientation.Horizontal)
        self.resizeDocks([self.docks["layers"], self.docks["history"]], [240, 420], Qt.Orientation.Vertical)  # layers: its content
        self.resizeDocks([self.docks["gallery"]], [220], Qt.Orientation.Vertical)

        context = self.context
        self.models_guide: ModelsGuideDialog | None = None
        self.recorder = HistoryRecorder(self.history, panel=self.generate_panel, gallery=self.gallery,
                                        parent=self)
        self.generation = GenerationController(context, panel=self.generate_panel, gallery_panel=self.gallery_panel,
                                               view=self.view, log_generation=self.recorder.log_generation)
        self.files = DocumentFiles(context, history=self.history, recorder=self.recorder, view=self.view,
                                   gallery_panel=self.gallery_panel, save_result=self.generation.save_entry_dialog,
                                   generation_state=self.generation_state)
        self.layer_commands = LayerCommands(context, view=self.view, layers_panel=self.layers_panel)
        self.live = LiveController(context, generation=self.generation, preview=self.live_panel)
        self.chat = ChatController(context, panel=self.chat_panel, generation=self.generation,
                                   recorder=self.recorder)
        self.exports = HistoryExports(context, history=self.history, recorder=self.recorder)
        self.training = HistoryTraining(context, history=self.history, recorder=self.recorder,
                                        on_trained=self.generation.reload_models)
        self.pose_commands = PoseCommands(context, view=self.view)
        self.scorer = ScorerController(context, history=self.history, gallery_panel=self.gallery_panel,
                                       history_panel=self.history_panel)
        self.mask_commands = MaskCommands(context, view=self.view)
        self.menus = Menus(self, [*self.files.commands(), *self.pose_commands.commands(),
                                  *self.layer_commands.commands(), *self.mask_commands.commands(),
                                  *self.generation.commands(), *self.exports.commands(),
                                  *self.training.commands()])
        self.tool_options.add_mask_actions([self.commands[key] for key in MASK_TOOLBAR_KEYS])
        self.layers_panel.add_actions([self.commands[key] for key in (
            "import_image", "edges_from_reference", "invert_edges", "clear_layer", "remove_reference",
            "export_maps")])
        self._build_status_bar()
        self._connect()

        self.generation.reload_models()
        self.files.watch_new(document if document is not None else Document(512, 512))
        self.view.set_tool("brush")
        self.scorer.start()
        self._restore_layout()
        self.recovery = offer_recovery(self.history, self.files, self)

    # Panels --------------------------------------------------------------------------------------
    def add_panel(
        self,
        name: str,
        widget: QWidget,
        *,
        title: str | None = None,
        area: Qt.DockWidgetArea | None = None,
    ) -> QDockWidget:
        """Show `widget` in the dock called `name` (replacing a placeholder there) or in a new dock."""
        dock = self.docks.get(name)
        if dock is None:
            dock = QDockWidget(title or name.capitalize(), self)
            dock.setObjectName(f"dock_{name}")
            dock.setAllowedAreas(Qt.DockWidgetArea.AllDockWidgetAreas)
            self.addDockWidget(area or DOCK_AREAS.get(name, Qt.DockWidgetArea.RightDockWidgetArea), dock)
            self.docks[name] = dock
        else:
            old = dock.widget()
            if old is not None:
                old.deleteLater()
            if title:
                dock.setWindowTitle(title)
        dock.setWidget(widget)
        return dock

    def _build_toolbars(self) -> None:
        tools = QToolBar("Tools", self)
        tools.setObjectName("toolsBar")
        tools.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextUnderIcon)
        tools.setIconSize(QSize(28, 28))
        for action in self.tool_actions.values():
            tools.addAction(action)
        self.addToolBar(Qt.ToolBarArea.LeftToolBarArea, tools)
        self.addToolBar(Qt.ToolBarArea.TopToolBarArea, self.tool_options)
        self.tools_bar = tools

    def _build_status_bar(self) -> None:
        self.zoom_label = QLabel("100%")
        self.size_label = QLabel()
        self.statusBar().addPermanentWidget(self.size_label)
        self.statusBar().addPermanentWidget(self.zoom_label)

    def _connect(self) -> None:
        context = self.context
        context.document_changed.connect(self._document_changed)
        context.status.connect(self.show_status)
        context.error.connect(lambda text, title: self.report_error(text, title=title))
        context.notice.connect(self.message_bar.show_info)
        context.panel_requested.connect(self.raise_panel)
        self.files.path_changed.connect(lambda _path: self.update_title())
        self.files.modified_changed.connect(self.setWindowModified)
        self.files.recent_changed.connect(self.menus.refresh_recent)
        self.generate_panel.models_requested.connect(self.show_models_guide)
        self.view.message.connect(self.show_status)
        self.view.zoom_changed.connect(lambda zoom: self.zoom_label.setText(f"{zoom * 100:.0f}%"))
        self.view.tool_changed.connect(self._tool_changed)
        self.layers_panel.current_changed.connect(self._layer_picked)
        self.history.error.connect(lambda text: self.report_error(text, title="History"))
        self.history_panel.restore_requested.connect(self.files.restore_revision)
        self.history_panel.branch_requested.connect(self.files.switch_branch)
        self.history_panel.feedback_requested.connect(
            lambda generation, result, verdict, rating, comment: self.recorder.log_feedback(
                generation, result=result, verdict=verdict, rating=rating, comment=comment))

    # Document ------------------------------------------------------------------------------------
    @property
    def document(self) -> Document | None:
        return self.context.document

    @property
    def commands(self) -> dict[str, QAction]:
        """Every menu action by key (tests and scripts trigger them like the user)."""
        return self.menus.commands

    def set_document(self, document: Document) -> None:
        """Show `document` in the canvas and panels; undo follows its history."""
        self.context.set_document(document)

    def _document_changed(self, document: Document) -> None:
        self.view.set_document(document)
        self.layers_panel.set_document(document)
        self.recorder.bind(document)
        self.live.bind(document)
        self.undo.bind(document.history)
        self.generate_panel.undo_history = document.history
        if self.view.tool is not None:
            self.view.tool.activate()
        self.size_label.setText(f"{document.width} × {document.height}")
        self.update_title()

    def new_document(self, width: int = 512, height: int = 512) -> None:
        self.files.new(width, height)

    def update_title(self) -> None:
        path = self.files.path if hasattr(self, "files") else None
        name = path.name if path else "Untitled"
        self.setWindowTitle(f"{name}[*] – {APP_TITLE}")

    def raise_panel(self, name: str) -> None:
        """Bring the dock `name` to the front (the live preview is shown first, with room to see the frame)."""
        dock = self.docks[name]
        if dock.isHidden():
            dock.show()
            if name == "live" and not dock.isFloating():
                self.resizeDocks([dock], [LIVE_PREVIEW_HEIGHT], Qt.Orientation.Vertical)
        dock.raise_()

    def show_status(self, text: str, msecs: int = 6000) -> None:
        self.statusBar().showMessage(text, msecs)

    def report_error(self, text: str, *, title: str | None = None) -> None:
        """Show an error in the non-modal message strip above the canvas (the window stays usable)."""
        self.message_bar.show_error(f"{title}: {text}" if title else text)

    def show_models_guide(self) -> ModelsGuideDialog:
        """Open the models guide (where to point the app, add a model, demo mode)."""
        if self.models_guide is None:
            self.models_guide = ModelsGuideDialog(paths=self.paths, runner=self.runner, parent=self)
            self.models_guide.models_changed.connect(self.generation.reload_models)
            self.models_guide.demo_ready.connect(self.generation.use_demo_defaults)
            scorer_box = ScorerFolderBox(str(self.app_settings.scorer_folder() or ""), self.scorer.choose)
            scorer_box.show_state(self.scorer.model.available, self.scorer.model.message)
            self.scorer.state_changed.connect(scorer_box.show_state)
            self.models_guide.add_section(scorer_box)
        self.models_guide.show()
        self.models_guide.raise_()
        return self.models_guide

    def _tool_changed(self, name: str) -> None:
        self.tool_options.show_for(name)
        layer = self.view.tools[name].layer
        if layer:
            self.layers_panel.set_current(layer)

    def _layer_picked(self, name: str) -> None:
        """Picking a layer in the panel switches to that layer's main tool."""
        default_tool = {"edge": "brush", "depth": "depth_brush", "pose": "pose", "mask": "mask_brush"}.get(name)
        if default_tool and self.view.tool is not None and self.view.tool.layer != name:
            self.view.set_tool(default_tool)

    # Layout persistence --------------------------------------------------------------------------
    def _restore_layout(self) -> None:
        geometry = self.app_settings.window_geometry()
        if geometry is not None:
            self.restoreGeometry(geometry)
        else:
            self.resize(1440, 900)
        state = self.app_settings.window_state()
        if state is not None:
            self.restoreState(state)

    def save_layout(self) -> None:
        self.app_settings.save_window(geometry=self.saveGeometry(), state=self.saveState())

    def closeEvent(self, event: QCloseEvent) -> None:
        if not self.files.confirm_discard():
            event.ignore()
            return
        self.live.shutdown()
        self.generation.cancel()
        self.chat.shutdown()
        self.training.shutdown()  # a training run stops and keeps a checkpoint
        self.runner.wait(10_000)
        self.recorder.flush()
        self.history.close()
        self.save_layout()
        super().closeEvent(event)
