"""History store speed: 10,000 mixed events on a 512x512 document.

Mix (like a long session): 86 % strokes on the edge and depth layers (the pixels of the stroke's box after the
stroke, 16-160 px boxes), 8 % prompt/setting typing, 3 % pose edits, 1 % layer property changes, 1 % generations
(two 512x512 control images and one 512x512 result, built and PNG-encoded in a worker thread as the studio
does), 1 % feedback and chat turns.

Figures:
- latency runs (durability "crash", then "full"): events appended at a steady pace (one every --interval ms
  from the "GUI" thread, generations from a worker thread); ack time = from `append()` to the future resolving
  (committed; with "full" also fsync'ed);
  also the time `append()` itself takes on the calling thread and the caller-side stroke encoding time;
- throughput run: the same mix, pre-built, appended as fast as possible (events/s until all are committed);
- file size; time to open the document at its newest revision (open + state_at, and as a Document);
- export throughput (MB/s and events/s) and import time.
Baselines in the same process: a bare SQLite commit of one small row (WAL, same sync setting) for ack time,
and replaying the whole history from the first revision (no checkpoints) for the open time. The figures depend
on the machine's load (printed): tail latencies grow when other processes compete for the CPUs or the disk.

Run: .venv/bin/python tests/benchmarks/bench_history.py [--events 10000] [--interval 2.0]
Targets: p99 ack < 5 ms for strokes; open a 10,000-event document < 1 s.
"""

from __future__ import annotations

import argparse
import json
import os
import queue
import sqlite3
import tempfile
import threading
import time
from pathlib import Path

import cv2
import numpy as np

from studio.history import events as ev
from studio.history.checkpoints import EMPTY_STATE
from studio.history.export import export_history
from studio.history.importer import import_history
from studio.history.reads import DbBlobSource
from studio.history.schema import DURABILITY
from studio.history.state import apply_event, state_from_json
from studio.history.store import HistoryStore

SIZE = 512


def _load() -> str:
    try:
        return " ".join(Path("/proc/loadavg").read_text().split()[:3])
    except OSError:
        return "unknown"


def _percentiles(values: list[float]) -> str:
    a = np.asarray(values) * 1000
    return f"p50 {np.percentile(a, 50):.2f} ms, p99 {np.percentile(a, 99):.2f} ms, max {a.max():.2f} ms (n={len(a)})"


class Session:
    """Makes the events of a simulated session, deterministically."""

    def __init__(self, seed: int = 0) -> None:
        self.rng = np.random.default_rng(seed)
        self.edge = np.zeros((SIZE, SIZE), np.uint8)
        self.depth = np.zeros((SIZE, SIZE), np.uint16)
        self.prompt = ""
        self.generations: list[int] = []

    def snapshot(self) -> ev.NewEvent:
        layers = [ev.LayerContent("edge", "edge", {"visible": True}, self.edge),
                  ev.LayerContent("depth", "depth", {"visible": True}, self.depth),
                  ev.LayerContent("pose", "pose", {}, {"canvas_width": SIZE, "canvas_height": SIZE, "people": []})]
        return ev.snapshot_event(width=SIZE, height=SIZE, layers=layers, settings={"steps": 20})

    def kind(self) -> str:
        roll = self.rng.random()
        for kind, share in (("stroke", 0.86), ("setting", 0.08), ("pose", 0.03), ("layer", 0.01),
                            ("generation", 0.01), ("feedback", 0.005)):
            if roll < share:
                return kind
            roll -= share
        return "chat"

    def stroke(self) -> ev.NewEvent:
        layer = "edge" if self.rng.random() < 0.7 else "depth"
        w, h = (int(v) for v in self.rng.integers(16, 160, 2))
        x, y = int(self.rng.integers(0, SIZE - w)), int(self.rng.integers(0, SIZE - h))
        target = self.edge if layer == "edge" else self.depth
        value = 255 if layer == "edge" else int(self.rng.integers(0, 65535))
        points = self.rng.integers(0, [w, h], (4, 2)) + [x, y]
        cv2.polylines(target, [points.astype(np.int32)], False, value, thickness=int(self.rng.integers(2, 9)))
        return ev.stroke_event(layer, x=x, y=y, patch=target[y : y + h, x : x + w])

    def setting(self) -> ev.NewEvent:
        self.prompt = (self.prompt + " " + str(self.rng.choice(["fox", "snow", "night", "red"])))[-200:]
        return ev.setting_event("prompt", self.prompt)

    def pose(self) -> ev.NewEvent:
        points = self.rng.uniform(0, SIZE, 18 * 3).round(1).tolist()
        return ev.pose_event("pose", {"canvas_width": SIZE, "canvas_height": SIZE,
                                      "people": [{"pose_keypoints_2d": points}]})

    def layer(self) -> ev.NewEvent:
        return ev.layer_event(str(self.rng.choice(["edge", "depth"])), {"opacity": float(self.rng.random())})

    def generation(self) -> ev.NewEvent:
        yy, xx = np.mgrid[0:SIZE, 0:SIZE]
        phase = self.rng.uniform(0, 6.28, 3)
        result = np.stack([127 + 100 * np.sin(xx / (40 + 20 * i) + phase[i]) * np.cos(yy / 57) for i in range(3)], 2)
        result = np.clip(result + self.rng.normal(0, 6, result.shape), 0, 255).astype(np.uint8)
        depth8 = (self.depth >> 8).astype(np.uint8)
        controls = [np.repeat(self.edge[:, :, None], 3, 2), np.repeat(depth8[:, :, None], 3, 2)]
        request = {"prompt": self.prompt or "a fox", "negative_prompt": "blurry", "width": SIZE, "height": SIZE,
                   "steps": 20, "guidance_scale": 7.0, "seed": None, "scheduler": "unipc",
                   "controls": [{"kind": "edge", "image": None, "weight": 1.0},
                                {"kind": "depth", "image": None, "weight": 0.6}]}
        return ev.generation_event(request=request, control_images=controls, results=[result],
                                   models={"base": {"name": "sd15", "sha256": "c" * 64}},
                                   seed=int(self.rng.integers(0, 2**31)), timings={"total": 0.95})

    def other(self, kind: str) -> ev.NewEvent:
        if kind == "feedback" and self.generations:
            return ev.feedback_event(int(self.rng.choice(self.generations)), rating=int(self.rng.integers(1, 6)))
        return ev.chat_event(message="make it moodier", reply="prompt: a fox at night", applied=False)


