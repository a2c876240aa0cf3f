"""The training loop both trainers share, on 🤗 accelerate.

`Accelerator` places the model, wraps it for distributed data parallel when started by `accelerate launch` with
several processes (`--multi_gpu`, `--num_machines`), runs the forward pass under autocast in the run's mixed
precision and scales the loss for fp16. One process on a CPU or one GPU is the default: the same code runs both
ways. Only the main process writes validation images, checkpoints' extra files and the output.

Checkpoints are accelerate states (`save_state` / `load_state`: optimizer, learning-rate schedule and random
states) whose model part is only what is trained (a hook saves the LoRA or ControlNet weights instead of the whole
wrapped model), plus `progress.json` (step, losses, data hash). `resume` continues from the newest one; it refuses
a checkpoint of other data or of another kind of run.

A run stops early when `should_stop()` turns true or on Ctrl-C: it then saves a checkpoint (so it can be resumed)
and reports "cancelled" without writing the output.
"""

from __future__ import annotations

import json
import math
import os
import re
import shutil
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Protocol

from studio.train.data import PairDataset, TrainingSet, collate
from studio.train.errors import TrainError
from studio.train.options import TrainOptions, mixed_precision

CHECKPOINTS = "checkpoints"
VALIDATION = "validation"
PROGRESS = "progress.json"
TRAINED = "trained.safetensors"
KEEP_CHECKPOINTS = 2
EVAL_ROWS = 8  # rows of the fixed-noise evaluation loss
MAX_LOGGED_LOSSES = 500  # losses kept in the history event (evenly thinned beyond)

ProgressCallback = Callable[[int, int, float], None]


class Task(Protocol):
    """What a trainer adds to the loop (see lora.py and controlnet.py)."""

    name: str

    def place(self, device: Any, dtype: Any) -> None: ...
    def model(self) -> Any: ...
    def loss(self, model: Any, batch: dict[str, Any], *, generator: Any = None, eval_mode: bool = False) -> Any: ...
    def validation_images(self, model: Any, rows: list, *, seed: int) -> list[Any]: ...
    def write_output(self, model: Any, out: Path) -> None: ...


@dataclass
class TrainReport:
    status: str  # ok | cancelled
    steps: int
    losses: list[tuple[int, float]]
    eval_loss_start: float | None
    eval_loss_end: float | None
    seconds: float
    device: str
    mixed_precision: str
    processes: int
    validation: list[Path] = field(default_factory=list)
    resumed_from: int | None = None

    def thinned_losses(self) -> list[list[float]]:
        losses = self.losses
        if len(losses) > MAX_LOGGED_LOSSES:
            stride = math.ceil(len(losses) / MAX_LOGGED_LOSSES)
            losses = losses[::stride] + ([losses[-1]] if (len(losses) - 1) % stride else [])
        return [[int(step), round(float(loss), 6)] for step, loss in losses]


def _checkpoints(work: Path) -> list[tuple[int, Path]]:
    found = []
    for path in (work / CHECKPOINTS).glob("step-*"):
        match = re.fullmatch(r"step-(\d+)", path.name)
        if match and (path / PROGRESS).is_file():
            found.append((int(match.group(1)), path))
    return sorted(found)


def save_trained(model: Any, directory: Path) -> None:
    """The trained weights only (what requires grad), not the frozen base the wrapped model holds."""
    from safetensors.torch import save_file

    directory.mkdir(parents=True, exist_ok=True)
    tensors = {name: p.detach().cpu().contiguous() for name, p in model.named_parameters() if p.requires_grad}
    save_file(tensors, str(directory / TRAINED))


def load_trained(model: Any, directory: Path) -> None:
    from safetensors import SafetensorError
    from safetensors.torch import load_file

    try:
        tensors = load_file(str(directory / TRAINED))
    except (SafetensorError, OSError) as exc:
        raise TrainError(f"The checkpoint {directory} is damaged ({exc}); remove it to resume from an older one.")
    wanted = {name: tuple(p.shape) for name, p in model.named_parameters() if p.requires_grad}
    if {name: tuple(t.shape) for name, t in tensors.items()} != wanted:
        raise TrainError(f"The checkpoint {directory} holds other weights than this run trains (another --rank "
                         "or --text-encoder setting?); resume with the same settings.")
    model.load_state_dict(tensors, strict=False)


def latest_checkpoint(work: Path) -> Path | None:
    found = _checkpoints(work)
    return found[-1][1] if found else None


def _eval_loss(task: Task, model: Any, rows: list, resolution: int, device: Any, seed: int) -> float:
    """The loss on up to EVAL_ROWS training rows with fixed noise and timesteps: comparable across steps."""
    import torch

    items = [PairDataset(rows[:EVAL_ROWS], resolution)[i] for i in range(min(EVAL_ROWS, len(rows)))]
    batch = collate(items)
    batch = {k: v.to(device) if hasattr(v, "to") else v for k, v in batch.items()}
    generator = torch.Generator().manual_seed(seed + 12345)
    was_training = model.training
    model.eval()
    with torch.no_grad():
        value = float(task.loss(model, batch, generator=generator, eval_mode=True))
    model.train(was_training)
    return value


