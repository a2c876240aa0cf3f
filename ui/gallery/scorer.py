"""Connects the `ScorerModel` (studio.app.scorer_model) to the window: the scorer folder of the settings is loaded
at start and whenever it is changed, the Gallery's results get keep probabilities (badges, "By scorer" order),
each prediction is logged, and the History panel shows how often the scorer agreed with the designer.

Threads: loading the scorer and predicting run on the job thread (`context.runner`, in order with generations);
reading result hashes and the agreement line run on the history thread (`HistorySession.submit`); the model's
events fire on the GUI thread only. A result of a scorer that was replaced meanwhile is dropped.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QObject, Signal

from studio.app.gallery import GalleryEntry
from studio.app.scorer_model import LoadedScorer, ScorerModel, load_scorer, result_hashes
from ui.common.context import AppContext
from ui.gallery.panel import GalleryPanel
from ui.history.panel import HistoryPanel
from ui.history.session import HistorySession


CHUNK = 16  # results embedded per job: a long gallery is scored between generations, not before them


class ScorerController(QObject):
    """Owns the window's `ScorerModel`. `state_changed(available, message)` after every load."""

    state_changed = Signal(bool, str)

    def __init__(self, context: AppContext, *, history: HistorySession, gallery_panel: GalleryPanel,
                 history_panel: HistoryPanel, model: ScorerModel | None = None) -> None:
        super().__init__(context)
        self.context = context
        self.history = history
        self.gallery_panel = gallery_panel
        self.history_panel = history_panel
        self.model = model if model is not None else ScorerModel()
        self.loading: Path | None = None
        self._load_job = None
        self._busy = False  # a prediction is on its way: further requests wait for it and then run once
        self._again = False
        self.model.changed.connect(self._model_changed)
        self.model.predicted.connect(self._predicted)
        context.gallery.added.connect(self.predict)
        context.gallery.reset.connect(self.predict)
        context.gallery.history_attached.connect(self.predict)  # logs the predictions made before the id came
        gallery_panel.order_changed.connect(self._order_changed)
        history_panel.loaded.connect(self.refresh_agreement)
        history.active_changed.connect(lambda _log: self.refresh_agreement())

    def start(self) -> None:
        """Load the scorer folder kept in the settings (nothing to load: the feature is off, with the reason)."""
        self.choose(self.context.app_settings.scorer_folder(), remember=False)

    # Choosing ------------------------------------------------------------------------------------
    def choose(self, folder: str | Path | None, *, remember: bool = True):
        """Use the scorer in `folder` (None or "": turn it off); kept in the settings when `remember`."""
        folder = Path(folder) if folder else None
        if remember:
            self.context.app_settings.set_scorer_folder(folder)
        if folder is None:
            self.loading = None
            self.model.use(load_scorer(None))
            return None
        self.loading = folder
        self._load_job = self.context.runner.submit(
            lambda _report, _cancel: load_scorer(folder),
            on_finished=lambda loaded: self._loaded(folder, loaded),
            on_failed=lambda error: self._loaded(folder, LoadedScorer(
                folder, None, f"The scorer in {folder} could not be loaded ({error}); the scorer stays off.")))
        return self._load_job

    def _loaded(self, folder: Path, loaded: LoadedScorer) -> None:
        if self.loading != folder:  # another folder was chosen meanwhile
            return
        self.loading = None
        self.model.use(loaded)

    def _model_changed(self) -> None:
        model = self.model
        self.gallery_panel.set_scorer_state(model.available, model.message)
        self.gallery_panel.show_badges({}, replace=True)
        self.state_changed.emit(model.available, model.message)
        self.predict()
        self.refresh_agreement()

    # Predicting ----------------------------------------------------------------------------------
    def predict(self, _entries: list[GalleryEntry] | None = None) -> None:
        """Predict the gallery's results that have no probability yet and log them (hashes first, from the
        history thread; then the scorer on the job thread)."""
        model = self.model
        if not model.available or self.history.closed:
            return
        if self._busy:
            self._again = True
            return
        scorer, entries = model.scorer, list(reversed(self.context.gallery.entries))  # the newest first
        if not entries:
            return
        self._busy, self._again = True, False

        def read():  # history thread
            store = self.history.store
            return Path(store.path), result_hashes(store, entries)

        self.history.submit(read, done=lambda found: self._predict(scorer, entries, *found),
                            failed=lambda _error: self._predict(scorer, entries, None, {}))

    def _predict(self, scorer, entries: list[GalleryEntry], document: Path | None, hashes: dict[int, str]) -> None:
        if self.model.scorer is not scorer:
            self._done()
            return
        self.context.runner.submit(
            lambda _report, _cancel: self.model.predict(entries, document, hashes, limit=CHUNK),
            on_finished=lambda result: self._predicted_chunk(scorer, result),
            on_failed=self._predict_failed)

    def _predicted_chunk(self, scorer, result: dict[int, float]) -> None:
        if self.model.scorer is scorer:
            self.model.apply(result)
            if result and self.model.unpredicted(self.context.gallery.entries):
                self._again = True  # the next chunk, queued after whatever the designer started meanwhile
        self._done()

    def _predict_failed(self, error: BaseException) -> None:
        self.context.show_status(f"The scorer could not rate the results ({error}).")
        self._again = False  # not again and again: the next new result tries once more
        self._done()

    def _done(self) -> None:
        self._busy = False
        if self._again:
            self.predict()

    def _predicted(self, result: dict[int, float]) -> None:
        model, gallery = self.model, self.context.gallery
        badges = {}
        for entry_id in result:
            entry = gallery.find(entry_id)
            if entry is not None:
                badges[entry_id] = (model.badge(entry), model.probability(entry) >= 0.5)
        self.gallery_panel.show_badges(badges)
        if self.gallery_panel.order is not None:
            self._show_scorer_order()

    def _order_changed(self, key: str) -> None:
        if key == "scorer" and self.model.available:
            self._show_scorer_order()
        else:
            self.gallery_panel.show_order(None)

    def _show_scorer_order(self) -> None:
        ordered = self.model.ordered(reversed(self.context.gallery.entries))  # ties: newest first
        self.gallery_panel.show_order([entry.entry_id for entry in ordered])

    # Agreement -----------------------------------------------------------------------------------
    def refresh_agreement(self) -> None:
        """Recount "scorer agreed with N of your last M choices" on the history thread."""
        model = self.model
        if not model.available or self.history.closed:
            self.history_panel.show_agreement("")
            return
        scorer = model.scorer
        self.history.submit(lambda: model.agreement_line(self.history.store),
                            done=lambda line: model.scorer is scorer and self.history_panel.show_agreement(line),
                            failed=lambda _error: None)
