"""How long after the engine returns do the results appear in the gallery? (window, tiny models, CPU)

Prints, per run, the seconds from `generate()` to the gallery showing the batch, the engine's own time and the
rest (request building, thread hops, and, before the application layer, the worker waiting for the history
writer to encode and commit the images). Run from a checkout:

    cd CHECKOUT && QT_QPA_PLATFORM=offscreen PYTHONPATH=. python tests/benchmarks/bench_generate_to_gallery.py
"""

from __future__ import annotations

import statistics
import sys
import tempfile
import time
from pathlib import Path

import torch
from PySide6.QtCore import QSettings
from PySide6.QtWidgets import QApplication

try:
    from studio.app.paths import AppPaths
except ImportError:  # a checkout from before studio/app
    from ui.app_paths import AppPaths
try:
    from ui.shell.main_window import MainWindow
except ImportError:
    from ui.main_window import MainWindow
from studio.engine.settings import ModelEntry
from ui.dialogs.models_guide import add_model, install_demo_models

RUNS, SIZE, BATCH, STEPS = 5, 256, 4, 2


def main() -> int:
    torch.set_num_threads(1)
    app = QApplication.instance() or QApplication(sys.argv)
    folder = Path(tempfile.mkdtemp())
    paths = AppPaths(model_settings=folder / "models.json", data_dir=folder / "data")
    install_demo_models(folder / "demo", folder / "demo.json")
    add_model(paths.model_settings, name="tiny", entry=ModelEntry(base=str(folder / "demo")))
    window = MainWindow(settings=QSettings(str(folder / "s.ini"), QSettings.Format.IniFormat), paths=paths)
    window.document.edge.stroke([(20, 20), (400, 300)], width=8)
    settings = window.generate_panel.settings()
    settings.width = settings.height = SIZE
    settings.steps, settings.batch_size, settings.seed = STEPS, BATCH, 1
    window.generate_panel.set_settings(settings)
    totals, engine, rest = [], [], []
    for _ in range(RUNS + 1):  # the first run loads the models: not counted
        done = []
        window.generation.finished.connect(lambda result, entries: done.append((time.perf_counter(), result)))
        start = time.perf_counter()
        window.generation.generate()
        while not done:
            app.processEvents()
            time.sleep(0.001)
        window.generation.finished.disconnect()
        shown, result = done[0]
        totals.append(shown - start)
        engine.append(result.timings["total"])
        rest.append(totals[-1] - engine[-1])
    window.runner.wait(30_000)
    for name, values in (("generate -> gallery", totals), ("engine", engine), ("rest", rest)):
        print(f"{name:20s} median {statistics.median(values[1:]):.3f} s  (runs: "
              f"{', '.join(f'{v:.3f}' for v in values[1:])})")
    window.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
