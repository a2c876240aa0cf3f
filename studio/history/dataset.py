"""The generations table of an export: one row per generation with its prompt, parameters, control and result
image paths (inside the archive), the feedback it received and its revision (Parquet via pyarrow)."""

from __future__ import annotations

import json
from typing import Any

import pyarrow as pa

from studio.history.archive import blob_path
from studio.history.blobs import PNG
from studio.history.reads import Generation

CONTROL_KINDS = ("edge", "pose", "depth")
_IMAGE_FIELDS = ("prompt", "negative_prompt", "controls", "init_image")

SCHEMA = pa.schema([
    ("generation", pa.int64()),
    ("revision", pa.int64()),
    ("branch", pa.string()),
    ("time", pa.float64()),
    ("status", pa.string()),
    ("error", pa.string()),
    ("prompt", pa.string()),
    ("negative_prompt", pa.string()),
    ("width", pa.int64()),
    ("height", pa.int64()),
    ("steps", pa.int64()),
    ("guidance_scale", pa.float64()),
    ("scheduler", pa.string()),
    ("seed", pa.uint64()),
    ("parameters", pa.string()),
    ("models", pa.string()),
    ("timings", pa.string()),
    *[(f"control_{kind}", pa.string()) for kind in CONTROL_KINDS],
    ("controls", pa.list_(pa.struct([
        ("kind", pa.string()), ("path", pa.string()), ("weight", pa.float64()), ("start", pa.float64()),
        ("end", pa.float64()), ("mode", pa.string()),
    ]))),
    ("init_image", pa.string()),
    ("results", pa.list_(pa.string())),
    ("verdict", pa.string()),
    ("rating", pa.int64()),
    ("comments", pa.list_(pa.string())),
    ("feedback", pa.list_(pa.struct([
        ("time", pa.float64()), ("result", pa.int64()), ("verdict", pa.string()), ("rating", pa.int64()),
        ("comment", pa.string()),
    ]))),
])


def _path(hash_: str | None) -> str | None:
    return None if hash_ is None else blob_path(hash_, PNG)


def _number(value: Any, kind: type) -> Any:
    return kind(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else None


def generation_row(generation: Generation) -> dict[str, Any]:
    """The table row of one generation."""
    request, payload = generation.request, generation.payload
    controls = [
        {"kind": c.get("kind"), "path": _path(c.get("image")), "weight": _number(c.get("weight"), float),
         "start": _number(c.get("start"), float), "end": _number(c.get("end"), float), "mode": c.get("mode")}
        for c in request.get("controls", [])
    ]
    by_kind = {}
    for control in controls:
        by_kind.setdefault(control["kind"], control["path"])
    parameters = {k: v for k, v in request.items() if k not in _IMAGE_FIELDS}
    seed = payload.get("seed") if payload.get("seed") is not None else request.get("seed")
    return {
        "generation": generation.id, "revision": generation.revision, "branch": generation.branch,
        "time": generation.time, "status": payload["status"], "error": payload["error"],
        "prompt": request.get("prompt", ""), "negative_prompt": request.get("negative_prompt", ""),
        "width": _number(request.get("width"), int), "height": _number(request.get("height"), int),
        "steps": _number(request.get("steps"), int),
        "guidance_scale": _number(request.get("guidance_scale"), float), "scheduler": request.get("scheduler"),
        "seed": seed, "parameters": json.dumps(parameters, sort_keys=True),
        "models": json.dumps(payload["models"], sort_keys=True),
        "timings": json.dumps(payload["timings"], sort_keys=True),
        **{f"control_{kind}": by_kind.get(kind) for kind in CONTROL_KINDS},
        "controls": controls, "init_image": _path(request.get("init_image")),
        "results": [_path(h) for h in payload["results"]],
        "verdict": generation.verdict, "rating": generation.rating,
        "comments": [f.comment for f in generation.feedback if f.comment is not None],
        "feedback": [
            {"time": f.time, "result": f.result, "verdict": f.verdict, "rating": f.rating, "comment": f.comment}
            for f in generation.feedback
        ],
    }


def generations_table(generations: list[Generation]) -> pa.Table:
    return pa.Table.from_pylist([generation_row(g) for g in generations], schema=SCHEMA)
