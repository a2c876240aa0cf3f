"""Figures for hostile inputs and a full disk (issue 18): what each refused input costs, and how far freed disk
space goes.

Prints, for each hostile input, whether it was refused, the time and the peak Python/NumPy memory
(tracemalloc) it took: deep and huge JSON, an LZMA and a deflate archive bomb, an archive with a 40000x40000
canvas, a 100000x100000 PNG header, a real 9000x9000 PNG, a 200 MiB zTXt bomb, a flat 6000x6000 GIF.
Then the WAL: its size after N awaited strokes, and (when a 4 MiB tmpfs can be mounted: needs root) how many
awaited strokes fit after filling the disk and freeing 600 KB.

Run: .venv/bin/python tests/benchmarks/bench_hostile.py [--strokes 300]
"""

from __future__ import annotations

import argparse
import io
import json
import shutil
import subprocess
import sys
import tempfile
import time
import tracemalloc
import zipfile
import zlib
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from studio.errors import StudioError  # noqa: E402
from studio.history import events as ev  # noqa: E402
from studio.history.errors import DiskFullError  # noqa: E402
from studio.history.export import export_history  # noqa: E402
from studio.history.importer import import_history  # noqa: E402
from studio.history.store import HistoryStore  # noqa: E402
from studio.imageio import load_rgb  # noqa: E402
from studio.safe_json import load_untrusted_json  # noqa: E402


def measure(name: str, run) -> None:
    tracemalloc.start()
    started = time.perf_counter()
    try:
        run()
        outcome = "ACCEPTED"
    except StudioError as exc:
        outcome = f"refused: {str(exc)[:90]}"
    seconds = time.perf_counter() - started
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    print(f"{name:<34} {seconds * 1000:8.1f} ms  peak {peak / 2**20:8.1f} MiB  {outcome}")


def _chunk(kind: bytes, data: bytes) -> bytes:
    return len(data).to_bytes(4, "big") + kind + data + (zlib.crc32(kind + data) & 0xFFFFFFFF).to_bytes(4, "big")


def _png(width: int, height: int, extra: bytes = b"") -> bytes:
    import struct

    header = _chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0))
    compressor = zlib.compressobj(9)
    row = b"\x00" * (width + 1)
    data = b"".join(compressor.compress(row) for _ in range(height)) + compressor.flush()
    return b"\x89PNG\r\n\x1a\n" + header + extra + _chunk(b"IDAT", data) + _chunk(b"IEND", b"")


