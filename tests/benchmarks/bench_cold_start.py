"""How long does a new designer wait for the first demo image? App start -> DEMO MODE -> first image in the
gallery, from a cold start: a fresh Python process, an empty data folder (the demo models are not built yet),
no model settings.

The steps are the designer's: the window opens (the models guide shows, since no model is set up), they press
"Start DEMO MODE", draw one line (instant here) and press Generate with the defaults demo mode picked. Prints the
seconds of each phase and the total. Run from a checkout:

    cd CHECKOUT && QT_QPA_PLATFORM=offscreen python tests/benchmarks/bench_cold_start.py [--runs 3]

Each run is its own process (imports and torch start-up count; nothing is cached between runs).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

STARTED = time.perf_counter()


def one_run(folder: Path, *, stock: bool = False) -> dict[str, float]:
    """In this process: start the app, build the demo models, generate, and time each phase."""
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from PySide6.QtCore import QSettings
    from PySide6.QtWidgets import QApplication

    from studio.app.paths import AppPaths
    from ui.shell.main_window import MainWindow
    from ui.shell.theme import apply_dark_theme

    def wait_until(condition, timeout_s: float = 600.0) -> None:
        end = time.monotonic() + timeout_s
        while not condition():
            if time.monotonic() > end:
                raise TimeoutError("the window did not get there in time")
            QApplication.processEvents()
            time.sleep(0.005)

    app = QApplication.instance() or QApplication([])
    apply_dark_theme(app)
    paths = AppPaths(model_settings=folder / "config" / "models.json", data_dir=folder / "data")
    window = MainWindow(settings=QSettings(str(folder / "s.ini"), QSettings.Format.IniFormat), paths=paths)
    window.show()
    guide = window.show_models_guide()  # what `ui.shell.app.run` does on a first run
    QApplication.processEvents()
    shown = time.perf_counter()
    ready = []
    guide.demo_ready.connect(lambda: ready.append(time.perf_counter()))
    guide.demo_button.click()
    wait_until(lambda: ready)
    guide.close()
    document = window.document
    document.edge.stroke([(40, 40), (document.width - 40, document.height - 60)], width=6)
    if stock:  # what the first image cost before demo mode picked its own settings
        window.generate_panel.state.update(width=512, height=512, steps=20)
    settings = window.generate_panel.settings()
    generate_clicked = time.perf_counter()
    window.generate_panel.generate_button.click()
    wait_until(lambda: len(window.gallery.entries) > 0)
    shown_image = time.perf_counter()
    entry = window.gallery.entries[0]
    window.files.modified = False
    window.close()
    return {"window_s": shown - STARTED, "demo_models_s": ready[0] - shown,
            "generate_to_gallery_s": shown_image - generate_clicked, "total_s": shown_image - STARTED,
            "engine_total_s": entry.timings.get("total", 0.0), "size": f"{settings.width}x{settings.height}",
            "steps": settings.steps, "batch": settings.batch_size}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=1)
    parser.add_argument("--stock", action="store_true", help="generate at the stock 512 x 512, 20 steps instead "
                                                              "of the demo's settings (for comparison)")
    parser.add_argument("--child", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child is not None:
        print(json.dumps(one_run(args.child, stock=args.stock)))
        return
    results = []
    for run in range(args.runs):
        with tempfile.TemporaryDirectory() as folder:
            begun = time.perf_counter()
            command = [sys.executable, __file__, "--child", folder] + (["--stock"] if args.stock else [])
            out = subprocess.run(command, capture_output=True, text=True,
                                 check=True, env={**os.environ, "PYTHONPATH": str(Path.cwd())})
            wall = time.perf_counter() - begun
        result = json.loads(out.stdout.strip().splitlines()[-1])
        result["process_wall_s"] = wall
        results.append(result)
        print(f"run {run + 1}: window {result['window_s']:.1f} s, demo models {result['demo_models_s']:.1f} s, "
              f"Generate -> gallery {result['generate_to_gallery_s']:.1f} s (engine {result['engine_total_s']:.1f} s;"
              f" {result['size']}, {result['steps']} steps, batch {result['batch']}); "
              f"first image {result['total_s']:.1f} s after start ({wall:.1f} s for the whole process)")
    if len(results) > 1:
        totals = sorted(r["total_s"] for r in results)
        print(f"first demo image from a cold start: median {totals[len(totals) // 2]:.1f} s "
              f"(min {totals[0]:.1f}, max {totals[-1]:.1f}) over {len(results)} runs")


if __name__ == "__main__":
    main()
