"""The window's scorer: the scorer folder chosen in the settings, keep probabilities for gallery entries (to sort
by and to show on each thumbnail), the log of each prediction and the History panel's agreement line. Qt-free;
the slow parts (`choose`, `predict`) are plain calls the window runs on its job thread, the rest is cheap.

The feature is off while no folder is chosen or while the folder or its CLIP encoder cannot be loaded; then
`message` says why in one sentence and `predict` gives nothing.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Iterable

from studio.app.gallery import GalleryEntry
from studio.app.observable import Event
from studio.scorer.errors import ScorerError
from studio.scorer.predictions import PredictionLog, agreement, predictions_for

OFF = "No scorer is chosen: train one with `studio scorer train` and choose its folder in the settings."


class ScorerModel:
    """Events: `changed()` (a scorer was chosen or turned off), `predicted(dict[entry_id, probability])`."""

    def __init__(self) -> None:
        self.scorer = None
        self.folder: Path | None = None
        self.message = OFF
        self.probabilities: dict[int, float] = {}
        self._logged: set[tuple[str, str, int, int]] = set()
        self.changed = Event("scorer.changed")
        self.predicted = Event("scorer.predicted")

    @property
    def available(self) -> bool:
        return self.scorer is not None

    def choose(self, folder: str | os.PathLike | None) -> bool:
        """Load the scorer folder and its encoder (slow: run it off the GUI thread); False and `message` if off."""
        self.scorer, self.probabilities = None, {}
        self.folder = Path(folder) if folder else None
        if self.folder is None:
            self.message = OFF
        else:
            from studio.scorer.model import Scorer

            try:
                scorer = Scorer.load(self.folder)
                scorer.encoder  # noqa: B018  the encoder is loaded now, so a missing one turns the feature off
            except ScorerError as exc:  # EncoderMissingError too: "the scorer stays off until ..."
                self.message = str(exc)
            else:
                self.scorer, self.message = scorer, f"Scorer {scorer.id} from {self.folder}."
                self._logged = {(p.scorer, p.document, p.generation, p.result) for p in PredictionLog(self.folder).read()}
        self.changed.emit()
        return self.available

    def predict(self, entries: Iterable[GalleryEntry], document: str | os.PathLike | None) -> dict[int, float]:
        """Keep probability per entry id (slow: off the GUI thread). Entries logged in the history (with a
        history id) get their first prediction by this scorer written to the scorer's prediction log."""
        entries = [e for e in entries if e.entry_id not in self.probabilities]
        if self.scorer is None or not entries:
            return {}
        found = self.scorer.keep_probability([e.image for e in entries], [e.request.prompt for e in entries])
        result = {e.entry_id: float(p) for e, p in zip(entries, found)}
        self.probabilities.update(result)
        if document is not None:
            name = Path(document).name
            fresh = [(e, result[e.entry_id]) for e in entries if e.history_id is not None
                     and (self.scorer.id, name, e.history_id, e.index_in_batch) not in self._logged]
            PredictionLog(self.folder).record(predictions_for(
                self.scorer.id, document, [(e.history_id, e.index_in_batch, "") for e, _ in fresh],
                [p for _, p in fresh]))
            self._logged |= {(self.scorer.id, name, e.history_id, e.index_in_batch) for e, _ in fresh}
        return result

    def apply(self, result: dict[int, float]) -> None:
        """On the GUI thread, with what `predict` gave: tell the views."""
        self.probabilities.update(result)
        self.predicted.emit(dict(result))

    def badge(self, entry: GalleryEntry) -> str:
        """The thumbnail's label: 'keep 83%', or '' with no prediction."""
        p = self.probabilities.get(entry.entry_id)
        return "" if p is None else f"keep {round(100 * p)}%"

    def ordered(self, entries: Iterable[GalleryEntry]) -> list[GalleryEntry]:
        """Most likely kept first; entries without a prediction last, in their order."""
        entries = list(entries)
        return sorted(entries, key=lambda e: -self.probabilities.get(e.entry_id, -1.0))

    def agreement_line(self, document: str | os.PathLike | None, *, last: int = 20) -> str:
        """'scorer agreed with N of your last M choices' (slow: reads the history), or why there is none."""
        if self.scorer is None or document is None:
            return self.message if self.scorer is None else ""
        found = agreement(document, PredictionLog(self.folder), last=last, scorer=self.scorer.id)
        return str(found) if found.choices else "The scorer has not predicted any of your choices yet."
