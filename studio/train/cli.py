"""`studio train ...`: train from what the designer accepted.

    studio train lora --data DIR --model MODEL --out FILE.safetensors [--steps N --rank R --lr X --resolution R
                      --batch B --text-encoder] [common options]
    studio train controlnet --data DIR --model MODEL --kind edge|pose|depth --out DIR [--from CONTROLNET]
                      [--prompt-dropout P --control-dropout P] [common options]
    common: [--seed N] [--precision auto|fp32|fp16|bf16] [--no-gradient-checkpointing] [--validate-every N]
            [--validation-steps N] [--held-out N] [--checkpoint-every N] [--work DIR] [--resume]
            [--document DOC.studio] [--device auto|cpu|cuda] [--allow-pickle]

DIR is a training export (`studio history export DOC... --format controlnet --kind KIND --out DIR`). Several GPUs
or machines: `accelerate launch --multi_gpu -m studio.cli train lora ...` (see the README).
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

_DEFAULTS = {"lora": {"steps": 500, "lr": 1e-4}, "controlnet": {"steps": 1000, "lr": 1e-5}}


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser("train", help="train a LoRA or a ControlNet on a training export")
    tasks = parser.add_subparsers(dest="task", metavar="TASK")
    tasks.required = True
    lora = tasks.add_parser("lora", help="a style LoRA of the base UNet (.safetensors for --lora)")
    _common(lora, "lora")
    lora.add_argument("--out", required=True, type=Path, metavar="FILE.safetensors", help="the LoRA file to write")
    lora.add_argument("--rank", type=int, default=8, help="LoRA rank (default 8; alpha = rank)")
    lora.add_argument("--text-encoder", action="store_true", help="also adapt the text encoder (SD 1.x/2.x)")
    lora.set_defaults(func=_run)
    controlnet = tasks.add_parser("controlnet", help="fine-tune or start a ControlNet (a folder for --controlnet)")
    _common(controlnet, "controlnet")
    controlnet.add_argument("--out", required=True, type=Path, metavar="DIR", help="the ControlNet folder to write")
    controlnet.add_argument("--kind", required=True, choices=("edge", "pose", "depth"), help="its control kind")
    controlnet.add_argument("--from", dest="start_from", metavar="CONTROLNET",
                            help="fine-tune this ControlNet (folder, file or hub id); default: a new one made "
                                 "from the base UNet (zero convolutions)")
    controlnet.add_argument("--prompt-dropout", type=float, default=0.5,
                            help="share of prompts replaced by the empty prompt (default 0.5, as in the paper)")
    controlnet.add_argument("--control-dropout", type=float, default=0.0,
                            help="share of control maps replaced by black (default 0)")
    controlnet.set_defaults(func=_run)


def _common(parser: argparse.ArgumentParser, task: str) -> None:
    defaults = _DEFAULTS[task]
    parser.add_argument("--data", required=True, type=Path, metavar="DIR", help="a training export folder")
    parser.add_argument("--model", required=True, help="the base model: diffusers folder, .safetensors file or "
                                                       "cached hub id")
    parser.add_argument("--steps", type=int, default=defaults["steps"], help=f"default {defaults['steps']}")
    parser.add_argument("--lr", type=float, default=defaults["lr"], help=f"learning rate (default {defaults['lr']})")
    parser.add_argument("--resolution", type=int, default=512, help="training size in pixels (default 512)")
    parser.add_argument("--batch", type=int, default=1, help="images per step and process (default 1)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--precision", choices=("auto", "fp32", "fp16", "bf16"), default="auto",
                        help="mixed precision on CUDA (auto: bf16 where supported, else fp16); the CPU uses fp32")
    parser.add_argument("--no-gradient-checkpointing", action="store_true",
                        help="faster, but needs more memory")
    parser.add_argument("--validate-every", type=int, default=100, help="validation images every N steps "
                                                                        "(0: only at the end; default 100)")
    parser.add_argument("--validation-steps", type=int, default=20, help="denoising steps of a validation image")
    parser.add_argument("--held-out", type=int, help="rows kept out of training for validation "
                                                     "(default: one in ten, at least one)")
    parser.add_argument("--checkpoint-every", type=int, default=250, help="checkpoint every N steps (default 250)")
    parser.add_argument("--work", type=Path, metavar="DIR", help="checkpoints and validation images "
                                                                  "(default OUT.train next to the output)")
    parser.add_argument("--resume", action="store_true", help="continue from the newest checkpoint in --work")
    parser.add_argument("--document", type=Path, metavar="DOC.studio", help="log the run in this document's history")
    parser.add_argument("--device", choices=("auto", "cpu", "cuda"), default="auto")
    parser.add_argument("--allow-pickle", action="store_true", help="allow pickle checkpoints (.ckpt .pt .bin)")
    parser.add_argument("--progress", choices=("bar", "json"), default="bar",
                        help="bar: a progress bar with the loss (default); json: one JSON object a line on stdout "
                             "(for programs, e.g. the window: {\"step\", \"total\", \"loss\"}, then "
                             "{\"status\", \"output\", ...})")
    parser.add_argument("--stop-file", type=Path, metavar="PATH",
                        help="stop (saving a checkpoint) as soon as this file exists")


def job_from_args(args: argparse.Namespace) -> Any:
    from studio.train.options import TrainOptions
    from studio.train.run import TrainJob

    lora = args.task == "lora"
    options = TrainOptions(
        steps=args.steps, lr=args.lr, resolution=args.resolution, batch=args.batch, seed=args.seed,
        rank=args.rank if lora else 8, text_encoder=args.text_encoder if lora else False,
        prompt_dropout=0.5 if lora else args.prompt_dropout, control_dropout=0.0 if lora else args.control_dropout,
        precision=args.precision, gradient_checkpointing=not args.no_gradient_checkpointing,
        validate_every=args.validate_every, validation_steps=args.validation_steps,
        checkpoint_every=args.checkpoint_every, held_out=args.held_out, device=args.device,
    )
    return TrainJob(task=args.task, data=args.data, model=args.model, out=args.out, options=options,
                    kind=None if lora else args.kind, start_from=None if lora else args.start_from, work=args.work,
                    resume=args.resume, document=args.document, allow_pickle=args.allow_pickle)


def _run(args: argparse.Namespace) -> int:
    import json
    import os
    import sys

    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    from studio.train.run import train

    job = job_from_args(args)
    lines = args.progress == "json"

    def progress(step: int, total: int, loss: float) -> None:
        print(json.dumps({"step": step, "total": total, "loss": round(loss, 6)}), flush=True)

    stop_file = args.stop_file
    report = train(job, on_progress=progress if lines else None, show_bar=not lines,
                   should_stop=(lambda: stop_file.exists()) if stop_file is not None else None)
    if os.environ.get("RANK", "0") != "0":
        return 0
    if lines:
        print(json.dumps({"status": report.status, "steps": report.steps,
                          "output": str(job.out.resolve()) if report.status == "ok" else None,
                          "work": str(job.work_dir), "eval_loss": [report.eval_loss_start, report.eval_loss_end],
                          "validation": [str(p) for p in report.validation], "seconds": round(report.seconds, 2)}),
              flush=True)
    _summary(job, report, file=sys.stderr if lines else sys.stdout)
    return 0 if report.status == "ok" else 130


def _summary(job: Any, report: Any, *, file: Any) -> None:
    losses = report.losses
    first = losses[0][1] if losses else float("nan")
    last = losses[-1][1] if losses else float("nan")
    lines = [f"{report.status}: {report.steps} steps on {report.device} ({report.mixed_precision} mixed precision, "
             f"{report.processes} process(es)) in {report.seconds:.1f} s; loss {first:.4f} -> {last:.4f}"]
    if report.eval_loss_start is not None and report.eval_loss_end is not None:
        lines.append(f"fixed-noise loss on the training rows: {report.eval_loss_start:.4f} -> "
                     f"{report.eval_loss_end:.4f}")
    if report.validation:
        lines.append(f"validation images: {report.validation[-1].parent}")
    if report.status == "ok":
        lines.append(f"wrote {job.out}")
    else:
        lines.append(f"stopped; resume with the same command and --resume (checkpoints in {job.work_dir})")
    if job.document is not None:
        lines.append(f"logged in {job.document}")
    print("\n".join(lines), file=file)
