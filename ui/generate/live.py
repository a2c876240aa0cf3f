"""Live mode in the window: the engine's `LiveRenderer` fed by canvas and panel edits, frames shown in a pane.

- Every change of a control layer (a stroke when it ends, a pose drag, a depth edit, undo/redo) and every change
  of the generation panel's fields notes a change with the renderer. The GUI thread only takes a snapshot
  (`Document.copy()` and the panel settings, once per event-loop turn); the renderer debounces, drops stale
  changes and makes the control maps and the draft on its own thread.
- Frames and errors arrive on the renderer's thread and reach the GUI thread through queued Qt signals. A frame
  replaces the picture in the live pane; only "Keep" adds it to the gallery and logs it as a generation.
- One engine user at a time: live mode draws through the engine service (`studio.engine.service`), on the same
  engine and loaded models as Generate. A normal Generate pauses live mode (the service's pause hook): the
  renderer is stopped (its draft cancelled after the current step), the generation's worker waits for it to let
  go of the engine, and live mode resumes when the generation ends, drawing the edits made meanwhile.
- An error switches live mode off and shows the message in the generation panel.
"""

from __future__ import annotations

import dataclasses
from typing import TYPE_CHECKING, Any, Callable

import numpy as np
from PySide6.QtCore import QObject, QTimer, Signal

from studio.app.errors import NO_MODEL_HELP, describe_error
from studio.app.gallery import GalleryEntry
from studio.document import Document
from studio.document.events import ChangeEvent
from studio.engine.live import LiveFrame, LiveRenderer
from studio.engine.pipeline import GenerationResult
from studio.engine.request import GenerationRequest
from studio.engine.service import DraftEngine
from ui.generate.controller import control_images
from ui.generate.live_panel import LivePreviewPanel

if TYPE_CHECKING:
    from ui.common.context import AppContext
    from ui.generate.controller import GenerationController

CONTROL_LAYERS = ("edge", "pose", "depth")
JOIN_TIMEOUT_S = 30.0


@dataclasses.dataclass(frozen=True)
class ShownFrame:
    """A live frame as the GUI holds it: the engine's frame, its pixels and what a kept result records."""

    frame: LiveFrame
    image: np.ndarray  # RGB uint8, converted on the renderer's thread
    model: str
    models: list[dict[str, Any]]
    device: str
    family: str