def _out_of_memory(exc: BaseException, step: int, options: TrainOptions, save_checkpoint: Callable[[], None],
                   accelerator: Any) -> TrainError:
    """The sentence for running out of (GPU) memory at `step`, after freeing what can be freed and saving a
    checkpoint of the steps done (when that still fits), so nothing learned so far is lost."""
    import gc

    import torch

    gc.collect()
    if torch.cuda.is_available():
        torch.cuda.empty_cache()
    kept = " --resume goes on from the last checkpoint."
    if step > 0 and accelerator.num_processes == 1:  # with several, the others would wait for it forever
        try:
            save_checkpoint()
            kept = f" The {step} steps done are kept in a checkpoint; add --resume to go on from there."
        except (torch.OutOfMemoryError, RuntimeError, OSError):
            kept = " The last checkpoint could not be saved; --resume goes on from the one before."
    where = "GPU" if accelerator.device.type == "cuda" else "memory"
    advice = [f"--batch {max(1, options.batch // 2)}" if options.batch > 1 else None,
              f"--resolution {max(256, options.resolution // 2 // 8 * 8)}" if options.resolution > 256 else None,
              "gradient checkpointing (leave out --no-gradient-checkpointing)"
              if not options.gradient_checkpointing else None,
              "--precision fp16 or bf16" if options.precision == "fp32" else None]
    tips = ", ".join(a for a in advice if a) or "a smaller model or a GPU with more memory"
    first_line = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    return TrainError(f"Out of {where} at step {step + 1} of {options.steps} ({first_line[:160]}); try {tips}."
                      f"{kept}")


