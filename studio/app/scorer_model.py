"""The window's scorer: the scorer folder chosen in the settings, keep probabilities for gallery entries (to sort
by and to show on each thumbnail), the log of each prediction and the History panel's agreement line. Qt-free.

The slow parts are plain functions the window runs on its job thread and that touch no state the views read:
`load_scorer` (the folder and its CLIP encoder), `predict` (embeds the new entries and logs the predictions).
What they give is applied on the GUI thread (`use`, `apply`), which emits the events the views follow.
`choose` is `use(load_scorer(folder))` for callers without threads (tests, scripts).

The feature is off while no folder is chosen or while the folder or its CLIP encoder cannot be loaded; then
`message` says why in one sentence and `predict` gives nothing.

Each prediction is logged once per (scorer, result) in the scorer folder's `predictions.jsonl`
(`studio.scorer.predictions`), named by the result's sha256 when the history gives it (so it stays that image's
prediction through Save As, export and import) and by (document name, generation, result index) as well.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable, Mapping

from studio.app.gallery import GalleryEntry
from studio.app.observable import Event
from studio.scorer.errors import ScorerError
from studio.scorer.predictions import PredictionLog, agreement, predictions_for

OFF = ("No scorer is chosen: train one with `studio scorer train` and choose its folder in Generate ▸ Models and "
       "Demo Mode… (Taste scorer).")
NO_CHOICES = "The scorer has not predicted any of your choices yet."


@dataclass(frozen=True)
class LoadedScorer:
    """What `load_scorer` found: the scorer (None when off), its folder, the message and what it logged before."""

    folder: Path | None
    scorer: object | None
    message: str
    logged: frozenset = frozenset()


def load_scorer(folder: str | os.PathLike | None) -> LoadedScorer:
    """Load the scorer folder and its encoder (slow: off the GUI thread). Never raises for a bad folder: the
    result is then off, with the reason in `message`."""
    if not folder:
        return LoadedScorer(None, None, OFF)
    folder = Path(folder)
    from studio.scorer.model import Scorer

    try:
        scorer = Scorer.load(folder)
        scorer.encoder  # noqa: B018  the encoder is loaded now, so a missing one turns the feature off
    except ScorerError as exc:  # EncoderMissingError too: "the scorer stays off until ..."
        return LoadedScorer(folder, None, str(exc))
    except OSError as exc:  # an unreadable folder or file the scorer code did not wrap
        return LoadedScorer(folder, None, f"The scorer in {folder} cannot be read ({exc}); the scorer stays off.")
    logged = frozenset((p.scorer, p.document, p.generation, p.result) for p in PredictionLog(folder).read())
    return LoadedScorer(folder, scorer, f"Scorer {scorer.id} from {folder}.", logged)


def result_hashes(store, entries: Iterable[GalleryEntry]) -> dict[int, str]:
    """sha256 of each logged entry's image, by entry id, read from the history `store` (its thread)."""
    found: dict[int, str] = {}
    results: dict[int, list[str]] = {}
    for entry in entries:
        if entry.history_id is None:
            continue
        if entry.history_id not in results:
            try:
                results[entry.history_id] = list(store.generation(entry.history_id).results)
            except Exception:  # noqa: BLE001  not in this history (another document's entry): no hash
                results[entry.history_id] = []
        hashes = results[entry.history_id]
        if entry.index_in_batch < len(hashes):
            found[entry.entry_id] = hashes[entry.index_in_batch]
    return found


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

    def use(self, loaded: LoadedScorer) -> bool:
        """On the GUI thread, with what `load_scorer` gave: switch to it (earlier probabilities are dropped)."""
        self.scorer, self.folder, self.message = loaded.scorer, loaded.folder, loaded.message
        self.probabilities = {}
        self._logged = set(loaded.logged)
        self.changed.emit()
        return self.available

    def choose(self, folder: str | os.PathLike | None) -> bool:
        """Load and use a scorer folder in one call (slow); False, with `message`, when the feature is off."""
        return self.use(load_scorer(folder))

    def predict(self, entries: Iterable[GalleryEntry], document: str | os.PathLike | None,
                hashes: Mapping[int, str] | None = None, *, limit: int | None = None) -> dict[int, float]:
        """Keep probability per entry id for entries without one yet (slow: off the GUI thread; it changes no
        state the views read). Entries logged in the history (with a history id) get their first prediction
        by this scorer written to the scorer's log, also entries predicted earlier that were logged since.
        `hashes`: the entries' image sha256 by entry id (`result_hashes`), to name the images in the log; when
        given, only entries in it are logged (an entry whose history id arrived after the hashes were read is
        logged by the next call, with its hash). `limit`: embed at most this many new entries (the first ones),
        so that a long gallery is scored in short jobs between the designer's generations."""
        scorer, folder, entries, known = self.scorer, self.folder, list(entries), dict(self.probabilities)
        if scorer is None or not entries:
            return {}
        new = [e for e in entries if e.entry_id not in known][:limit]
        found = scorer.keep_probability([e.image for e in new], [e.request.prompt for e in new]) if new else []
        result = {e.entry_id: float(p) for e, p in zip(new, found)}
        if document is not None:
            self._log(scorer, folder, entries, {**known, **result}, Path(document).name, hashes)
        return result

    def _log(self, scorer, folder: Path, entries: list[GalleryEntry], probabilities: dict[int, float], name: str,
             hashes: Mapping[int, str] | None) -> None:
        fresh = [e for e in entries if e.history_id is not None and e.entry_id in probabilities
                 and (hashes is None or e.entry_id in hashes)
                 and (scorer.id, name, e.history_id, e.index_in_batch) not in self._logged]
        hashes = hashes or {}
        if not fresh:
            return
        PredictionLog(folder).record(predictions_for(
            scorer.id, name, [(e.history_id, e.index_in_batch, hashes.get(e.entry_id, "")) for e in fresh],
            [probabilities[e.entry_id] for e in fresh]))
        self._logged |= {(scorer.id, name, e.history_id, e.index_in_batch) for e in fresh}

    def apply(self, result: dict[int, float]) -> None:
        """On the GUI thread, with what `predict` gave: tell the views."""
        self.probabilities.update(result)
        self.predicted.emit(dict(result))

    def unpredicted(self, entries: Iterable[GalleryEntry]) -> list[GalleryEntry]:
        return [e for e in entries if e.entry_id not in self.probabilities]

    def probability(self, entry: GalleryEntry) -> float | None:
        return self.probabilities.get(entry.entry_id)

    def badge(self, entry: GalleryEntry) -> str:
        """The thumbnail's label: 'keep 83%', or '' with no prediction."""
        p = self.probabilities.get(entry.entry_id)
        return "" if p is None else f"keep {round(100 * p)}%"

    def ordered(self, entries: Iterable[GalleryEntry]) -> list[GalleryEntry]:
        """Most likely kept first; entries without a prediction last, in their order."""
        entries = list(entries)
        return sorted(entries, key=lambda e: -self.probabilities.get(e.entry_id, -1.0))

    def agreement_line(self, document, *, last: int = 20) -> str:
        """'scorer agreed with N of your last M choices' (slow: reads the history; `document` is a path or an
        open `HistoryStore`), or why there is none."""
        if self.scorer is None or document is None:
            return self.message if self.scorer is None else ""
        found = agreement(document, PredictionLog(self.folder), last=last, scorer=self.scorer.id)
        return str(found) if found.choices else NO_CHOICES
