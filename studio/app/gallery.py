"""The gallery of a document: its results (one generated image with the request and model that made it), as an
observable list.

Views listen to `added`, `changed` and `reset`; only the GUI thread changes a `Gallery`. The results are not
written anywhere by the gallery itself: every generation is logged in the document's history with its images
(`studio.history`), and `studio.app.gallery_store.load_gallery` rebuilds the gallery from there when the document
is opened again. A result is shown as soon as it exists; its history id arrives when the log is written
(`attach_history_id`), and a rating given before that is then reported again (`history_attached`).
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field

import numpy as np

from studio.app.observable import Event
from studio.engine.request import GenerationRequest

_ids = itertools.count(1)
RATINGS = ("starred", "rejected")


@dataclass(eq=False)
class GalleryEntry:
    """One result. `request.seed` is the seed that made this image (never None); `model` is the name in the model
    settings, `models` the identities of the files used (for PNG metadata)."""

    image: np.ndarray
    request: GenerationRequest
    model: str | None
    models: list[dict] = field(default_factory=list)
    index_in_batch: int = 0
    rating: str | None = None
    timings: dict[str, float] = field(default_factory=dict)
    history_id: int | None = None  # the generation's event id in the document history (for feedback)
    entry_id: int = field(default_factory=lambda: next(_ids))

    def describe(self) -> str:
        """Readable parameters, one per line."""
        request = self.request
        lines = [
            f"Model: {self.model or '–'}",
            f"Prompt: {request.prompt or '–'}",
            f"Negative: {request.negative_prompt or '–'}",
            f"Size: {request.width} × {request.height}",
            f"Steps: {request.steps}   Guidance: {request.guidance_scale:g}",
            f"Scheduler: {request.scheduler}",
            f"Seed: {request.seed}" + (f" (image {self.index_in_batch + 1} of batch)" if self.index_in_batch else ""),
        ]
        for control in request.controls:
            lines.append(
                f"Control {control.kind}: weight {control.weight:g}, steps {control.start:g}–{control.end:g}, "
                f"{control.mode}"
            )
        seconds = self.seconds
        if seconds is not None:
            lines.append(f"Time: {seconds:.1f} s")
        return "\n".join(lines)

    @property
    def seconds(self) -> float | None:
        """The wall-clock time of the run that made this image: the engine's "total" (load, prepare and run are
        parts of it, not more time); the sum of the parts only for a record that has no total. None: unknown."""
        if "total" in self.timings:
            return float(self.timings["total"])
        return float(sum(self.timings.values())) if self.timings else None


class Gallery:
    """The results of the current document, oldest first.

    Events: `added(list[GalleryEntry])`, `changed(GalleryEntry)` (rating or history id), `rated(GalleryEntry)`
    (the designer starred, rejected or cleared it), `history_attached(list[GalleryEntry])`, and
    `reset(list[GalleryEntry])` (everything replaced: another document).
    """

    def __init__(self, entries: list[GalleryEntry] | None = None) -> None:
        self.entries: list[GalleryEntry] = list(entries or [])
        self.added = Event("added")
        self.changed = Event("changed")
        self.rated = Event("rated")
        self.history_attached = Event("history_attached")
        self.reset = Event("reset")

    def __len__(self) -> int:
        return len(self.entries)

    def __iter__(self):
        return iter(self.entries)

    def add(self, entries: list[GalleryEntry]) -> None:
        entries = list(entries)
        if entries:
            self.entries.extend(entries)
            self.added.emit(entries)

    def replace(self, entries: list[GalleryEntry]) -> None:
        """Show `entries` instead of everything (a document was opened; an empty list for a new one)."""
        self.entries = list(entries)
        self.reset.emit(list(self.entries))

    def find(self, entry_id: int) -> GalleryEntry | None:
        return next((entry for entry in self.entries if entry.entry_id == entry_id), None)

    def set_rating(self, entry: GalleryEntry, rating: str | None) -> None:
        """Star, reject or clear (None) an entry's rating; the same rating twice clears it."""
        if rating is not None and rating not in RATINGS:
            raise ValueError(f"Unknown rating {rating!r}; choose one of: {', '.join(RATINGS)}.")
        entry.rating = None if entry.rating == rating else rating
        self.changed.emit(entry)
        self.rated.emit(entry)

    def attach_history_id(self, entries: list[GalleryEntry], history_id: int | None) -> None:
        """The generation of `entries` is now in the history as event `history_id` (None: it could not be
        logged; the entries stay, without feedback logging)."""
        if history_id is None:
            return
        for entry in entries:
            entry.history_id = history_id
            self.changed.emit(entry)
        self.history_attached.emit(list(entries))
