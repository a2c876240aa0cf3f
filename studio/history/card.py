"""Dataset cards (`README.md`) for the export's results table and the training presets: a YAML header that
`datasets` reads (the data files of the `train` split), then the schema, the counts and what each signal means."""

from __future__ import annotations

from typing import Any

import pyarrow as pa

CONTROL_HELP = "weight, start and end (fractions of the steps), mode and resize mode of the {kind} ControlNet"
COLUMN_HELP: dict[str, str] = {
    "generation": "event id of the generation in the document's history",
    "image_index": "index of this image in its generation's batch",
    "images_in_generation": "how many images the generation made",
    "seed": "this image's own seed (the generation's seed + image_index; the seed its PNG file carries)",
    "revision": "history revision the generation produced", "branch": "history branch it was made on",
    "time": "when it was generated (Unix seconds)", "status": "ok or cancelled",
    "image": "the result image (PNG bytes embedded)", "image_sha256": "sha256 of the PNG: the image's identity",
    "control_edge": "the edge map it was generated from", "control_pose": "the rendered pose map",
    "control_depth": "the depth map",
    "pose_keypoints": "OpenPose JSON of the document's pose layer at that moment (pose controls only)",
    "init_image": "the image it refined (img2img), if any",
    "prompt": "prompt", "negative_prompt": "negative prompt", "steps": "sampling steps",
    "guidance_scale": "classifier-free guidance scale", "scheduler": "sampler",
    "width": "width in pixels", "height": "height in pixels", "batch_size": "images requested in the batch",
    "strength": "refine strength (img2img only)",
    "device": "device and precision it ran on", "family": "model family (sd15, sdxl, ...)",
    "verdict": "this image's latest verdict: accept or reject", "rating": "this image's latest star rating, 1-5",
    "comment": "this image's latest comment",
    "kept": "true: accepted (or 4-5 stars with no verdict); false: rejected (or 1-2 stars); null: neither",
    "feedback_count": "feedback events on this image",
    "generation_verdict": "verdict given to the whole batch (batches of several images only; not copied to images)",
    "generation_rating": "rating given to the whole batch (as above)",
    "generation_comment": "comment on the whole batch (as above)",
    "used_as_reference": "the designer later set exactly this image as the reference picture",
    "refined": "how many later generations refined this image",
    "rerun": "how many later generations re-ran this image's request with its seed",
    "seconds_to_feedback": "seconds from the generation to this image's first own feedback",
    # training presets
    "conditioning_image": "the control map (ControlNet input)", "text": "the prompt",
    "caption": "the prompt both images were made for",
    "jpg_0": "first image, encoded bytes (PNG here; Pick-a-Pic v2 names the columns jpg_*)",
    "jpg_1": "second image, encoded bytes",
    "label_0": "1.0 when the designer preferred image 0, else 0.0", "label_1": "1 - label_0",
    "image_0_uid": "sha256 of image 0", "image_1_uid": "sha256 of image 1", "document": "source document name",
}


def _type_name(field: pa.Field) -> str:
    return "Image" if pa.types.is_struct(field.type) else str(field.type)


def _column_help(name: str) -> str:
    if name in COLUMN_HELP:
        return COLUMN_HELP[name]
    if name.startswith("model_"):
        role = name[6:].removesuffix("_fingerprint")
        what = "base model" if role == "base" else f"{role} ControlNet"
        return f"fingerprint of the {what}'s files" if name.endswith("_fingerprint") else \
            f"Hugging Face id or path of the {what}"
    if name.startswith("seconds_"):
        return f"{name[8:]} time of the generation in seconds"
    kind = name.split("_", 1)[0]
    if kind in ("edge", "pose", "depth"):
        return CONTROL_HELP.format(kind=kind)
    return ""


def dataset_card(*, title: str, summary: str, schema: pa.Schema, counts: dict[str, Any], data_files: str | None,
                 notes: list[str] = ()) -> str:
    """The card text. `data_files` is the glob of the train split's Parquet files (None: no YAML header)."""
    lines = []
    if data_files is not None:
        lines += ["---", "configs:", "- config_name: default", "  data_files:", "  - split: train",
                  f"    path: {data_files}", "tags:", "- controlnet-studio", "---", ""]
    lines += [f"# {title}", "", summary, "", "## Counts", ""]
    lines += [f"- {name}: {value}" for name, value in counts.items()]
    lines += ["", "## Columns", "", "| column | type | meaning |", "|---|---|---|"]
    lines += [f"| `{f.name}` | {_type_name(f)} | {_column_help(f.name)} |" for f in schema]
    if notes:
        lines += ["", "## Notes", ""] + [f"- {note}" for note in notes]
    return "\n".join(lines) + "\n"
