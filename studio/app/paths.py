"""Where the window finds the model settings file and keeps its own data (demo models)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from studio.engine.settings import settings_path


@dataclass(frozen=True)
class AppPaths:
    """model_settings: the engine's models.json; data_dir: the user's data folder (demo models, autosaves)."""

    model_settings: Path
    data_dir: Path

    @classmethod
    def default(cls) -> AppPaths:
        import platformdirs

        return cls(
            model_settings=settings_path(),
            data_dir=Path(platformdirs.user_data_dir("controlnet-studio", appauthor=False)),
        )

    @property
    def demo_models(self) -> Path:
        return self.data_dir / "demo-models"

    @property
    def autosave_dir(self) -> Path:
        """Where untitled documents log their history until they are saved under a name."""
        return self.data_dir / "autosave"
