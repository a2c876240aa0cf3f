"""One training run from start to end: check the settings and the output, read the data, load the base model,
train (loop.py), and log the run into the document's history (a `training` event: data hash, settings, losses,
output path), also when it was cancelled or failed, so every model can be traced back to the feedback it
learned from. Only the main process logs.
"""

from __future__ import annotations

import time
import traceback
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

from studio.train.errors import TrainError
from studio.train.loop import ProgressCallback, TrainReport, run_training
from studio.train.options import TrainOptions, check_output, default_work_dir

CONTROL_KINDS = ("edge", "pose", "depth")


@dataclass(frozen=True)
class TrainJob:
    task: str  # "lora" | "controlnet"
    data: Path
    model: str
    out: Path
    options: TrainOptions
    kind: str | None = None  # ControlNet: the control kind
    start_from: str | None = None  # ControlNet: --from
    work: Path | None = None
    resume: bool = False
    document: Path | None = None
    allow_pickle: bool = False

    @property
    def work_dir(self) -> Path:
        return self.work if self.work is not None else default_work_dir(self.out)

    def settings(self) -> dict[str, Any]:
        settings = {**self.options.to_dict(), "model": self.model, "work": str(self.work_dir),
                    "resume": self.resume}
        if self.task == "controlnet":
            settings.update(kind=self.kind, start_from=self.start_from)
        else:
            settings = {k: v for k, v in settings.items() if k not in ("prompt_dropout", "control_dropout")}
        return settings


def check_job(job: TrainJob) -> None:
    """Everything that can be checked before loading anything."""
    if job.task not in ("lora", "controlnet"):
        raise TrainError(f"Unknown training task {job.task!r}.")
    job.options.validate()
    if job.task == "controlnet" and job.kind not in CONTROL_KINDS:
        raise TrainError(f"--kind must be one of {', '.join(CONTROL_KINDS)}, got {job.kind!r}.")
    check_output(job.out, folder=job.task == "controlnet")
    if job.document is not None and not job.document.is_file():
        raise TrainError(f"The document {job.document} does not exist; --document names the .studio file whose "
                         "history the run is logged in.")


def train(job: TrainJob, *, on_progress: ProgressCallback | None = None,
          should_stop: Callable[[], bool] | None = None, show_bar: bool = True) -> TrainReport:
    """Run `job`; returns its report (status ok or cancelled). Failures after the data was read are logged in
    the document before the error is raised."""
    from studio.train.base import load_base_model
    from studio.train.data import load_training_set

    check_job(job)
    data = load_training_set(job.data, need_conditioning=job.task == "controlnet", held_out=job.options.held_out)
    started = time.perf_counter()
    base_identity: dict[str, Any] = {"source": job.model}
    try:
        base = load_base_model(job.model, allow_pickle=job.allow_pickle)
        base_identity = base.identity
        if job.task == "lora":
            from studio.train.lora import LoraTask

            task: Any = LoraTask(base, job.options)
        else:
            from studio.train.controlnet import ControlNetTask, load_start

            start = load_start(base, job.kind, job.start_from, allow_pickle=job.allow_pickle)
            task = ControlNetTask(base, job.options, start, job.kind)
        job.work_dir.mkdir(parents=True, exist_ok=True)
        report = run_training(task, data, job.options, work=job.work_dir, out=job.out, resume=job.resume,
                              on_progress=on_progress, should_stop=should_stop, show_bar=show_bar)
    except BaseException as exc:
        error = _as_train_error(exc)
        if job.document is not None and _is_main_process():
            from studio.train.record import log_run

            message = str(error) if isinstance(error, TrainError) else f"{type(error).__name__}: {error}"
            log_run(job, data=data.describe(), base_model=base_identity, report=None, error=message or
                    traceback.format_exc(limit=1), seconds=time.perf_counter() - started)
        if error is exc:
            raise
        raise error from exc
    if job.document is not None and _is_main_process():
        from studio.errors import StudioError
        from studio.train.record import log_run

        try:
            log_run(job, data=data.describe(), base_model=base_identity, report=report)
        except StudioError as exc:
            kept = f"the model was written to {job.out}" if report.status == "ok" else "the checkpoints are kept"
            raise TrainError(f"Training ended ({report.status}; {kept}), but it could not be logged in "
                             f"{job.document}: {exc}") from exc
    return report


def _as_train_error(exc: BaseException) -> BaseException:
    """Running out of memory outside the loop (moving the model to the GPU, building the optimizer) as a
    sentence; everything else as it is."""
    import torch

    if isinstance(exc, torch.OutOfMemoryError):
        return TrainError("Out of GPU memory while setting up the run; try a smaller --resolution or --batch, "
                          "mixed precision (--precision auto), or --device cpu.")
    return exc


def _is_main_process() -> bool:
    import os

    return os.environ.get("RANK", "0") == "0"
