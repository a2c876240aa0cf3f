"""History ▸ Train from accepted results…, without Qt: what the dialog asks (`TrainRequest`), where the model goes
so the window lists it, the training set made from the open document's history, the run in its own process
(`studio.train.process`), and the result added to the model settings.

Where things go (`paths.data_dir/training/NAME/`: `set/` the export it learned from, `work/` checkpoints and
validation images):
- a LoRA is written into the LoRA folder the Generate panel lists (the settings' `lora_dir`; without one a
  diffusers base folder's own `loras/`, as the engine looks up prompt tags; without either, a new
  `data_dir/loras/` that becomes the settings' `lora_dir`);
- a ControlNet into `data_dir/controlnets/NAME/`, and a new model entry "ACTIVE + NAME" joins the model list:
  the active base model and its ControlNets, with the trained one for its kind. Nothing already set up changes.

A LoRA learns from every accepted result with any control map (the three kinds' exports merged, a result
once); a ControlNet from the results with a map of its kind.
"""

from __future__ import annotations

import re
import shutil
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

from studio.app.loras import lora_folder
from studio.app.paths import AppPaths
from studio.engine.settings import ModelEntry, ModelSettings
from studio.train.errors import TrainError
from studio.train.options import TrainOptions
from studio.train.run import CONTROL_KINDS, TrainJob

TASKS = ("lora", "controlnet")
NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9 ._-]{0,79}")


@dataclass(frozen=True)
class TrainRequest:
    """The dialog's choices."""

    task: str = "lora"
    kind: str = "edge"  # ControlNet: its control kind
    name: str = "my-style"
    steps: int = 500
    rank: int = 8
    lr: float = 1e-4
    resolution: int = 512
    batch: int = 1
    text_encoder: bool = False
    validate_every: int = 100
    validation_steps: int = 20
    checkpoint_every: int = 250
    device: str = "auto"

    def check(self) -> None:
        if self.task not in TASKS:
            raise TrainError(f"Unknown kind of model {self.task!r}.")
        if self.task == "controlnet" and self.kind not in CONTROL_KINDS:
            raise TrainError(f"The ControlNet kind must be one of {', '.join(CONTROL_KINDS)}.")
        if not NAME.fullmatch(self.name.strip()):
            raise TrainError("The name must start with a letter or digit and use only letters, digits, spaces, "
                             "dots, dashes and underscores (at most 80).")
        self.options().validate()

    def options(self) -> TrainOptions:
        return TrainOptions(steps=self.steps, lr=self.lr, resolution=self.resolution, batch=self.batch,
                            rank=self.rank, text_encoder=self.text_encoder, validate_every=self.validate_every,
                            validation_steps=self.validation_steps, checkpoint_every=self.checkpoint_every,
                            device=self.device)


def default_request(task: str, *, document: Path | None = None, kind: str = "edge") -> TrainRequest:
    stem = re.sub(r"[^A-Za-z0-9._-]+", "-", document.stem).strip("-.") if document is not None else ""
    stem = stem or "history"
    if task == "lora":
        return TrainRequest(task="lora", name=f"{stem}-style", steps=500, lr=1e-4)
    return TrainRequest(task="controlnet", kind=kind, name=f"{stem}-{kind}", steps=1000, lr=1e-5)


def _active(models: ModelSettings) -> ModelEntry:
    from studio.engine.errors import SettingsError

    try:
        return models.active_entry()
    except SettingsError as exc:
        raise TrainError(f"{exc} Training starts from the active base model.") from exc


def _free(path: Path, suffix: str = "") -> Path:
    """`path` + `suffix`, or with -2, -3, ... before the suffix when taken."""
    candidate, number = path.with_name(path.name + suffix), 2
    while candidate.exists():
        candidate = path.with_name(f"{path.name}-{number}{suffix}")
        number += 1
    return candidate


@dataclass(frozen=True)
class TrainPlan:
    """Everything one run needs, decided before anything is exported or started."""

    request: TrainRequest
    document: Path
    base: str
    out: Path
    folder: Path  # data_dir/training/NAME
    lora_dir_to_set: Path | None  # a new LoRA folder for the settings (none was set up)
    allow_pickle: bool

    @property
    def data(self) -> Path:
        return self.folder / "set"

    @property
    def work(self) -> Path:
        return self.folder / "work"

    def job(self) -> TrainJob:
        request = self.request
        return TrainJob(task=request.task, data=self.data, model=self.base, out=self.out,
                        options=request.options(), kind=request.kind if request.task == "controlnet" else None,
                        work=self.work, document=self.document, allow_pickle=self.allow_pickle)