def run_training(task: Task, data: TrainingSet, options: TrainOptions, *, work: Path, out: Path,
                 resume: bool = False, on_progress: ProgressCallback | None = None,
                 should_stop: Callable[[], bool] | None = None, show_bar: bool = True) -> TrainReport:
    """Train `task` on `data` for `options.steps` optimizer steps and write its output to `out`."""
    import torch
    from accelerate import Accelerator
    from accelerate.utils import ProjectConfiguration, set_seed
    from diffusers.optimization import get_scheduler
    from tqdm import tqdm

    started = time.perf_counter()
    cuda = options.device != "cpu" and torch.cuda.is_available()
    if options.device == "cuda" and not cuda:
        raise TrainError("--device cuda was asked for, but CUDA is not available here.")
    precision = mixed_precision(options.precision, cuda=cuda)
    accelerator = Accelerator(mixed_precision=precision, cpu=not cuda,
                              project_config=ProjectConfiguration(project_dir=str(work)))
    set_seed(options.seed + accelerator.process_index)
    weight_dtype = {"fp16": torch.float16, "bf16": torch.bfloat16}.get(precision, torch.float32)
    task.place(accelerator.device, weight_dtype)
    model = task.model()
    params = [p for p in model.parameters() if p.requires_grad]
    if not params:
        raise TrainError("Nothing to train: the model has no trainable weights.")
    optimizer = torch.optim.AdamW(params, lr=options.lr, weight_decay=1e-2)
    warmup = min(100, options.steps // 10)
    scheduler = get_scheduler("constant_with_warmup", optimizer=optimizer,
                              num_warmup_steps=warmup * accelerator.num_processes,
                              num_training_steps=options.steps * accelerator.num_processes)
    loader = torch.utils.data.DataLoader(PairDataset(data.train, options.resolution), batch_size=options.batch,
                                         shuffle=True, collate_fn=collate, drop_last=len(data.train) >= options.batch,
                                         generator=torch.Generator().manual_seed(options.seed))

    def save_hook(models: list, weights: list, directory: str) -> None:
        for index, wrapped in enumerate(models):
            if accelerator.is_main_process:
                save_trained(accelerator.unwrap_model(wrapped), Path(directory))
            if weights:
                weights.pop()

    def load_hook(models: list, directory: str) -> None:
        while models:
            load_trained(accelerator.unwrap_model(models.pop()), Path(directory))

    accelerator.register_save_state_pre_hook(save_hook)
    accelerator.register_load_state_pre_hook(load_hook)
    model, optimizer, loader, scheduler = accelerator.prepare(model, optimizer, loader, scheduler)

    step, losses, resumed_from = 0, [], None
    if resume:
        checkpoint = latest_checkpoint(work)
        if checkpoint is None:
            raise TrainError(f"--resume: no checkpoint in {work / CHECKPOINTS}.")
        progress = json.loads((checkpoint / PROGRESS).read_text(encoding="utf-8"))
        if progress.get("task") != task.name or progress.get("data_hash") != data.hash:
            raise TrainError(f"The checkpoint {checkpoint} is of another run (a {progress.get('task')} run on "
                             "other data); resume with the same data and command, or use a new --work folder.")
        accelerator.load_state(str(checkpoint))
        step, resumed_from = int(progress["step"]), int(progress["step"])
        losses = [(int(s), float(v)) for s, v in progress["losses"]]
        if step >= options.steps:
            raise TrainError(f"The checkpoint is at step {step}, already at or past --steps {options.steps}.")

    unwrapped = accelerator.unwrap_model(model)
    eval_start = _eval_loss(task, unwrapped, data.train, options.resolution, accelerator.device, options.seed) \
        if accelerator.is_main_process and resumed_from is None else None
    validation: list[Path] = []

    def save_checkpoint() -> None:
        """Written into `step-N.partial/` and renamed when whole: a run killed while saving leaves the older
        checkpoints as they were and no half checkpoint that --resume would pick."""
        if step == 0 or (step == resumed_from):
            return
        target = work / CHECKPOINTS / f"step-{step}"
        partial = target.with_name(target.name + ".partial")
        if accelerator.is_main_process:
            shutil.rmtree(partial, ignore_errors=True)
        accelerator.wait_for_everyone()
        accelerator.save_state(str(partial))
        accelerator.wait_for_everyone()
        if accelerator.is_main_process:
            (partial / PROGRESS).write_text(json.dumps({"task": task.name, "step": step, "data_hash": data.hash,
                                                        "losses": losses, "options": options.to_dict()}),
                                            encoding="utf-8")
            shutil.rmtree(target, ignore_errors=True)
            os.replace(partial, target)
            for _, old in _checkpoints(work)[:-KEEP_CHECKPOINTS]:
                shutil.rmtree(old, ignore_errors=True)

    def validate() -> None:
        if not accelerator.is_main_process or not data.held_out:
            return
        unwrapped = accelerator.unwrap_model(model)
        unwrapped.eval()
        try:
            images = task.validation_images(unwrapped, data.held_out, seed=options.seed)
        finally:
            unwrapped.train()
        folder = work / VALIDATION
        folder.mkdir(parents=True, exist_ok=True)
        for index, image in enumerate(images):
            path = folder / f"step-{step}-{index}.png"
            temp = path.with_name(f".{path.name}.tmp")
            image.save(temp, format="PNG")
            os.replace(temp, path)
            validation.append(path)

    bar = tqdm(total=options.steps, initial=step, desc=f"train {task.name}", unit="step", dynamic_ncols=True,
               disable=not (show_bar and accelerator.is_local_main_process))
    status = "ok"
    model.train()
    try:
        while step < options.steps:
            for batch in loader:
                if should_stop is not None and should_stop():
                    status = "cancelled"
                    break
                with accelerator.accumulate(model):
                    loss = task.loss(model, batch)
                    accelerator.backward(loss)
                    if accelerator.sync_gradients:
                        accelerator.clip_grad_norm_(params, 1.0)
                    optimizer.step()
                    scheduler.step()
                    optimizer.zero_grad(set_to_none=True)
                value = float(accelerator.gather(loss.detach()).mean())
                if not math.isfinite(value):
                    raise TrainError(f"The loss became {value} at step {step + 1}; lower --lr or use "
                                     "--precision fp32.")
                step += 1
                losses.append((step, value))
                bar.update(1)
                bar.set_postfix(loss=f"{value:.4f}")
                if on_progress is not None:
                    on_progress(step, options.steps, value)
                if options.validate_every and step % options.validate_every == 0 and step < options.steps:
                    validate()
                if options.checkpoint_every and step % options.checkpoint_every == 0 and step < options.steps:
                    save_checkpoint()
                if step >= options.steps:
                    break
            if status == "cancelled":
                break
    except KeyboardInterrupt:
        status = "cancelled"
    except torch.OutOfMemoryError as exc:
        bar.close()
        raise _out_of_memory(exc, step, options, save_checkpoint, accelerator) from exc
    finally:
        bar.close()
    accelerator.wait_for_everyone()
    save_checkpoint()
    eval_end = None
    if status == "ok":
        validate()
        if accelerator.is_main_process:
            final = accelerator.unwrap_model(model)
            eval_end = _eval_loss(task, final, data.train, options.resolution, accelerator.device, options.seed)
            task.write_output(final, out)
    accelerator.wait_for_everyone()
    report = TrainReport(status=status, steps=step, losses=losses, eval_loss_start=eval_start,
                         eval_loss_end=eval_end, seconds=time.perf_counter() - started, device=str(accelerator.device),
                         mixed_precision=precision, processes=accelerator.num_processes, validation=validation,
                         resumed_from=resumed_from)
    accelerator.end_training()
    return report
