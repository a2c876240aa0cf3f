"""Parquet tables that Hugging Face `datasets` reads with their feature types, and the export's results table.

`datasets` keeps a table's features in the Parquet schema metadata (key `huggingface`, JSON
`{"info": {"features": {...}}}`); an Image feature is stored as a struct of `bytes` and `path`. Written that
way with pyarrow alone, `datasets.load_dataset("parquet", data_files=...)` returns PIL images, with no need for
`datasets` at export time.

`results.parquet` has one row per result image; `RESULT_COLUMNS` lists its columns and the card
(`studio.history.card`) describes them.
"""

from __future__ import annotations

import json
from typing import Any, BinaryIO, Iterable

import pyarrow as pa
import pyarrow.parquet as pq

from studio.history.results import CONTROL_KINDS, MODEL_ROLES, TIMINGS, ResultImage

IMAGE = "image"  # marker for an Image column in a column list
_ARROW = {"string": pa.string(), "int64": pa.int64(), "uint64": pa.uint64(), "float64": pa.float64(),
          "bool": pa.bool_(), "binary": pa.binary()}
IMAGE_TYPE = pa.struct([("bytes", pa.binary()), ("path", pa.string())])
ROW_GROUP = 64  # rows per Parquet row group: images make rows large, so groups stay small


def hf_schema(columns: list[tuple[str, str]]) -> pa.Schema:
    """The Arrow schema of (name, type) columns, type one of `_ARROW` or IMAGE, with the features of `datasets`."""
    fields, features = [], {}
    for name, kind in columns:
        if kind == IMAGE:
            fields.append(pa.field(name, IMAGE_TYPE))
            features[name] = {"_type": "Image"}
        else:
            fields.append(pa.field(name, _ARROW[kind]))
            features[name] = {"dtype": kind, "_type": "Value"}
    metadata = {"huggingface": json.dumps({"info": {"features": features}})}
    return pa.schema(fields, metadata=metadata)


def image_cell(data: bytes | None) -> dict[str, Any] | None:
    """An Image feature's value: the encoded file bytes embedded, no path."""
    return None if data is None else {"bytes": data, "path": None}


def write_table(sink: str | BinaryIO, schema: pa.Schema, rows: Iterable[dict[str, Any]]) -> int:
    """Write `rows` to a Parquet file `sink` in small row groups (never all images in memory); returns the
    number of rows."""
    count, batch = 0, []
    with pq.ParquetWriter(sink, schema, compression="zstd") as writer:
        for row in rows:
            batch.append(row)
            if len(batch) == ROW_GROUP:
                writer.write_table(pa.Table.from_pylist(batch, schema=schema))
                count, batch = count + len(batch), []
        if batch or not count:
            writer.write_table(pa.Table.from_pylist(batch, schema=schema))
            count += len(batch)
    return count


_CONTROL_COLUMNS = [(f"{kind}_{name}", t) for kind in CONTROL_KINDS
                    for name, t in (("weight", "float64"), ("start", "float64"), ("end", "float64"),
                                    ("mode", "string"), ("resize_mode", "string"))]
RESULT_COLUMNS: list[tuple[str, str]] = [
    ("generation", "int64"), ("image_index", "int64"), ("images_in_generation", "int64"), ("seed", "uint64"),
    ("revision", "int64"), ("branch", "string"), ("time", "float64"), ("status", "string"),
    ("image", IMAGE), ("image_sha256", "string"),
    *[(f"control_{kind}", IMAGE) for kind in CONTROL_KINDS], ("pose_keypoints", "string"), ("init_image", IMAGE),
    ("prompt", "string"), ("negative_prompt", "string"), ("steps", "int64"), ("guidance_scale", "float64"),
    ("scheduler", "string"), ("width", "int64"), ("height", "int64"), ("batch_size", "int64"),
    ("strength", "float64"), *_CONTROL_COLUMNS,
    *[(f"model_{role}{part}", "string") for role in MODEL_ROLES for part in ("", "_fingerprint")],
    ("device", "string"), ("family", "string"), *[(f"seconds_{name}", "float64") for name in TIMINGS],
    ("verdict", "string"), ("rating", "int64"), ("comment", "string"), ("kept", "bool"),
    ("feedback_count", "int64"), ("generation_verdict", "string"), ("generation_rating", "int64"),
    ("generation_comment", "string"),
    ("used_as_reference", "bool"), ("refined", "int64"), ("rerun", "int64"), ("seconds_to_feedback", "float64"),
]
RESULTS_SCHEMA = hf_schema(RESULT_COLUMNS)


def _number(value: Any, kind: type) -> Any:
    return kind(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else None


def _text(value: Any) -> str | None:
    return value if isinstance(value, str) else None


def _models(payload: dict[str, Any]) -> dict[str, Any]:
    models = payload.get("models") or {}
    identities = models.get("models") if isinstance(models.get("models"), list) else []
    row: dict[str, Any] = {}
    for identity in identities:
        role = identity.get("role") if isinstance(identity, dict) else None
        if role in MODEL_ROLES:
            row[f"model_{role}"] = _text(identity.get("hub_id")) or _text(identity.get("source"))
            row[f"model_{role}_fingerprint"] = _text(identity.get("fingerprint"))
    row["device"], row["family"] = _text(models.get("device")), _text(models.get("family"))
    return row


def result_row(image: ResultImage, data: bytes, blob: Any, pose: str | None) -> dict[str, Any]:
    """The results-table row of one image; `data` is its PNG, `blob(hash)` gives other blobs' bytes."""
    request, payload = image.request, image.payload
    row: dict[str, Any] = {
        "generation": image.generation, "image_index": image.index, "images_in_generation": image.count,
        "seed": image.seed, "revision": image.revision, "branch": image.branch, "time": image.time,
        "status": payload["status"], "image": image_cell(data), "image_sha256": image.image_hash,
        "pose_keypoints": pose,
        "init_image": image_cell(blob(request["init_image"]) if request.get("init_image") else None),
        "prompt": request.get("prompt", ""), "negative_prompt": _text(request.get("negative_prompt")) or "",
        "steps": _number(request.get("steps"), int), "guidance_scale": _number(request.get("guidance_scale"), float),
        "scheduler": _text(request.get("scheduler")), "width": _number(request.get("width"), int),
        "height": _number(request.get("height"), int), "batch_size": _number(request.get("batch_size"), int),
        "strength": _number(request.get("strength"), float) if request.get("init_image") else None,
        **_models(payload),
        **{f"seconds_{name}": _number(payload["timings"].get(name), float) for name in TIMINGS},
        "verdict": image.verdict, "rating": image.rating, "comment": image.comment, "kept": image.kept,
        "feedback_count": len(image.feedback),
        "generation_verdict": _latest(image.generation_feedback, "verdict"),
        "generation_rating": _latest(image.generation_feedback, "rating"),
        "generation_comment": _latest(image.generation_feedback, "comment"),
        "used_as_reference": image.used_as_reference, "refined": image.refined, "rerun": image.rerun,
        "seconds_to_feedback": image.seconds_to_feedback,
    }
    for kind in CONTROL_KINDS:
        control = image.control(kind) or {}
        row[f"control_{kind}"] = image_cell(blob(control["image"]) if control.get("image") else None)
        for name in ("weight", "start", "end"):
            row[f"{kind}_{name}"] = _number(control.get(name), float)
        row[f"{kind}_mode"], row[f"{kind}_resize_mode"] = _text(control.get("mode")), _text(control.get("resize_mode"))
    return row


def _latest(feedback: list, name: str) -> Any:
    return next((getattr(f, name) for f in reversed(feedback) if getattr(f, name) is not None), None)