def plan(request: TrainRequest, *, document: Path, models: ModelSettings, paths: AppPaths) -> TrainPlan:
    request.check()
    entry = _active(models)
    name = request.name.strip()
    lora_dir_to_set = None
    if request.task == "lora":
        folder = lora_folder(models)
        if folder is None:
            folder = lora_dir_to_set = paths.data_dir / "loras"
        out = _free(folder / name, ".safetensors")
        name = out.name.removesuffix(".safetensors")
    else:
        out = _free(paths.data_dir / "controlnets" / name)
        name = out.name
    return TrainPlan(request=request, document=Path(document), base=entry.base, out=out,
                     folder=_free(paths.data_dir / "training" / name), lora_dir_to_set=lora_dir_to_set,
                     allow_pickle=models.allow_pickle)


def export_training_set(plan: TrainPlan) -> int:
    """Write the document's accepted results as the run's training set (`plan.data`); returns the rows written."""
    from studio.history.presets import export_preset

    kinds = CONTROL_KINDS if plan.request.task == "lora" else (plan.request.kind,)
    plan.folder.mkdir(parents=True, exist_ok=True)
    (plan.data / "data").mkdir(parents=True, exist_ok=True)
    rows = 0
    for kind in kinds:
        part = plan.folder / f".export-{kind}"
        shutil.rmtree(part, ignore_errors=True)
        summary = export_preset([plan.document], part, format="controlnet", kind=kind)
        rows += summary.rows
        for file in sorted((part / "data").glob("*.parquet")):
            file.replace(plan.data / "data" / f"{kind}-{file.name}")
        shutil.rmtree(part, ignore_errors=True)
    if rows == 0:
        what = "with a control map" if plan.request.task == "lora" else f"with a {plan.request.kind} map"
        raise TrainError(f"{plan.document.name} has no accepted results {what} yet: accept (or rate) some "
                         "results in the gallery first.")
    return rows


def register_result(plan: TrainPlan, settings_file: Path) -> str:
    """Add the trained model to the model settings (see the module docstring); returns what to tell."""
    models = ModelSettings.load(settings_file)
    if plan.request.task == "lora":
        if plan.lora_dir_to_set is not None and not models.lora_dir:
            models.lora_dir = str(plan.lora_dir_to_set)
            models.save(settings_file)
        return f"Trained the LoRA {plan.out.stem}; it is in the LoRA list ({plan.out.parent})."
    entry = _active(models)
    name = _unique_model_name(models, f"{models.active or 'model'} + {plan.out.name}")
    models.models[name] = ModelEntry(base=entry.base, controlnets={**entry.controlnets,
                                                                    plan.request.kind: str(plan.out)},
                                     config=entry.config)
    models.save(settings_file)
    return (f"Trained the {plan.request.kind} ControlNet {plan.out.name}; choose the model {name!r} to use it "
            "(your other models are unchanged).")


def _unique_model_name(models: ModelSettings, name: str) -> str:
    candidate, number = name, 2
    while candidate in models.models:
        candidate = f"{name} ({number})"
        number += 1
    return candidate


@dataclass(frozen=True)
class TrainOutcome:
    status: str  # ok | cancelled
    message: str
    out: Path | None
    plan: TrainPlan


def run_plan(plan: TrainPlan, *, settings_file: Path, report: Callable[[dict[str, Any]], None],
             cancel: threading.Event, python: str | None = None, env: dict[str, str] | None = None,
             poll_s: float = 0.1) -> TrainOutcome:
    """A worker thread's job: export, train in a child process (progress to `report` as {"step", "total",
    "loss"}), add the result to the settings. `cancel` set: the child stops and keeps a checkpoint."""
    import sys

    from studio.train.process import Finished, Progress, TrainProcess

    report({"phase": "export"})
    rows = export_training_set(plan)
    report({"phase": "train", "rows": rows})
    plan.out.parent.mkdir(parents=True, exist_ok=True)
    process = TrainProcess(plan.job(), python=python or sys.executable, env=env)
    process.start()
    cancelled = False
    while True:
        if cancel.is_set() and not cancelled:
            process.cancel()
            cancelled = True
        event = process.next_event(poll_s)
        if isinstance(event, Progress):
            report({"step": event.step, "total": event.total, "loss": event.loss})
        elif isinstance(event, Finished):
            break
    if event.status == "failed":
        raise TrainError(event.error or "Training failed.")
    if event.status == "cancelled":
        return TrainOutcome("cancelled", f"Training stopped; its checkpoints are kept in {plan.work}.", None, plan)
    return TrainOutcome("ok", register_result(plan, settings_file), plan.out, plan)
