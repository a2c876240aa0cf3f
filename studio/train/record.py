"""Logging a training run into a document's history as a `training` event (studio.history.events)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from studio.history import events as ev
from studio.history.store import HistoryStore
from studio.history.writer import Appended

if TYPE_CHECKING:
    from studio.train.loop import TrainReport
    from studio.train.run import TrainJob


def training_event_for(job: TrainJob, *, data: dict[str, Any], base_model: dict[str, Any],
                       report: TrainReport | None, error: str | None = None, seconds: float = 0.0) -> ev.NewEvent:
    """The event of a finished (`report`) or failed (`error`) run."""
    from PIL import Image

    thumbnail = None
    if report is not None and report.validation:
        try:
            with Image.open(report.validation[-1]) as image:
                thumbnail = np.asarray(image.convert("RGB"))
        except OSError:
            thumbnail = None
    written = report is not None and report.status == "ok" and job.out.exists()
    return ev.training_event(
        task=job.task, status="failed" if report is None else report.status, error=error,
        data={**data, "kind": job.kind}, base_model=base_model, settings=_settings(job, report),
        losses=report.thinned_losses() if report else [], steps=report.steps if report else 0,
        eval_loss={"start": report.eval_loss_start if report else None,
                   "end": report.eval_loss_end if report else None},
        output=str(job.out.resolve()) if written else None,
        validation=[str(p) for p in report.validation] if report else [],
        seconds=report.seconds if report else seconds, thumbnail=thumbnail,
    )


def _settings(job: TrainJob, report: TrainReport | None) -> dict[str, Any]:
    """The job's settings, and where it ran (device, processes, mixed precision) when it ran."""
    settings = job.settings()
    if report is not None:
        settings["ran_on"] = {"device": report.device, "processes": report.processes,
                              "mixed_precision": report.mixed_precision}
    return settings


def log_run(job: TrainJob, **details: Any) -> Appended:
    """Append the run to `job.document` and wait until it is saved."""
    with HistoryStore.open(job.document) as store:
        return store.append(training_event_for(job, **details)).result()
