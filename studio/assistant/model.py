"""Finding, loading and saving assistant models (any local transformers causal LM folder).

The project's own models carry `studio_assistant.json` (`{"style": "plain", "top_k": K}`): they were trained
on `User:/Assistant:` documents with calls, and K is the call rule's k measured best for the model (the paper's
10 when absent). Any other causal LM folder is used in "few-shot" style (see
`prompting`). The default model ships in `resources/assistant`.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from studio.assistant.errors import AssistantError

DEFAULT_MODEL_DIR = Path(__file__).resolve().parents[2] / "resources" / "assistant"
INFO_FILE = "studio_assistant.json"
MAX_CONTEXT = 2048
DEFAULT_TOP_K = 10  # the paper's k: a call starts when `[` is among the 10 most likely next tokens


@dataclass
class LoadedModel:
    """A causal LM, its tokenizer, the prompt style it expects and how many tokens it can attend to."""

    model: object
    tokenizer: object
    style: str
    context: int
    path: Path
    top_k: int = 10


def save_model(model, tokenizer, out: Path, *, style: str = "plain", top_k: int | None = None) -> None:
    """Save weights (safetensors), tokenizer and the assistant info file (`style`, and the `top_k` of the call
    rule that suits this model, when it differs from the paper's 10) to `out`."""
    from transformers.utils import logging

    logging.disable_progress_bar()
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    model.save_pretrained(out)
    tokenizer.save_pretrained(out)
    info = {"style": style} if top_k is None else {"style": style, "top_k": top_k}
    (out / INFO_FILE).write_text(json.dumps(info, indent=2) + "\n", encoding="utf-8")


def load_model(path: str | Path | None = None, *, device: str = "cpu") -> LoadedModel:
    """Load the model folder at `path` (default: the shipped model); problems become an AssistantError."""
    folder = Path(path) if path is not None else DEFAULT_MODEL_DIR
    if not folder.is_dir():
        raise AssistantError(f"No assistant model folder at {folder}.")
    if not (folder / "config.json").is_file():
        raise AssistantError(f"{folder} is not a model folder: it has no config.json.")
    settings = {"style": "few-shot"}
    info = folder / INFO_FILE
    if info.is_file():
        try:
            settings = {"style": "plain", **json.loads(info.read_text(encoding="utf-8"))}
        except (ValueError, TypeError) as exc:
            raise AssistantError(f"{info} is not valid JSON: {exc}.") from exc
    from transformers import AutoModelForCausalLM, AutoTokenizer
    from transformers.utils import logging

    logging.disable_progress_bar()
    try:
        tokenizer = AutoTokenizer.from_pretrained(folder)
        model = AutoModelForCausalLM.from_pretrained(folder).to(device)
    except Exception as exc:  # transformers and safetensors raise many types for broken folders
        raise AssistantError(f"Cannot load the assistant model at {folder}: {exc}".rstrip(".") + ".") from exc
    model.eval()
    context = min(MAX_CONTEXT, int(getattr(model.config, "max_position_embeddings", 0) or MAX_CONTEXT))
    return LoadedModel(model=model, tokenizer=tokenizer, style=str(settings["style"]), context=context, path=folder,
                       top_k=int(settings.get("top_k", DEFAULT_TOP_K)))
