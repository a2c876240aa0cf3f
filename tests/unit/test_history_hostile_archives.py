"""Hostile history archives: odd JSON and numbers, bombs and oversized canvases are refused in one sentence,
before they cost time or memory, and leave nothing behind."""

from __future__ import annotations

import json
import zipfile
from pathlib import Path
from typing import Callable

import numpy as np
import pytest

from studio.history import events as ev
from studio.history.errors import ImportRejectedError
from studio.history.export import export_history
from studio.history.importer import ImportLimits, import_history
from studio.history.store import HistoryStore


@pytest.fixture(scope="module")
def archive(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("hostile")
    document = folder / "doc.studio"
    rng = np.random.default_rng(1)
    with HistoryStore.create(document) as store:
        store.append(ev.snapshot_event(width=40, height=30, layers=[
            ev.LayerContent("edge", "edge", {}, np.zeros((30, 40), np.uint8)),
            ev.LayerContent("pose", "pose", {}, {"canvas_width": 40, "canvas_height": 30, "people": []})]))
        for i in range(5):
            store.append(ev.stroke_event("edge", x=i, y=i, patch=rng.integers(0, 256, (4, 4), dtype=np.uint8)))
        store.append(ev.setting_event("prompt", "a lighthouse")).result()
    export_history(document, folder / "doc.zip")
    return folder / "doc.zip"


def rewrite(source: Path, target: Path, change: Callable[[dict[str, bytes]], dict[str, bytes]], *,
            compression: int = zipfile.ZIP_DEFLATED) -> Path:
    with zipfile.ZipFile(source) as zf:
        members = {name: zf.read(name) for name in zf.namelist()}
    with zipfile.ZipFile(target, "w", compression=compression) as zf:
        for name, data in change(members).items():
            zf.writestr(name, data)
    return target


def edit_line(number: int, edit: Callable[[str], str]) -> Callable[[dict[str, bytes]], dict[str, bytes]]:
    def change(members):
        lines = members["events.jsonl"].decode().splitlines()
        lines[number] = edit(lines[number])
        return {**members, "events.jsonl": ("\n".join(lines) + "\n").encode()}
    return change


def edit_manifest(edit: Callable[[str], str]) -> Callable[[dict[str, bytes]], dict[str, bytes]]:
    return lambda members: {**members, "manifest.json": edit(members["manifest.json"].decode()).encode()}


def _set_number(key: str, text: str) -> Callable[[str], str]:
    def edit(line: str) -> str:
        record = json.loads(line)
        record[key] = "@@"
        return json.dumps(record).replace('"@@"', text)
    return edit


HOSTILE_JSON = {
    "deep manifest": (edit_manifest(lambda m: m[:-1] + ', "x": ' + "[" * 50_000 + "]" * 50_000 + "}"),
                      "manifest.json: nesting deeper than 64 levels"),
    "deep event": (edit_line(2, lambda l: l[:-1] + ', "x": ' + "{\"a\":" * 20_000 + "1" + "}" * 20_000 + "}"),
                   "events.jsonl line 3: nesting deeper"),
    "huge integer": (edit_line(1, _set_number("id", "9" * 5000)), "events.jsonl line 2: the integer of 5000"),
    "id of 2^64": (edit_line(1, _set_number("id", str(2**64))), f"integer {2**64} is outside the 64-bit range"),
    "id of 2^63": (edit_line(1, _set_number("id", str(2**63))), "event line 2 has a bad id"),
    "time NaN": (edit_line(1, _set_number("time", "NaN")), "NaN is not a number"),
    "time Infinity": (edit_line(1, _set_number("time", "Infinity")), "Infinity is not a number"),
    "time 1e999": (edit_line(1, _set_number("updated", "1e999")), "1e999 is too large"),
    "time far future": (edit_line(1, _set_number("time", "1e300")), "has a bad time"),
    "negative time": (edit_line(1, _set_number("time", "-5")), "has a bad time"),
    "manifest NaN": (edit_manifest(lambda m: m.replace('"created": ', '"created": NaN, "old": ', 1)),
                     "manifest.json: NaN"),
}


@pytest.mark.parametrize("case", sorted(HOSTILE_JSON))
def test_hostile_json_in_archives_is_refused_in_one_sentence(archive, tmp_path, case):
    change, message = HOSTILE_JSON[case]
    bad = rewrite(archive, tmp_path / "bad.zip", change)
    work = tmp_path / "work"
    work.mkdir()
    with pytest.raises(ImportRejectedError) as info:
        import_history(bad, work / "out.studio")
    assert message in str(info.value), str(info.value)
    assert str(info.value).startswith("The archive bad.zip was refused")
    assert list(work.iterdir()) == []


def _deep_pose_blob(members: dict[str, bytes]) -> dict[str, bytes]:
    """Replace the pose layer's JSON blob by a deeply nested one with a matching name, so only parsing it
    during the replay can refuse it."""
    import hashlib

    events = [json.loads(line) for line in members["events.jsonl"].decode().splitlines()]
    deep = b'{"canvas_width": 40, "canvas_height": 30, "people": ' + b"[" * 30_000 + b"]" * 30_000 + b"}"
    name = hashlib.sha256(deep).hexdigest()
    old = events[1]["payload"]["state"]["layers"][1]["content"]
    events[1]["payload"]["state"]["layers"][1]["content"] = name
    members = {k: v for k, v in members.items() if k != f"blobs/{old}.json"}
    members[f"blobs/{name}.json"] = deep
    members["events.jsonl"] = ("\n".join(json.dumps(e) for e in events) + "\n").encode()
    return members


def test_deeply_nested_json_blob_is_refused(archive, tmp_path):
    bad = rewrite(archive, tmp_path / "bad.zip", _deep_pose_blob)
    with pytest.raises(ImportRejectedError, match="does not replay.*nesting deeper than 64"):
        import_history(bad, tmp_path / "out.studio")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["bad.zip"]


def _canvas(width: int, height: int) -> Callable[[str], str]:
    def edit(line: str) -> str:
        record = json.loads(line)
        record["payload"]["state"].update(width=width, height=height)
        return json.dumps(record)
    return edit


@pytest.mark.parametrize("width, height, message", [
    (40000, 40000, "'width' must be 1 to 8192 pixels"),
    (20000, 30, "'width' must be 1 to 8192 pixels"),
    (8192, 8193, "'height' must be 1 to 8192 pixels"),
])
def test_canvas_sizes_beyond_the_documents_limits_are_refused_before_allocating(archive, tmp_path, width,
                                                                              height, message):
    bad = rewrite(archive, tmp_path / "bad.zip", edit_line(1, _canvas(width, height)))
    with pytest.raises(ImportRejectedError, match=message):
        import_history(bad, tmp_path / "out.studio")


def test_event_limits_match_the_document():
    from studio.document.document import MAX_PIXELS, MAX_SIDE

    assert (ev.MAX_SIDE, ev.MAX_PIXELS) == (MAX_SIDE, MAX_PIXELS)


def test_other_compression_methods_are_refused(archive, tmp_path):
    for method in (zipfile.ZIP_LZMA, zipfile.ZIP_BZIP2):
        bad = rewrite(archive, tmp_path / "bad.zip", lambda m: m, compression=method)
        with pytest.raises(ImportRejectedError, match=f"compression method {method}; only stored and deflated"):
            import_history(bad, tmp_path / "out.studio")
    stored = rewrite(archive, tmp_path / "stored.zip", lambda m: m, compression=zipfile.ZIP_STORED)
    assert import_history(stored, tmp_path / "ok.studio").events == 8


def test_compression_ratio_and_event_count_are_capped(archive, tmp_path):
    def padded(members):  # 64 MiB of spaces after the manifest: deflate packs it about 1000:1
        return {**members, "manifest.json": members["manifest.json"] + b" " * (64 * 2**20)}

    bomb = rewrite(archive, tmp_path / "bomb.zip", padded)
    assert bomb.stat().st_size < 200_000
    with pytest.raises(ImportRejectedError, match=r"compressed \d+:1, more than the 100:1"):
        import_history(bomb, tmp_path / "a.studio", limits=ImportLimits(max_ratio=100))
    with pytest.raises(ImportRejectedError, match="more than 3 events"):
        import_history(archive, tmp_path / "b.studio", limits=ImportLimits(max_events=3))
    assert sorted(p.name for p in tmp_path.iterdir()) == ["bomb.zip"]


def test_lzma_bomb_is_refused_at_once(tmp_path):
    """The attack of the issue: a tiny LZMA member that would inflate to 64 MiB (refused from its header)."""
    bomb = tmp_path / "lzma.zip"
    with zipfile.ZipFile(bomb, "w", compression=zipfile.ZIP_LZMA) as zf:
        zf.writestr("manifest.json", b"{}")
        zf.writestr("events.jsonl", b"")
        with zf.open("blobs/" + "0" * 64 + ".png", "w", force_zip64=True) as member:
            for _ in range(4):
                member.write(b"\x00" * (16 * 2**20))  # 64 MiB of zeros
    assert bomb.stat().st_size < 400_000
    with pytest.raises(ImportRejectedError, match="compression method 14"):
        import_history(bomb, tmp_path / "out.studio")