def _archives(folder: Path) -> dict[str, Path]:
    document = folder / "doc.studio"
    with HistoryStore.create(document) as store:
        store.append(ev.snapshot_event(width=64, height=64, layers=[
            ev.LayerContent("edge", "edge", {}, np.zeros((64, 64), np.uint8))]))
        store.append(ev.stroke_event("edge", x=0, y=0, patch=np.ones((4, 4), np.uint8))).result()
    export_history(document, folder / "doc.zip")
    with zipfile.ZipFile(folder / "doc.zip") as zf:
        members = {n: zf.read(n) for n in zf.namelist()}
    out = {}
    lzma = folder / "lzma.zip"
    with zipfile.ZipFile(lzma, "w", compression=zipfile.ZIP_LZMA) as zf:
        for name, data in members.items():
            zf.writestr(name, data)
        with zf.open("blobs/" + "0" * 64 + ".png", "w", force_zip64=True) as member:
            for _ in range(96):
                member.write(b"\x00" * (16 * 2**20))  # 1.5 GiB
    out[f"LZMA bomb ({lzma.stat().st_size // 1024} KB -> 1.5 GiB)"] = lzma
    deflate = folder / "deflate.zip"
    with zipfile.ZipFile(deflate, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        for name, data in members.items():
            zf.writestr(name, data + (b" " * (256 * 2**20) if name == "manifest.json" else b""))
    out[f"deflate bomb ({deflate.stat().st_size // 1024} KB -> 256 MiB)"] = deflate
    lines = members["events.jsonl"].decode().splitlines()
    record = json.loads(lines[1])
    record["payload"]["state"].update(width=40000, height=40000)
    lines[1] = json.dumps(record)
    canvas = folder / "canvas.zip"
    with zipfile.ZipFile(canvas, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        for name, data in {**members, "events.jsonl": ("\n".join(lines) + "\n").encode()}.items():
            zf.writestr(name, data)
    out[f"40000x40000 canvas ({canvas.stat().st_size // 1024} KB)"] = canvas
    return out


def hostile_inputs(folder: Path) -> None:
    print("== refused inputs")
    measure("JSON nested 1,000,000 deep", lambda: load_untrusted_json("[" * 10**6 + "]" * 10**6, source="x"))
    measure("JSON 5000-digit integer", lambda: load_untrusted_json("[" + "9" * 5000 + "]", source="x"))
    measure("JSON time Infinity", lambda: load_untrusted_json('{"time": Infinity}', source="x"))
    for name, archive in _archives(folder).items():
        target = folder / "imported.studio"
        measure(f"archive: {name}", lambda: import_history(archive, target))
        target.unlink(missing_ok=True)
    header = bytearray(_png(4, 4))
    header[16:24] = (100000).to_bytes(4, "big") * 2
    header[29:33] = (zlib.crc32(bytes(header[12:29])) & 0xFFFFFFFF).to_bytes(4, "big")
    measure("PNG header 100000x100000", lambda: load_rgb(bytes(header)))
    real = _png(9000, 9000)
    measure(f"real 9000x9000 PNG ({len(real) // 1024} KB)", lambda: load_rgb(real))
    ztxt = _png(8, 8, _chunk(b"zTXt", b"c\x00\x00" + zlib.compress(b"A" * (200 * 2**20), 9)))
    measure(f"zTXt bomb ({len(ztxt) // 1024} KB -> 200 MiB)", lambda: load_rgb(ztxt))
    from PIL import Image

    gif = io.BytesIO()
    Image.new("P", (6000, 6000), 0).save(gif, "GIF")
    measure(f"flat 6000x6000 GIF ({len(gif.getvalue()) // 1024} KB)", lambda: load_rgb(gif.getvalue()))


def _stroke(rng) -> ev.NewEvent:
    x, y = (int(v) for v in rng.integers(0, 400, 2))
    return ev.stroke_event("edge", x=x, y=y, patch=rng.integers(0, 256, (24, 24), dtype=np.uint8))


def _new_store(path: Path) -> HistoryStore:
    store = HistoryStore.create(path)
    store.append(ev.snapshot_event(width=512, height=512, layers=[
        ev.LayerContent("edge", "edge", {}, np.zeros((512, 512), np.uint8))])).result()
    return store


def wal_figures(folder: Path, strokes: int) -> None:
    print("== WAL")
    rng = np.random.default_rng(0)
    path = folder / "wal.studio"
    store = _new_store(path)
    before = Path(f"{path}-wal").stat().st_size
    for _ in range(strokes):
        store.append(_stroke(rng)).result()
    grown = Path(f"{path}-wal").stat().st_size
    print(f"WAL after {strokes} awaited strokes: {grown / 1024:.0f} KiB "
          f"({(grown - before) / strokes / 1024:.1f} KiB per stroke while growing)")
    time.sleep(3)
    for _ in range(10):
        store.append(_stroke(rng)).result()
    print(f"WAL after a 3 s pause and 10 more strokes: {Path(f'{path}-wal').stat().st_size / 1024:.0f} KiB "
          f"(document file {path.stat().st_size / 1024:.0f} KiB)")
    store.close()


def disk_full(strokes: int) -> None:
    print("== disk full (4 MiB tmpfs)")
    mount = Path(tempfile.mkdtemp())
    if subprocess.run(["mount", "-t", "tmpfs", "-o", "size=4m", "tmpfs", str(mount)],
                      capture_output=True).returncode != 0:
        print("   (cannot mount a tmpfs here: needs root; skipped)")
        return
    try:
        rng = np.random.default_rng(1)
        store = _new_store(mount / "full.studio")
        ballast = mount / "ballast"
        with open(ballast, "wb") as handle:  # fill the disk
            try:
                while True:
                    handle.write(b"\x00" * 65536)
                    handle.flush()
            except OSError:
                pass
        acked = failures = reported = 0
        for _ in range(strokes):
            try:
                store.append(_stroke(rng)).result()
                acked += 1
            except DiskFullError as exc:
                failures += 1
                reported += not exc.repeat
        print(f"after filling the disk: {acked} strokes saved, {failures} refused, 'disk full' reported "
              f"{reported} time(s)")
        with open(ballast, "r+b") as handle:
            handle.truncate(max(0, ballast.stat().st_size - 600 * 1024))
        time.sleep(0.5)
        acked = 0
        for _ in range(strokes):
            try:
                store.append(_stroke(rng)).result()
                acked += 1
            except DiskFullError:
                break
        print(f"after freeing 600 KB: {acked} more awaited strokes fit; WAL "
              f"{Path(f'{mount}/full.studio-wal').stat().st_size / 1024:.0f} KiB")
        store.close()
    finally:
        subprocess.run(["umount", str(mount)], capture_output=True)
        shutil.rmtree(mount, ignore_errors=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--strokes", type=int, default=300)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        hostile_inputs(Path(folder))
        wal_figures(Path(folder), args.strokes)
    disk_full(args.strokes)


if __name__ == "__main__":
    main()