def latency_run(path: Path, count: int, interval: float, durability: str) -> dict:
    """Appends at a steady pace; generations are encoded and appended by a worker thread."""
    session = Session(0)
    store = HistoryStore.create(path, durability=durability)
    store.append(session.snapshot()).result()
    acks: dict[str, list[float]] = {}
    append_calls: list[float] = []
    stroke_build: list[float] = []
    pending = []
    jobs: queue.Queue = queue.Queue()
    lock = threading.Lock()

    def track(kind: str, future, started: float) -> None:
        def done(_):
            with lock:
                acks.setdefault(kind, []).append(time.perf_counter() - started)
        future.add_done_callback(done)
        pending.append(future)

    def worker() -> None:
        while (event := jobs.get()) is not None:
            started = time.perf_counter()
            future = store.append(event)
            track("generation", future, started)
            future.add_done_callback(lambda f: session.generations.append(f.result().event))

    thread = threading.Thread(target=worker)
    thread.start()
    begin = time.perf_counter()
    next_time = begin
    for _ in range(count):
        kind = session.kind()
        if kind == "generation":
            jobs.put(session.generation())  # built here for determinism; encoded images are handed over
            continue
        t0 = time.perf_counter()
        event = getattr(session, kind)() if kind in ("stroke", "setting", "pose", "layer") else session.other(kind)
        if kind == "stroke":
            stroke_build.append(time.perf_counter() - t0)
        next_time = max(next_time + interval, time.perf_counter())  # a late event is not followed by a burst
        while time.perf_counter() < next_time:
            time.sleep(max(0.0, next_time - time.perf_counter()) * 0.5)
        started = time.perf_counter()
        future = store.append(event)
        append_calls.append(time.perf_counter() - started)
        track(kind, future, started)
    jobs.put(None)
    thread.join()
    store.flush()
    for future in pending:
        future.result()
    elapsed = time.perf_counter() - begin
    store.close()
    return {"acks": acks, "append_calls": append_calls, "stroke_build": stroke_build, "elapsed": elapsed}


def throughput_run(path: Path, count: int) -> tuple[float, int]:
    session = Session(1)
    store = HistoryStore.create(path)
    store.append(session.snapshot()).result()
    prepared = []
    for _ in range(count):
        kind = session.kind()
        prepared.append(getattr(session, kind)() if kind in ("stroke", "setting", "pose", "layer", "generation")
                        else session.other(kind))
    begin = time.perf_counter()
    futures = [store.append(event) for event in prepared]
    store.flush()
    elapsed = time.perf_counter() - begin
    ok = sum(1 for f in futures if f.exception() is None)
    store.close()
    return elapsed, ok


def open_times(path: Path, repeats: int = 5) -> tuple[list[float], list[float]]:
    """Seconds to open the document and rebuild its newest state, and to rebuild it as a Document."""
    from studio.history.record import document_at

    state_times, document_times = [], []
    for _ in range(repeats):
        t0 = time.perf_counter()
        with HistoryStore.open(path) as store:
            store.state_at()
            state_times.append(time.perf_counter() - t0)
    for _ in range(repeats):
        t0 = time.perf_counter()
        with HistoryStore.open(path, readonly=True) as store:
            document_at(store)
            document_times.append(time.perf_counter() - t0)
    return state_times, document_times


