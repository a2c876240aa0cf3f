"""The whole pipeline, step by step, and `build_default`, which rebuilds the shipped model from scratch.

Every step reads and writes plain files (JSONL examples, candidates and kept calls; model folders), so each can
be run, inspected and repeated on its own from the command line. Seeds are fixed throughout.
"""

from __future__ import annotations

import json
import random
import shutil
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path

import torch

from studio.assistant.errors import AssistantError
from studio.assistant.model import load_model
from studio.assistant.train.base import BASE_SETTINGS, COPY_DRILLS, train_base
from studio.assistant.train.corpus import CorpusSizes, build_corpus
from studio.assistant.train.examples import Example, read_examples, write_examples
from studio.assistant.train.filtering import KeptCall, filter_candidates
from studio.assistant.train.finetune import FINETUNE_DRILLS, FINETUNE_SETTINGS, finetune
from studio.assistant.train.lm import ModelSize, TrainSettings
from studio.assistant.train.merge import merge_calls
from studio.assistant.train.sampling import Candidate, sample_candidates
from studio.assistant.train.sources import load_shared_data

BASE_FOLDER = "base"
HINT_SUFFIX = "-hint"  # documents with bracketed working: they teach the base model to copy, and are left out
                       # of fine-tuning so that the only bracket the fine-tuned model writes starts a call


@dataclass(frozen=True)
class BuildSettings:
    """Everything `build_default` decides; the defaults build the shipped model."""

    seed: int = 0
    corpus: CorpusSizes = CorpusSizes()
    size: ModelSize = ModelSize()
    drills: int = COPY_DRILLS
    base: TrainSettings = BASE_SETTINGS
    finetune: TrainSettings = FINETUNE_SETTINGS
    finetune_drills: int = FINETUNE_DRILLS
    tau_s: float = 0.005  # the paper's 0.05 leaves out most documents: the base model gives ` [` a median 1.2 %
                          # at the best position of a design or date answer; 66-82 % of them reach 0.005
    positions: int = 1
    calls_per_tool: int = 12
    prompt_share: float = 0.05  # share of prompt-writing documents searched for calls (they rarely need one)
    search_limit: int = 20000  # at most this many documents are searched for calls (the default corpus has 13,272)
    top_k: int = 2  # the call rule's k written into the model's info file (measured; see the README)
    threads: int = 1

    def with_threads(self, threads: int) -> BuildSettings:
        return replace(self, threads=threads, base=replace(self.base, threads=threads),
                       finetune=replace(self.finetune, threads=threads))


def write_jsonl(path: Path, records: Sequence[dict]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8") as handle:
        for record in records:
            handle.write(json.dumps(record, ensure_ascii=False) + "\n")


def read_jsonl(path: Path) -> list[dict]:
    try:
        return [json.loads(line) for line in Path(path).read_text(encoding="utf-8").splitlines() if line.strip()]
    except OSError as exc:
        raise AssistantError(f"Cannot read {path}: {exc.strerror}.") from exc
    except ValueError as exc:
        raise AssistantError(f"{path} is not valid JSONL: {exc}.") from exc


def searched_for_calls(examples: Sequence[Example], *, prompt_share: float, seed: int) -> list[int]:
    """Indices of the documents that may be searched for calls: all but hinted documents (left out of
    fine-tuning, see HINT_SUFFIX) and a `1 - prompt_share` sample of prompt writing and follow-ups."""
    rng = random.Random(seed)
    return [i for i, e in enumerate(examples) if not e.kind.endswith(HINT_SUFFIX)
            and (e.kind not in ("prompt", "followup") or rng.random() < prompt_share)]


def _limit(indices: list[int], limit: int, seed: int) -> list[int]:
    if len(indices) <= limit:
        return indices
    return sorted(random.Random(seed).sample(indices, limit))


def step_sample(model_dir: Path, corpus: Path, out: Path, *, settings: BuildSettings = BuildSettings(),
                log: Callable[[str], None] = print) -> list[Candidate]:
    examples = list(read_examples(corpus))
    chosen = _limit(searched_for_calls(examples, prompt_share=settings.prompt_share, seed=settings.seed),
                    settings.search_limit, settings.seed)
    loaded = load_model(model_dir)
    found = sample_candidates(loaded.model, loaded.tokenizer, [examples[i] for i in chosen], tau_s=settings.tau_s,
                              positions=settings.positions, calls_per_tool=settings.calls_per_tool,
                              seed=settings.seed, log=log)
    for candidate in found:
        candidate.index = chosen[candidate.index]
    write_jsonl(out, [c.to_json() for c in found])
    return found


def step_filter(model_dir: Path, corpus: Path, candidates: Path, out: Path, *,
                log: Callable[[str], None] = print) -> list[KeptCall]:
    examples = list(read_examples(corpus))
    found = [Candidate.from_json(record) for record in read_jsonl(candidates)]
    loaded = load_model(model_dir)
    kept = filter_candidates(loaded.model, loaded.tokenizer, examples, found, log=log)
    write_jsonl(out, [k.to_json() for k in kept])
    return kept


def step_finetune(model_dir: Path, corpus: Path, kept: Path, out: Path, *,
                  settings: TrainSettings = FINETUNE_SETTINGS, drills: int = FINETUNE_DRILLS,
                  top_k: int | None = None, merged_out: Path | None = None,
                  log: Callable[[str], None] = print) -> Path:
    examples = list(read_examples(corpus))
    calls = [KeptCall.from_json(record) for record in read_jsonl(kept)]
    merged = [e for e in merge_calls(examples, calls) if not e.kind.endswith(HINT_SUFFIX)]
    if merged_out is not None:
        write_examples(merged_out, merged)
    return finetune(model_dir, merged, out, settings=settings, drills=drills, top_k=top_k, log=log)


def build_default(data: Path, out: Path, *, work: Path, settings: BuildSettings = BuildSettings(),
                  log: Callable[[str], None] = print) -> Path:
    """Rebuild the default model into `out` (its base model into `out/base`), using `work` for step files."""
    torch.set_num_threads(settings.threads)
    started = time.monotonic()
    work = Path(work)
    shared = load_shared_data(data)
    corpus_path = work / "corpus.jsonl"
    corpus = build_corpus(shared, seed=settings.seed, sizes=settings.corpus)
    write_examples(corpus_path, corpus)
    log(f"corpus: {len(corpus)} documents")
    base_dir = work / "base"
    train_base(corpus, base_dir, size=settings.size, settings=settings.base, drills=settings.drills, log=log)
    log(f"base model trained ({time.monotonic() - started:.0f} s)")
    step_sample(base_dir, corpus_path, work / "candidates.jsonl", settings=settings, log=log)
    kept = step_filter(base_dir, corpus_path, work / "candidates.jsonl", work / "kept.jsonl", log=log)
    log(f"kept {len(kept)} calls ({time.monotonic() - started:.0f} s)")
    out = Path(out)
    if out.exists():
        shutil.rmtree(out)
    step_finetune(base_dir, corpus_path, work / "kept.jsonl", out, settings=settings.finetune,
                  drills=settings.finetune_drills, top_k=settings.top_k, merged_out=work / "merged.jsonl",
                  log=log)
    shutil.copytree(base_dir, out / BASE_FOLDER)
    log(f"default model written to {out} ({time.monotonic() - started:.0f} s)")
    return out
