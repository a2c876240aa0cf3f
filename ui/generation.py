"""Generation glue: panel state + document control maps -> `GenerationRequest` -> engine on the worker thread.

The GUI thread only builds the request (control maps are copied from the document) and shows progress; model
loading and the denoising loop run in `JobRunner`'s thread. Errors arrive as one clear sentence with what to do.
Every run, finished, cancelled or failed, is logged in the worker thread through `log_generation` (the window
sets it to the history recorder's); the gallery entries carry the logged generation's id for feedback.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable

import numpy as np
from PIL import Image
from PySide6.QtCore import QObject, Signal
from PySide6.QtWidgets import QFileDialog

from studio.engine.errors import DeviceOutOfMemoryError, ModelError, SettingsError
from studio.engine.metadata import save_png
from studio.engine.pipeline import CancelToken, Engine, GenerationResult, Progress
from studio.engine.request import GenerationRequest
from studio.engine.settings import ModelSettings
from studio.errors import StudioError
from ui.dialogs.compare import CompareDialog
from ui.panels.gallery_model import GalleryEntry
from ui.panels.generation_state import CONTROL_LABELS, GenerationSettings
from ui.workers import JobHandle

if TYPE_CHECKING:
    from studio.document import Document
    from ui.main_window import MainWindow

NO_MODEL_HELP = (
    "No model is set up yet. Open Generate ▸ Models… to point the studio at a diffusers folder, a .safetensors "
    "file or a cached Hugging Face id, or start the DEMO MODE there to try everything with tiny models."
)


def describe_error(error: BaseException) -> str:
    """One sentence for the user, plus what to do about it."""
    if isinstance(error, DeviceOutOfMemoryError):
        return str(error)
    if isinstance(error, (ModelError, SettingsError)):
        return f"{error} Check the model in Generate ▸ Models…."
    if isinstance(error, StudioError):
        return str(error)
    return f"Generation failed unexpectedly ({type(error).__name__}: {error}). The document is unchanged."


def control_images(document: "Document", settings: GenerationSettings) -> tuple[dict[str, np.ndarray], list[str]]:
    """The control maps of the enabled layers that have content, and the labels of enabled but empty layers.
    Reads only `document` (a detached `Document.copy()` may be read on a worker thread)."""
    images: dict[str, np.ndarray] = {}
    skipped = []
    for kind, control in settings.controls.items():
        if not control.enabled:
            continue
        image = document.control_image(kind)
        if image.any():
            images[kind] = image
        else:
            skipped.append(CONTROL_LABELS[kind].lower())
    return images, skipped


class GenerationController(QObject):
    """Runs generations for the window and feeds the gallery."""

    progress = Signal(int, int)  # step, total
    finished = Signal(object, object)  # GenerationResult, list[GalleryEntry]
    failed = Signal(str)  # the message shown
    models_reloaded = Signal()  # the model settings were read again; the engine will be rebuilt

    def __init__(self, window: "MainWindow") -> None:
        super().__init__(window)
        self.window = window
        self.panel = window.generate_panel
        self.gallery = window.gallery_panel
        self.model_settings = ModelSettings()
        self._engine: Engine | None = None  # created and used on the worker thread only
        self.job: JobHandle | None = None
        self._cancel: CancelToken | None = None
        # Worker thread: log(request, result=..., error=...) -> history event id or None.
        self.log_generation: Callable[..., int | None] | None = None
        # GUI thread, before a run: lets another engine user (live mode) let go; returns what the worker thread
        # calls to wait until it has.
        self.engine_handover: Callable[[], Callable[[], None]] | None = None
        self.panel.generate_requested.connect(self.generate)
        self.panel.cancel_requested.connect(self.cancel)
        self.panel.models_requested.connect(window.show_models_guide)
        self.gallery.rerun_requested.connect(self.rerun)
        self.gallery.use_as_reference.connect(self.use_as_reference)
        self.gallery.save_requested.connect(self.save_entry_dialog)
        self.gallery.compare_requested.connect(self.compare)

    # Models --------------------------------------------------------------------------------------
    def reload_models(self) -> None:
        """Read the model settings file again and refresh the model choice (the engine is rebuilt lazily)."""
        try:
            self.model_settings = ModelSettings.load(self.window.paths.model_settings)
        except SettingsError as exc:
            self.model_settings = ModelSettings()
            self.panel.message_bar.show_error(describe_error(exc))
        self._engine = None
        self.panel.set_models(list(self.model_settings.models), current=self.model_settings.active)
        self.models_reloaded.emit()

    @property
    def has_models(self) -> bool:
        return bool(self.model_settings.models)

    # Running -------------------------------------------------------------------------------------
    @property
    def running(self) -> bool:
        return self.job is not None and self.job.running

    def build_request(self, settings: GenerationSettings) -> GenerationRequest:
        """The request for `settings`: enabled layers that have content become controls."""
        document = self.window.document
        document.finish_strokes()
        images, skipped = control_images(document, settings)
        if skipped:
            self.window.show_status(f"Empty layers not used as controls: {', '.join(skipped)}")
        return settings.to_request(images)

    def generate(self) -> bool:
        """Start a generation from the panel; False (with a message) when it cannot start."""
        settings = self.panel.settings()
        if not self.has_models or settings.model is None:
            self.panel.message_bar.show_error(NO_MODEL_HELP)
            return False
        try:
            request = self.build_request(settings)
            request.validate()
        except StudioError as exc:
            self.panel.message_bar.show_error(describe_error(exc))
            return False
        return self.run(request, model=settings.model)

    def run(self, request: GenerationRequest, *, model: str | None) -> bool:
        """Start `request` on `model` in the background."""
        if self.running:
            self.panel.message_bar.show_info("A generation is already running; cancel it or wait.")
            return False
        if not self.has_models or model is None:
            self.panel.message_bar.show_error(NO_MODEL_HELP)
            return False
        settings = dataclasses.replace(self.model_settings, active=model)
        cancel = CancelToken()
        self._cancel = cancel

        log = self.log_generation
        wait_for_engine = self.engine_handover() if self.engine_handover is not None else None

        def job(report, _cancel_event) -> tuple[GenerationResult, int | None]:
            try:
                if wait_for_engine is not None:
                    wait_for_engine()
                engine = self._engine_for(settings)
                result = engine.generate(request, on_progress=lambda p: report(_progress_message(p)), cancel=cancel)
            except BaseException as exc:
                if log is not None:
                    log(request, error=exc)
                raise
            return result, None if log is None else log(request, result=result)

        self.panel.set_running(True)
        self.job = self.window.runner.submit(
            job,
            on_progress=self._on_progress,
            on_finished=lambda result, m=model: self._on_finished(result, model=m),
            on_failed=self._on_failed,
        )
        return True

    def shared_engine(self, model: str) -> Engine:
        """The engine normal runs use, with `model` active, for live mode (no second copy of the models).
        Only while no run is going: `engine_handover` keeps the two apart."""
        return self._engine_for(dataclasses.replace(self.model_settings, active=model))

    def _engine_for(self, settings: ModelSettings) -> Engine:
        """Worker thread: reuse the engine (and its loaded models) while the settings file is unchanged."""
        engine = self._engine
        if engine is None or engine.settings.models != settings.models:
            engine = Engine(dataclasses.replace(settings))
            self._engine = engine
        engine.settings.active = settings.active
        return engine

    def cancel(self) -> None:
        """Stop the running generation after its current step."""
        if self._cancel is not None and self.running:
            self._cancel.cancel()
            self.panel.progress_bar.setFormat("Cancelling…")

    def _on_progress(self, message: dict[str, Any]) -> None:
        self.panel.show_progress(step=message["step"], total=message["total"], preview=message["preview"])
        self.progress.emit(message["step"], message["total"])

    def _on_finished(self, outcome: tuple[GenerationResult, int | None], *, model: str | None) -> None:
        result, history_id = outcome
        self.panel.set_running(False)
        self.panel.show_seed_used(result.seed)
        if result.cancelled:
            self.panel.message_bar.show_info("Generation cancelled.")
            self.finished.emit(result, [])
            return
        entries = [
            GalleryEntry(
                image=np.asarray(image.convert("RGB")),
                request=dataclasses.replace(result.request, seed=seed, batch_size=1),
                model=model,
                models=list(result.models),
                index_in_batch=index,
                timings=dict(result.timings),
                history_id=history_id,
            )
            for index, (image, seed) in enumerate(zip(result.images, result.seeds))
        ]
        self.gallery.add_entries(entries)
        self.window.docks["gallery"].raise_()
        total = result.timings.get("total", 0.0)
        self.window.show_status(f"Generated {len(entries)} image(s) in {total:.1f} s on {result.device}")
        self.finished.emit(result, entries)

    def _on_failed(self, error: BaseException) -> None:
        self.panel.set_running(False)
        message = describe_error(error)
        self.panel.message_bar.show_error(message)
        self.failed.emit(message)

    # Gallery actions -----------------------------------------------------------------------------
    def rerun(self, entry: GalleryEntry, new_seed: bool) -> bool:
        """Generate again with the entry's parameters (same seed, or a new random one)."""
        request = dataclasses.replace(entry.request, seed=None if new_seed else entry.request.seed)
        model = entry.model if entry.model in self.model_settings.models else self.panel.settings().model
        return self.run(request, model=model)

    def use_as_reference(self, entry: GalleryEntry) -> None:
        from studio.document.picture_import import set_reference_picture

        self.window.view.run_edit(lambda: set_reference_picture(self.window.document, entry.image))

    def compare(self, left: GalleryEntry, right: GalleryEntry) -> CompareDialog:
        dialog = CompareDialog(left, right, self.window)
        dialog.open()
        return dialog

    def save_entry_dialog(self, entry: GalleryEntry) -> None:
        start = self.window.app_settings.last_folder() / f"result-{entry.request.seed}.png"
        name, _ = QFileDialog.getSaveFileName(self.window, "Save result", str(start), "PNG images (*.png)")
        if name:
            self.save_entry(entry, Path(name))

    def save_entry(self, entry: GalleryEntry, path: Path) -> bool:
        """Save the image as PNG with its generation parameters in the file's metadata (the engine's writer)."""
        try:
            save_png(Image.fromarray(entry.image), path, request=entry.request, seed=entry.request.seed,
                     models=entry.models)
        except (OSError, StudioError) as exc:
            self.window.report_error(f"Could not save {path} ({exc}).", title="Save result")
            return False
        self.window.app_settings.set_last_folder(path.parent)
        self.window.show_status(f"Saved {path.name}")
        return True


def _progress_message(progress: Progress) -> dict[str, Any]:
    """Worker thread: plain data for the GUI (the preview converted to an array here, off the GUI thread)."""
    preview = np.asarray(progress.preview.convert("RGB")) if progress.preview is not None else None
    return {"step": progress.step, "total": progress.total, "preview": preview}