def replay_from_root(path: Path) -> float:
    """Baseline: rebuild the newest state by replaying every event from the first revision."""
    t0 = time.perf_counter()
    with HistoryStore.open(path, readonly=True) as store, store.read_transaction() as conn:
        blobs = DbBlobSource(conn)
        state = state_from_json(1, EMPTY_STATE, blobs)
        for rev, kind, payload in conn.execute("SELECT revision, kind, payload FROM events ORDER BY id"):
            apply_event(state, revision=rev, kind=kind, payload=json.loads(payload), blobs=blobs)
    return time.perf_counter() - t0


def sqlite_commit_baseline(folder: Path, durability: str, n: int = 500) -> list[float]:
    """Seconds per commit of one small row in a bare WAL database synced like `durability`."""
    conn = sqlite3.connect(folder / f"baseline-{durability}.db", isolation_level=None)
    conn.execute("PRAGMA journal_mode = WAL")
    conn.execute(f"PRAGMA synchronous = {DURABILITY[durability]}")
    conn.execute("CREATE TABLE t (id INTEGER PRIMARY KEY, payload TEXT)")
    times = []
    for i in range(n):
        t0 = time.perf_counter()
        conn.execute("BEGIN IMMEDIATE")
        conn.execute("INSERT INTO t (payload) VALUES (?)", (f'{{"i": {i}}}',))
        conn.execute("COMMIT")
        times.append(time.perf_counter() - t0)
    conn.close()
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--events", type=int, default=10_000)
    parser.add_argument("--interval", type=float, default=2.0, help="ms between appends in the latency run")
    parser.add_argument("--out", type=Path, help="folder for the files (default: a temporary folder)")
    args = parser.parse_args()
    folder = args.out or Path(tempfile.mkdtemp(prefix="bench-history-"))
    folder.mkdir(parents=True, exist_ok=True)
    print(f"history benchmark: {args.events} mixed events on a {SIZE}x{SIZE} document, files in {folder}")
    print(f"machine: {os.cpu_count()} CPUs, load average {_load()}")

    for durability in ("crash", "full"):
        baseline = sqlite_commit_baseline(folder, durability)
        print(f"baseline: bare SQLite commit of one row, WAL, synchronous={DURABILITY[durability]}: "
              f"{_percentiles(baseline)}")
        path = folder / f"latency-{durability}.studio"
        run = latency_run(path, args.events, args.interval / 1000, durability)
        total = sum(len(v) for v in run["acks"].values())
        print(f"latency run, durability={durability!r}: {total} events in {run['elapsed']:.1f} s "
              f"(paced, one every {args.interval} ms; load average {_load()})")
        for kind in sorted(run["acks"]):
            print(f"  ack {kind:<10} {_percentiles(run['acks'][kind])}")
        all_acks = [t for v in run["acks"].values() for t in v]
        print(f"  ack all        {_percentiles(all_acks)}")
        stroke_p99 = np.percentile(run["acks"]["stroke"], 99) * 1000
        print(f"  p99 stroke ack / p99 bare commit: {stroke_p99 / (np.percentile(baseline, 99) * 1000):.1f}x")
        print(f"  append() call on the calling thread: {_percentiles(run['append_calls'])}")
        print(f"  stroke event building (PNG of the patch, caller side): {_percentiles(run['stroke_build'])}")
    size = path.stat().st_size
    print(f"file size: {size / 2**20:.1f} MiB ({size / total / 1024:.1f} KiB per event)")

    state_times, document_times = open_times(path)
    replay = replay_from_root(path)
    print(f"open at newest revision (open + state_at): median {np.median(state_times) * 1000:.0f} ms, "
          f"max {max(state_times) * 1000:.0f} ms")
    print(f"open as a Document (open + document_at): median {np.median(document_times) * 1000:.0f} ms")
    print(f"baseline replay of all events from the first revision: {replay * 1000:.0f} ms "
          f"({replay / np.median(state_times):.0f}x the checkpointed open)")

    archive = folder / "latency-full.zip"
    summary = export_history(path, archive)
    print(f"export: {summary.events} events, {summary.blobs} blobs, {summary.bytes_written / 2**20:.1f} MiB in "
          f"{summary.seconds:.2f} s = {summary.bytes_written / 2**20 / summary.seconds:.0f} MiB/s, "
          f"{summary.events / summary.seconds:.0f} events/s")
    t0 = time.perf_counter()
    import_history(archive, folder / "imported.studio")
    print(f"import (with hash checks and full replay): {time.perf_counter() - t0:.2f} s")

    elapsed, ok = throughput_run(folder / "throughput.studio", args.events)
    print(f"throughput run (pre-built events, unpaced): {ok} events committed in {elapsed:.2f} s = "
          f"{ok / elapsed:.0f} events/s")


if __name__ == "__main__":
    main()
