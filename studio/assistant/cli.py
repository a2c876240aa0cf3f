"""`studio assistant ...`: ask, batch-answer, and every step of building and evaluating the Toolformer model.

    studio assistant build-default --data ../shared/data --out resources/assistant
    studio assistant build-corpus --data ../shared/data --out work/corpus.jsonl
    studio assistant train-base --corpus work/corpus.jsonl --out work/base
    studio assistant sample-calls --model work/base --corpus work/corpus.jsonl --out work/candidates.jsonl
    studio assistant filter-calls --model work/base --corpus work/corpus.jsonl --candidates work/candidates.jsonl
        --out work/kept.jsonl
    studio assistant finetune --model work/base --corpus work/corpus.jsonl --calls work/kept.jsonl --out work/toolformer
    studio assistant eval [--data ../shared/data] [--model PATH] [--base PATH]
    studio assistant answer --input Q.jsonl --output A.jsonl [--today YYYY-MM-DD] [--no-tools] [--model PATH]
    studio assistant ask "a poster of a red fox in a forest, watercolor"
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

DEFAULT_DATA = Path(__file__).resolve().parents[2].parent / "shared" / "data"


def _threads(args) -> None:
    import torch

    torch.set_num_threads(args.threads)


def _ask(args) -> int:
    from studio.assistant.assistant import Assistant
    from studio.assistant.batch import parse_today

    _threads(args)
    assistant = Assistant.load(args.model)
    reply = assistant.generate_reply(args.question, today=parse_today(args.today), tools=not args.no_tools,
                                     max_new_tokens=args.max_new_tokens, top_k=args.top_k,
                                     on_token=lambda piece: print(piece.visible, end="", flush=True))
    print()
    if args.raw:
        print(f"raw: {reply.raw}")
    for note in reply.notes:
        print(f"note: {note}", file=sys.stderr)
    return 0


def _answer(args) -> int:
    from studio.assistant.assistant import Assistant
    from studio.assistant.batch import answer_file, parse_today

    _threads(args)
    assistant = Assistant.load(args.model)
    answered, failed = answer_file(assistant, args.input, args.output, today=parse_today(args.today),
                                   tools=not args.no_tools, max_new_tokens=args.max_new_tokens, top_k=args.top_k)
    print(f"answered {answered} questions into {args.output}" + (f"; {failed} lines skipped" if failed else ""))
    return 0 if not failed else 1


def _build_corpus(args) -> int:
    from studio.assistant.train.corpus import build_corpus
    from studio.assistant.train.examples import write_examples
    from studio.assistant.train.sources import load_shared_data

    count = write_examples(args.out, build_corpus(load_shared_data(args.data), seed=args.seed))
    print(f"wrote {count} documents to {args.out}")
    return 0


def _train_base(args) -> int:
    from dataclasses import replace

    from studio.assistant.train.base import BASE_SETTINGS, train_base
    from studio.assistant.train.examples import read_examples

    epochs = BASE_SETTINGS.epochs if args.epochs is None else args.epochs
    settings = replace(BASE_SETTINGS, epochs=epochs, seed=args.seed, threads=args.threads)
    train_base(list(read_examples(args.corpus)), args.out, settings=settings)
    return 0


def _sample_calls(args) -> int:
    from studio.assistant.train.build import BuildSettings, step_sample

    _threads(args)
    settings = BuildSettings(seed=args.seed) if args.tau_s is None else BuildSettings(tau_s=args.tau_s, seed=args.seed)
    found = step_sample(args.model, args.corpus, args.out, settings=settings)
    print(f"wrote {len(found)} candidate positions to {args.out}")
    return 0


def _filter_calls(args) -> int:
    from studio.assistant.train.build import step_filter

    _threads(args)
    kept = step_filter(args.model, args.corpus, args.candidates, args.out)
    print(f"kept {len(kept)} calls in {args.out}")
    return 0


def _finetune(args) -> int:
    from dataclasses import replace

    from studio.assistant.train.build import BuildSettings, step_finetune
    from studio.assistant.train.finetune import FINETUNE_SETTINGS

    epochs = FINETUNE_SETTINGS.epochs if args.epochs is None else args.epochs
    top_k = BuildSettings().top_k if args.top_k is None else args.top_k
    settings = replace(FINETUNE_SETTINGS, epochs=epochs, threads=args.threads)
    step_finetune(args.model, args.corpus, args.calls, args.out, settings=settings, top_k=top_k)
    return 0


def _build_default(args) -> int:
    from studio.assistant.train.build import BuildSettings, build_default

    work = args.work or Path(args.out).with_name(Path(args.out).name + "-work")
    build_default(args.data, args.out, work=work, settings=BuildSettings().with_threads(args.threads))
    return 0


def _eval(args) -> int:
    from studio.assistant.assistant import Assistant
    from studio.assistant.model import DEFAULT_MODEL_DIR
    from studio.assistant.train.build import BASE_FOLDER
    from studio.assistant.train.corpus import EvalSizes, build_corpus, build_eval_sets
    from studio.assistant.train.evaluate import evaluate_models, format_table
    from studio.assistant.train.sources import load_shared_data

    _threads(args)
    model_dir = Path(args.model) if args.model else DEFAULT_MODEL_DIR
    base_dir = Path(args.base) if args.base else model_dir / BASE_FOLDER
    shared = load_shared_data(args.data)
    sizes = EvalSizes(design=args.n, date=args.n, prompt=args.n, followup=args.n, word_per_set=args.n_word)
    sets = build_eval_sets(shared, training=build_corpus(shared, seed=args.seed), sizes=sizes)
    toolformer = Assistant.load(model_dir)
    models = {"base": (Assistant.load(base_dir), False), "Toolformer (disabled)": (toolformer, False),
              "Toolformer": (toolformer, True)}
    print(format_table(evaluate_models(models, sets, log=lambda m: print(m, file=sys.stderr))))
    return 0


def register(subparsers) -> None:
    parser = subparsers.add_parser("assistant", help="the Toolformer chat assistant: ask, answer, train, evaluate")
    steps = parser.add_subparsers(dest="assistant_command", metavar="STEP", required=True)

    def step(name: str, handler, help_text: str, *, threads: int = 1) -> argparse.ArgumentParser:
        sub = steps.add_parser(name, help=help_text)
        sub.add_argument("--threads", type=int, default=threads, help=f"CPU threads for torch (default {threads})")
        sub.set_defaults(func=handler)
        return sub

    def reply_options(sub: argparse.ArgumentParser) -> None:
        sub.add_argument("--model", type=Path, default=None, help="model folder (default: resources/assistant)")
        sub.add_argument("--today", default=None, help="the Calendar's date, YYYY-MM-DD (default: today)")
        sub.add_argument("--no-tools", action="store_true", help="never call a tool")
        sub.add_argument("--max-new-tokens", type=int, default=80)
        sub.add_argument("--top-k", type=int, default=None,
                         help="start a call when [ is among the K likeliest tokens (default: the model's own K)")

    sub = step("ask", _ask, "answer one question, streaming the reply", threads=2)
    sub.add_argument("question")
    sub.add_argument("--raw", action="store_true", help="also print the raw reply with its calls")
    reply_options(sub)

    sub = step("answer", _answer, "answer questions from a JSONL file into another", threads=2)
    sub.add_argument("--input", type=Path, required=True)
    sub.add_argument("--output", type=Path, required=True)
    reply_options(sub)

    sub = step("build-corpus", _build_corpus, "(a) write the plain-text training corpus")
    sub.add_argument("--data", type=Path, default=DEFAULT_DATA)
    sub.add_argument("--out", type=Path, required=True)
    sub.add_argument("--seed", type=int, default=0)

    sub = step("train-base", _train_base, "(b) train the tokenizer and base model on a corpus")
    sub.add_argument("--corpus", type=Path, required=True)
    sub.add_argument("--out", type=Path, required=True)
    sub.add_argument("--epochs", type=float, default=None, help="default: as build-default")
    sub.add_argument("--seed", type=int, default=0)

    sub = step("sample-calls", _sample_calls, "(c) find call positions and propose calls")
    sub.add_argument("--model", type=Path, required=True)
    sub.add_argument("--corpus", type=Path, required=True)
    sub.add_argument("--out", type=Path, required=True)
    sub.add_argument("--tau-s", type=float, default=None, help="default: as build-default")
    sub.add_argument("--seed", type=int, default=0)

    sub = step("filter-calls", _filter_calls, "(d) run the calls and keep those that lower the loss")
    sub.add_argument("--model", type=Path, required=True)
    sub.add_argument("--corpus", type=Path, required=True)
    sub.add_argument("--candidates", type=Path, required=True)
    sub.add_argument("--out", type=Path, required=True)

    sub = step("finetune", _finetune, "(e) merge kept calls into the corpus and fine-tune")
    sub.add_argument("--model", type=Path, required=True)
    sub.add_argument("--corpus", type=Path, required=True)
    sub.add_argument("--calls", type=Path, required=True)
    sub.add_argument("--out", type=Path, required=True)
    sub.add_argument("--epochs", type=float, default=None, help="default: as build-default")
    sub.add_argument("--top-k", type=int, default=None,
                     help="the call rule's k to record with the model (default: as build-default)")

    sub = step("build-default", _build_default, "rebuild the shipped model from scratch (fixed seeds)")
    sub.add_argument("--data", type=Path, default=DEFAULT_DATA)
    sub.add_argument("--out", type=Path, default=Path("resources/assistant"))
    sub.add_argument("--work", type=Path, default=None, help="folder for step files (default: OUT-work)")

    sub = step("eval", _eval, "accuracy of base, Toolformer without tools and Toolformer on held-out sets", threads=2)
    sub.add_argument("--data", type=Path, default=DEFAULT_DATA)
    sub.add_argument("--model", type=Path, default=None)
    sub.add_argument("--base", type=Path, default=None, help="base model (default: MODEL/base)")
    sub.add_argument("--n", type=int, default=100, help="questions per generated set")
    sub.add_argument("--n-word", type=int, default=60, help="questions per word-problem set")
    sub.add_argument("--seed", type=int, default=0)
