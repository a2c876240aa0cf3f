"""What logging every edit costs the GUI thread, and how fast the history panel reads its timeline.

Figures:
- per stroke on the GUI thread: a freehand edge stroke (40 points) with the window's recorder logging it, against
  the same stroke with nothing listening (baseline, same process); the difference is what the recorder adds
  (copying the stroke's box and a strided preview sample; encoding and SQLite run on the history thread).
  Measured on a 512x512 and a 4096x4096 document;
- history thread: time from the last stroke to every event being committed (it keeps up when this is small);
- history panel: `load_timeline` on a document of --events revisions (newest 400 rows with summaries and
  thumbnails; with a text search) against `store.revisions()` alone.

Run: QT_QPA_PLATFORM=offscreen .venv/bin/python tests/benchmarks/bench_history_recorder.py [--strokes 200]
Target: the recorder adds < 1 ms per stroke at 512x512 on the GUI thread.
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import numpy as np  # noqa: E402
from PySide6.QtWidgets import QApplication  # noqa: E402


def _stroke_points(rng: np.random.Generator, size: int) -> list[tuple[float, float]]:
    start = rng.uniform(0.1 * size, 0.9 * size, 2)
    steps = rng.normal(0, size / 200, (40, 2)).cumsum(axis=0)
    return [tuple(np.clip(start + step, 0, size - 1)) for step in steps]


def _time_strokes(document, strokes: list, *, flush=None) -> list[float]:
    times = []
    for points in strokes:
        start = time.perf_counter()
        document.edge.stroke(points, width=6)
        times.append((time.perf_counter() - start) * 1000)
        if flush is not None:
            flush()
    return times


def _stroke_costs(app, size: int, count: int, folder: Path) -> None:
    from studio.document import Document
    from ui.history.recorder import HistoryRecorder
    from ui.history.session import HistorySession
    from ui.gallery.panel import GalleryPanel
    from ui.generate.panel import GeneratePanel

    rng = np.random.default_rng(size)
    strokes = [_stroke_points(rng, size) for _ in range(count)]
    baseline = _time_strokes(Document(size, size), strokes)
    session = HistorySession(folder / f"autosave-{size}")
    recorder = HistoryRecorder(session, panel=GeneratePanel(), gallery=GalleryPanel())
    document = Document(size, size)
    session.start_untitled(Document(size, size), settings=recorder.current_fields()).result()
    recorder.bind(document)
    logged = _time_strokes(document, strokes, flush=app.processEvents)
    start = time.perf_counter()
    session.flush().result()
    drain = (time.perf_counter() - start) * 1000
    logged_events = session.submit(lambda: len(session.store.events(kinds=["stroke"]))).result()
    base_ms, logged_ms = statistics.median(baseline), statistics.median(logged)
    print(f"{size}x{size}: stroke {base_ms:.2f} ms alone, {logged_ms:.2f} ms logged (median of {count}); "
          f"recorder adds {logged_ms - base_ms:+.2f} ms (p90 {np.percentile(logged, 90):.2f} ms); "
          f"history thread done {drain:.0f} ms after the last stroke; {logged_events} stroke events")
    session.close()


def _timeline_speed(events: int, folder: Path) -> None:
    from studio.document import Document
    from studio.history import events as ev
    from studio.history.record import snapshot_document
    from studio.history.store import HistoryStore
    from studio.app.history_images import capture_preview, preview_thumbnail
    from studio.app.history_model import load_timeline

    document = Document(512, 512)
    rng = np.random.default_rng(1)
    store = HistoryStore.create(folder / "timeline.studio")
    snapshot_document(store, document, settings={}).result()
    for index in range(events):
        if index % 10 == 9:
            store.append(ev.setting_event("prompt", f"a house number {index}"))
            continue
        x, y = (int(v) for v in rng.integers(0, 448, 2))
        document.edge.stroke([(x, y), (x + 60, y + 40)], width=4)
        thumb = preview_thumbnail(capture_preview(document))
        event = ev.stroke_event("edge", x=x, y=y, patch=document.edge.data[y:y + 64, x:x + 64])
        store.append(ev.NewEvent(event.kind, event.payload, event.blobs, thumb))
    store.flush()
    for label, call in (
        ("store.revisions()", lambda: store.revisions()),
        ("load_timeline (all kinds)", lambda: load_timeline(store, kinds=None, text="", known_thumbnails=frozenset())),
        ("load_timeline (icons cached)", lambda: load_timeline(store, kinds=None, text="",
                                                               known_thumbnails=frozenset(_all_thumbs(store)))),
        ("load_timeline (search 'house 99')", lambda: load_timeline(store, kinds=None, text="house 99",
                                                                    known_thumbnails=frozenset())),
    ):
        times = []
        for _ in range(5):
            start = time.perf_counter()
            call()
            times.append((time.perf_counter() - start) * 1000)
        print(f"{events} revisions, {label}: {statistics.median(times):.1f} ms")
    store.close()


def _all_thumbs(store) -> set[str]:
    return {revision.thumbnail for revision in store.revisions() if revision.thumbnail}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--strokes", type=int, default=200)
    parser.add_argument("--events", type=int, default=3000)
    args = parser.parse_args()
    app = QApplication.instance() or QApplication([])
    print(f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs")
    with tempfile.TemporaryDirectory() as folder:
        for size in (512, 4096):
            _stroke_costs(app, size, args.strokes, Path(folder))
        _timeline_speed(args.events, Path(folder))


if __name__ == "__main__":
    main()