class LiveController(QObject):
    """Runs live mode for the window (see the module docstring)."""

    frame_shown = Signal(object)  # ShownFrame, after it is on screen
    switched = Signal(bool)  # live mode on or off
    _frame_arrived = Signal(object, int)  # ShownFrame, renderer serial (emitted on the renderer's thread)
    _error_arrived = Signal(object, int)  # exception, renderer serial (emitted on the renderer's thread)

    def __init__(self, context: "AppContext", *, generation: "GenerationController", preview: LivePreviewPanel,
                 debounce_s: float = 0.25) -> None:
        super().__init__(context)
        self.context = context
        self.generation = generation
        self.panel = generation.panel
        self.controls = self.panel.live_controls
        self.preview = preview
        self.debounce_s = debounce_s
        self.enabled = False
        self.renderer: LiveRenderer | None = None
        self.shown: ShownFrame | None = None
        self._serial = 0  # frames and errors of older renderers are ignored
        self._retired: list[LiveRenderer] = []  # stopped, maybe still finishing a step
        self._paused = False
        self._missed_change = False
        self._document: Document | None = None
        self._unsubscribe: list[Callable[[], None]] = []
        self._snapshot_timer = QTimer(self)
        self._snapshot_timer.setSingleShot(True)
        self._snapshot_timer.setInterval(0)
        self._snapshot_timer.timeout.connect(self._send_change)
        self._frame_arrived.connect(self._show_frame)
        self._error_arrived.connect(self._fail)
        self.controls.toggled.connect(self.set_enabled)
        self.panel.settings_changed.connect(self._changed)
        preview.keep_requested.connect(self.keep)
        self.generation.engine.add_pause_hook(self._hand_over_engine)
        self.generation.finished.connect(lambda *_args: self._resume())
        self.generation.failed.connect(lambda *_args: self._resume())
        self.generation.models_reloaded.connect(self._models_reloaded)

    # Document ------------------------------------------------------------------------------------
    def bind(self, document: Document) -> None:
        """Follow the edits of `document` from now on."""
        for unsubscribe in self._unsubscribe:
            unsubscribe()
        self._document = document
        self._unsubscribe = [document.subscribe(self._layer_changed), document.history.subscribe(self._changed)]
        self._changed()

    def _layer_changed(self, change: ChangeEvent) -> None:
        document = self._document
        if change.layer not in CONTROL_LAYERS or change.kind == "property":
            return  # the reference picture, visibility and opacity do not change the control maps
        if document is not None and (document.edge.stroke_active or document.depth.stroke_active):
            return  # the stroke's end (an undo step) notes the change
        self._changed()

    # Switching -----------------------------------------------------------------------------------
    def set_enabled(self, on: bool) -> None:
        """Switch live mode on (a first frame of the current state follows) or off (the renderer stops)."""
        if on == self.enabled:
            self.controls.set_checked(on)
            return
        if on and (not self.generation.has_models or self.panel.settings().model is None):
            self.panel.message_bar.show_error(NO_MODEL_HELP)
            self.controls.set_checked(False)
            return
        self.enabled = on
        self.controls.set_checked(on)
        if on:
            self.panel.message_bar.dismiss()
            self.context.raise_panel("live")
            self._paused = self.generation.running
            if self._paused:
                self._missed_change = True
                self.controls.show_state("paused")
            else:
                self._start(first_frame=True)
        else:
            self._retire()
            self._paused = False
            self.controls.show_state("off")
        if self.enabled == on:  # starting can fail and switch live mode off again
            self.switched.emit(on)

    def shutdown(self) -> None:
        """Stop live mode and wait for its renderers to end (the window is closing)."""
        self.set_enabled(False)
        self._join_retired()
        for unsubscribe in self._unsubscribe:
            unsubscribe()
        self._unsubscribe = []

    def _start(self, *, first_frame: bool) -> None:
        """A new renderer on the shared engine; `first_frame` asks it to draw the current state."""
        model = self.panel.settings().model
        engine = self.generation.engine.draft_engine(model)
        self._serial += 1
        serial = self._serial
        self.renderer = LiveRenderer(
            engine, debounce_s=self.debounce_s,
            on_frame=lambda frame: self._deliver(frame, engine=engine, serial=serial),
            on_error=lambda exc: self._error_arrived.emit(exc, serial),
        )
        if first_frame or self.shown is None:
            self.controls.show_state("waiting")
            self._changed()
        else:
            self.controls.show_state("frame", frame_time=self.shown.frame.frame_time)

    def _retire(self) -> None:
        """Stop the renderer without waiting (a draft in progress is cancelled after its current step)."""
        self._snapshot_timer.stop()
        if self.renderer is not None:
            self.renderer.stop(timeout=0)
            self._retired.append(self.renderer)
            self.renderer = None
        self._serial += 1
        # A stopped renderer that is idle never touches the engine again: forget it (and maybe an old engine).
        self._retired = [renderer for renderer in self._retired if not renderer.wait_idle(0)]

    def _join_retired(self) -> None:
        """Wait until every stopped renderer has let go of the engine (any thread)."""
        retired, self._retired = self._retired, []
        for renderer in retired:
            renderer.stop(timeout=JOIN_TIMEOUT_S)

    # Sharing the engine with Generate ---------------------------------------------------------------
    def _hand_over_engine(self) -> Callable[[], None]:
        """GUI thread, before a generation: pause live mode; the returned function (called on the generation's
        worker thread) waits until the live renderer has finished with the engine."""
        if self.enabled and not self._paused:
            self._retire()
            self._paused = True
            self.controls.show_state("paused")
        retired, self._retired = self._retired, []

        def wait() -> None:
            for renderer in retired:
                renderer.stop(timeout=JOIN_TIMEOUT_S)

        return wait

    def _resume(self) -> None:
        if not (self.enabled and self._paused):
            return
        self._paused = False
        missed, self._missed_change = self._missed_change, False
        self._start(first_frame=missed)

    def _models_reloaded(self) -> None:
        if self.enabled:
            self.set_enabled(False)
            self.panel.message_bar.show_info("The model settings changed; live mode is off. Switch it on again.")

    # Changes -------------------------------------------------------------------------------------
    def _changed(self, *_args: Any) -> None:
        if not self.enabled:
            return
        if self._paused:
            self._missed_change = True
            return
        self._snapshot_timer.start()  # one snapshot per event-loop turn, however many events it had

    def _send_change(self) -> None:
        if self.renderer is None or self._document is None:
            return
        settings = self.panel.settings()
        settings.hires_enabled = False  # drafts stay at the first pass's size and speed
        snapshot = self._document.copy()
        engine = self.renderer.engine

        def make_request() -> GenerationRequest:  # the renderer's thread, only for the change it renders
            engine.model = settings.model  # the service makes it active for this draft
            images, _skipped = control_images(snapshot, settings)
            return settings.to_request(images)

        self.renderer.request_changed(make_request)

    # Frames --------------------------------------------------------------------------------------
    def _deliver(self, frame: LiveFrame, *, engine: DraftEngine, serial: int) -> None:
        """The renderer's thread: convert the frame and name the models that made it, then hand it over."""
        model = engine.model
        models, device, family = engine.describe_models([control.kind for control in frame.request.controls])
        shown = ShownFrame(frame=frame, image=np.asarray(frame.image.convert("RGB")), model=model,
                           models=models, device=device, family=family)
        self._frame_arrived.emit(shown, serial)

    def _show_frame(self, shown: ShownFrame, serial: int) -> None:
        if serial != self._serial or not self.enabled:
            return  # a frame of a renderer that was stopped meanwhile
        self.shown = shown
        frame = shown.frame
        self.preview.show_frame(shown.image, number=frame.number, frame_time=frame.frame_time,
                                latency=frame.latency, lcm_model=frame.lcm_model)
        self.controls.show_state("frame", frame_time=frame.frame_time)
        self.frame_shown.emit(shown)

    def _fail(self, error: BaseException, serial: int) -> None:
        if serial != self._serial or not self.enabled:
            return
        self.set_enabled(False)
        self.panel.message_bar.show_error(f"Live mode is off: {describe_error(error)}")

    # Keep ----------------------------------------------------------------------------------------
    def keep(self) -> bool:
        """Add the current live frame to the gallery as a result and log it as a generation (in the
        background); False when there is no frame."""
        shown = self.shown
        if shown is None:
            return False
        frame = shown.frame
        request = frame.request
        result = GenerationResult(
            request=request, images=[frame.image], seed=request.seed, seeds=[request.seed], cancelled=False,
            timings={"total": frame.frame_time}, models=shown.models, device=shown.device, family=shown.family,
            notes=["live draft"],
        )
        entry = GalleryEntry(image=shown.image, request=request, model=shown.model, models=list(shown.models),
                             timings=dict(result.timings))
        gallery = self.context.gallery
        gallery.add([entry])  # shown now; the history id follows when the log is written
        self.context.raise_panel("gallery")
        self.context.show_status("Kept the live frame in the gallery")
        log = self.generation.log_generation
        if log is not None:
            log(request, result=result, on_logged=lambda history_id: gallery.attach_history_id([entry], history_id))
        return True
