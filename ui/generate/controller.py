"""Generation glue: panel state + document control maps -> `GenerationRequest` -> the engine service.

The GUI thread only builds the request (control maps are copied from the document) and shows progress; model
loading and the denoising loop run in `JobRunner`'s thread through the `EngineClient` (`studio.engine.service`),
which owns the engine. Errors arrive as one clear sentence with what to do. When a run ends, its images go
into the gallery at once; the run (finished, cancelled or failed) is then logged in the history through
`log_generation`, and the gallery entries get the logged generation's id (for feedback) when it is written.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable

import numpy as np
from PIL import Image
from PySide6.QtCore import QObject, Signal
from PySide6.QtWidgets import QFileDialog

from studio.app.aspect import aspect_notice
from studio.app.demo_defaults import DEMO_REASON, at_stock_speed, demo_settings, is_demo_model
from studio.app.errors import NO_MODEL_HELP, describe_error
from studio.app.gallery import GalleryEntry
from studio.app.generation_settings import CONTROL_LABELS, GenerationSettings
from studio.app.inpaint_inputs import describe_inpaint, with_mask
from studio.app.loras import available_loras, lora_folder
from studio.engine.errors import SettingsError
from studio.engine.metadata import save_png
from studio.engine.pipeline import CancelToken, GenerationResult, Progress
from studio.engine.request import GenerationRequest
from studio.engine.service import EngineClient
from studio.engine.settings import ModelSettings
from studio.errors import StudioError
from ui.common.commands import Command
from ui.common.workers import JobHandle
from ui.dialogs.compare import CompareDialog
from ui.generate.png_import import PngSettingsImport

if TYPE_CHECKING:
    from studio.document import Document
    from ui.canvas.view import CanvasView
    from ui.common.context import AppContext
    from ui.gallery.panel import GalleryPanel
    from ui.generate.panel import GeneratePanel

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

    def __init__(self, context: "AppContext", *, panel: "GeneratePanel", gallery_panel: "GalleryPanel",
                 view: "CanvasView", log_generation: Callable[..., Any] | None = None) -> None:
        super().__init__(context)
        self.context = context
        self.engine: EngineClient = context.engine
        self.panel = panel
        self.gallery = gallery_panel
        self.view = view
        self.model_settings = ModelSettings()
        self.job: JobHandle | None = None
        self._cancel: CancelToken | None = None
        # GUI thread: log(request, result=..., error=..., on_logged=fn(history id)) logs a run in the history.
        self.log_generation = log_generation
        self.panel.generate_requested.connect(self.generate)
        self.panel.cancel_requested.connect(self.cancel)
        self.gallery.rerun_requested.connect(self.rerun)
        self.gallery.use_as_reference.connect(self.use_as_reference)
        self.gallery.save_requested.connect(self.save_entry_dialog)
        self.gallery.compare_requested.connect(self.compare)
        # File ▸ Open Settings from Image… and PNGs dropped on the panel
        self.png_import = PngSettingsImport(context, panel=panel, state=panel.state,
                                            model_settings=lambda: self.model_settings)

    def commands(self) -> list[Command]:
        """The Generate menu's run commands, and File ▸ Open Settings from Image…."""
        return [
            Command("generate", "Generate", "&Generate", self.generate, shortcut="Ctrl+Return"),
            Command("cancel", "Generate", "&Cancel Generation", self.cancel, shortcut="Ctrl+."),
            *self.png_import.commands(),
        ]

    # Models --------------------------------------------------------------------------------------
    def reload_models(self) -> None:
        """Read the model settings file again and refresh the model choice (the engine is rebuilt lazily)."""
        try:
            self.model_settings = ModelSettings.load(self.context.paths.model_settings)
        except SettingsError as exc:
            self.model_settings = ModelSettings()
            self.panel.message_bar.show_error(describe_error(exc))
        self.engine.configure(self.model_settings)
        self.panel.set_models(list(self.model_settings.models), current=self.model_settings.active)
        self.panel.set_lora_choices(available_loras(self.model_settings), folder=lora_folder(self.model_settings))
        if self._demo_active() and at_stock_speed(self.panel.settings()):
            self.use_demo_defaults()  # the demo models were set up earlier: fast settings from the start
        self.models_reloaded.emit()

    def _demo_active(self) -> bool:
        return is_demo_model(self.model_settings, self.model_settings.active, self.context.paths.demo_models)

    def use_demo_defaults(self) -> None:
        """Demo mode was switched on: select it at its fast size and steps, and say why."""
        name = self.model_settings.active
        if not self._demo_active() or name is None:
            return
        self.panel.set_settings(demo_settings(self.panel.settings(), model=name))
        self.panel.message_bar.show_info(DEMO_REASON)

    @property
    def has_models(self) -> bool:
        return bool(self.model_settings.models)

    # Running -------------------------------------------------------------------------------------
    @property
    def running(self) -> bool:
        return self.job is not None and self.job.running

    def build_request(self, settings: GenerationSettings) -> GenerationRequest:
        """The request for `settings`: enabled layers that have content become controls; a painted mask makes it
        an inpaint of the reference picture (`studio.app.inpaint_inputs`)."""
        document = self.context.document
        document.finish_strokes()
        images, skipped = control_images(document, settings)
        request = with_mask(settings.to_request(images), document)  # a painted mask: inpaint the reference picture
        notes = [describe_inpaint(request)] if request.is_inpaint else []
        if skipped:
            notes.append(f"Empty layers not used as controls: {', '.join(skipped)}")
        if notes:
            self.context.show_status(" ".join(notes))
        return request

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
        started = self.run(request, model=settings.model)
        notice = self.aspect_notice(request)
        if started and notice:
            self.panel.message_bar.show_info(notice)  # after run(), which clears the bar
        return started

    def aspect_notice(self, request: GenerationRequest) -> str | None:
        """What happens to the control maps when the output's shape is not the canvas's (None: same shape)."""
        if not request.controls:
            return None
        document = self.context.document
        crops = any(control.resize_mode == "crop_and_resize" for control in request.controls)
        return aspect_notice(canvas=document.size, output=(request.width, request.height), crops=crops)

    def run(self, request: GenerationRequest, *, model: str | None) -> bool:
        """Start `request` on `model` in the background."""
        if self.running:
            self.panel.message_bar.show_info("A generation is already running; cancel it or wait.")
            return False
        if not self.has_models or model is None:
            self.panel.message_bar.show_error(NO_MODEL_HELP)
            return False
        cancel = CancelToken()
        self._cancel = cancel
        engine = self.engine
        waits = engine.pause_drafts()  # live mode lets go of the engine before this run starts

        def job(report, _cancel_event) -> GenerationResult:
            for wait in waits:
                wait()
            return engine.generate(request, model=model, on_progress=lambda p: report(_progress_message(p)),
                                   cancel=cancel)

        self.panel.set_running(True, steps=request.steps)
        self.job = self.context.runner.submit(
            job,
            on_progress=self._on_progress,
            on_finished=lambda result, m=model: self._on_finished(result, model=m, request=request),
            on_failed=lambda error: self._on_failed(error, request=request),
        )
        return True

    def cancel(self) -> None:
        """Stop the running generation after its current step."""
        if self._cancel is not None and self.running:
            self._cancel.cancel()
            self.panel.progress_bar.setFormat("Cancelling…")

    def _on_progress(self, message: dict[str, Any]) -> None:
        self.panel.show_progress(step=message["step"], total=message["total"], preview=message["preview"])
        self.progress.emit(message["step"], message["total"])

    def _on_finished(self, result: GenerationResult, *, model: str | None, request: GenerationRequest) -> None:
        self.panel.set_running(False)
        self.panel.show_seed_used(result.seed)
        if result.cancelled:
            self._log(request, result=result)
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
            )
            for index, (image, seed) in enumerate(zip(result.images, result.seeds))
        ]
        self.gallery.add_entries(entries)  # shown now; the history id follows when the log is written
        self._log(request, result=result,
                  on_logged=lambda history_id: self.gallery.gallery.attach_history_id(entries, history_id))
        self.context.raise_panel("gallery")
        total = result.timings.get("total", 0.0)
        self.context.show_status(f"Generated {len(entries)} image(s) in {total:.1f} s on {result.device}")
        self.finished.emit(result, entries)

    def _log(self, request: GenerationRequest, **outcome: Any) -> None:
        if self.log_generation is not None:
            self.log_generation(request, **outcome)

    def _on_failed(self, error: BaseException, *, request: GenerationRequest) -> None:
        self._log(request, error=error)
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

        self.view.run_edit(lambda: set_reference_picture(self.context.document, entry.image))

    def compare(self, left: GalleryEntry, right: GalleryEntry) -> CompareDialog:
        dialog = CompareDialog(left, right, self.context.widget)
        dialog.open()
        return dialog

    def save_entry_dialog(self, entry: GalleryEntry) -> None:
        start = self.context.app_settings.last_folder() / f"result-{entry.request.seed}.png"
        name, _ = QFileDialog.getSaveFileName(self.context.widget, "Save result", str(start), "PNG images (*.png)")
        if name:
            self.save_entry(entry, Path(name))

    def save_entry(self, entry: GalleryEntry, path: Path) -> bool:
        """Save the image as PNG with its generation parameters in the file's metadata (the engine's writer)."""
        try:
            save_png(Image.fromarray(entry.image), path, request=entry.request, seed=entry.request.seed,
                     models=entry.models)
        except (OSError, StudioError) as exc:
            self.context.report_error(f"Could not save {path} ({exc}).", title="Save result")
            return False
        self.context.app_settings.set_last_folder(path.parent)
        self.context.show_status(f"Saved {path.name}")
        return True


def _progress_message(progress: Progress) -> dict[str, Any]:
    """Worker thread: plain data for the GUI (the preview converted to an array here, off the GUI thread)."""
    preview = np.asarray(progress.preview.convert("RGB")) if progress.preview is not None else None
    return {"step": progress.step, "total": progress.total, "preview": preview}
