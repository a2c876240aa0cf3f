"""Settings from an image: File ▸ Open Settings from Image…, and a PNG dropped on the Generate panel.

The reading and mapping are `studio.app.png_settings`; the fields change as one undo step on the document's
history (`studio.app.generation_state.apply_settings`). A file that cannot be read, or carries no settings,
gives a message in the panel and changes nothing.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Callable

from PySide6.QtCore import QObject
from PySide6.QtWidgets import QFileDialog

from studio.app.generation_state import GenerationState, apply_settings
from studio.app.loras import lora_folder
from studio.app.png_settings import SettingsFromImage, settings_from_png
from studio.engine.settings import ModelSettings
from studio.errors import StudioError
from ui.common.commands import Command

if TYPE_CHECKING:
    from ui.common.context import AppContext
    from ui.generate.panel import GeneratePanel

UNDO_LABEL = "Settings from image"


class PngSettingsImport(QObject):
    """`model_settings()` gives the current model settings (the configured models and the LoRA folder)."""

    def __init__(self, context: "AppContext", *, panel: "GeneratePanel", state: GenerationState,
                 model_settings: Callable[[], ModelSettings]) -> None:
        super().__init__(context)
        self.context = context
        self.panel = panel
        self.state = state
        self.model_settings = model_settings
        panel.file_dropped.connect(self.open_path)

    def commands(self) -> list[Command]:
        return [Command("settings_from_image", "File", "Open Settings from &Image…", self.open_dialog,
                        tip="Fill the Generate panel from a PNG made by the studio, A1111, ComfyUI, InvokeAI, "
                            "Fooocus or NovelAI", separator=True)]

    def open_dialog(self) -> None:
        start = str(self.context.app_settings.last_folder())
        name, _ = QFileDialog.getOpenFileName(self.context.widget, "Open settings from image", start,
                                              "PNG images (*.png);;All files (*)")
        if name:
            self.context.app_settings.set_last_folder(Path(name).parent)
            self.open_path(Path(name))

    def open_path(self, path: Path) -> SettingsFromImage | None:
        """Fill the fields from the image at `path` as one undo step; None (with a message) when it cannot."""
        models = self.model_settings()
        try:
            read = settings_from_png(path, self.state.value, lora_dir=lora_folder(models),
                                     models={name: entry.base for name, entry in models.models.items()})
        except StudioError as exc:
            self.panel.message_bar.show_error(str(exc))
            return None
        history = self.context.document.history if self.context.document is not None else None
        changed = apply_settings(self.state, read.settings, history=history, label=UNDO_LABEL)
        made = "the studio" if read.source == "studio" else read.source
        what = f"the settings of {Path(path).name} (made by {made})"
        text = f"The fields now hold {what}." if changed else f"The fields already hold {what}."
        self.panel.message_bar.show_info(" ".join([text, *read.notes]))
        self.context.raise_panel("generate")
        return read
