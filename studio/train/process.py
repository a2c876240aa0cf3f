"""A training run in its own process, for programs (the window): `studio train ... --progress json
--stop-file PATH` started with the same Python and the same `studio` package, its JSON progress lines read on a
thread of their own, cancelling by creating the stop file (the run saves a checkpoint and ends "cancelled";
it is killed only when it does not stop within the grace time).

No Qt here: `TrainProcess.poll()` hands over what arrived since the last call (`Progress` lines, then one
`Finished`); the window calls it from a worker and forwards the messages to the GUI thread.
"""

from __future__ import annotations

import json
import os
import queue
import subprocess
import sys
import tempfile
import threading
import time
from collections import deque
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from studio.train.errors import TrainError
from studio.train.run import TrainJob

STDERR_LINES = 40  # the tail of the child's stderr kept for the error message
CANCEL_GRACE_S = 60.0


@dataclass(frozen=True)
class Progress:
    step: int
    total: int
    loss: float


@dataclass(frozen=True)
class Finished:
    status: str  # ok | cancelled | failed
    output: str | None
    error: str | None
    returncode: int
    details: dict[str, Any] = field(default_factory=dict)  # the run's last JSON line (eval loss, work, ...)


def command_args(job: TrainJob) -> list[str]:
    """The `studio train ...` arguments of `job` (the inverse of `studio.train.cli.job_from_args`)."""
    o = job.options
    args = [job.task, "--data", str(job.data), "--model", job.model, "--out", str(job.out),
            "--steps", str(o.steps), "--lr", repr(float(o.lr)), "--resolution", str(o.resolution),
            "--batch", str(o.batch), "--seed", str(o.seed), "--precision", o.precision,
            "--validate-every", str(o.validate_every), "--validation-steps", str(o.validation_steps),
            "--checkpoint-every", str(o.checkpoint_every), "--device", o.device]
    if job.task == "lora":
        args += ["--rank", str(o.rank)] + (["--text-encoder"] if o.text_encoder else [])
    else:
        args += ["--kind", str(job.kind), "--prompt-dropout", repr(float(o.prompt_dropout)),
                 "--control-dropout", repr(float(o.control_dropout))]
        if job.start_from:
            args += ["--from", job.start_from]
    if not o.gradient_checkpointing:
        args.append("--no-gradient-checkpointing")
    if o.held_out is not None:
        args += ["--held-out", str(o.held_out)]
    if job.work is not None:
        args += ["--work", str(job.work)]
    if job.resume:
        args.append("--resume")
    if job.document is not None:
        args += ["--document", str(job.document)]
    if job.allow_pickle:
        args.append("--allow-pickle")
    return args


def _package_root() -> Path:
    import studio

    return Path(studio.__file__).resolve().parents[1]


class TrainProcess:
    """One `studio train` child process. `start()`, then `poll()` until a `Finished` arrives (or `wait()`)."""

    def __init__(self, job: TrainJob, *, python: str = sys.executable, env: dict[str, str] | None = None) -> None:
        self.job = job
        self.python = python
        self.env = env
        self._events: queue.Queue[Progress | Finished] = queue.Queue()
        self._stderr: deque[str] = deque(maxlen=STDERR_LINES)
        self._last: dict[str, Any] = {}
        self._process: subprocess.Popen[str] | None = None
        self._stop_dir = Path(tempfile.mkdtemp(prefix="studio-train-"))
        self.stop_file = self._stop_dir / "stop"
        self.finished: Finished | None = None
        self._threads: list[threading.Thread] = []

    @property
    def command(self) -> list[str]:
        return [self.python, "-m", "studio.cli", "train", *command_args(self.job), "--progress", "json",
                "--stop-file", str(self.stop_file)]

    def start(self) -> None:
        env = dict(os.environ if self.env is None else self.env)
        root = str(_package_root())  # the child imports the very `studio` this process runs
        env["PYTHONPATH"] = os.pathsep.join([root, *filter(None, [env.get("PYTHONPATH")])])
        env.setdefault("PYTHONUNBUFFERED", "1")
        env.setdefault("TOKENIZERS_PARALLELISM", "false")
        try:
            self._process = subprocess.Popen(self.command, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                             stderr=subprocess.PIPE, text=True, encoding="utf-8",
                                             errors="replace", bufsize=1, env=env, cwd=root)
        except OSError as exc:
            raise TrainError(f"Cannot start the training process ({exc}).") from exc
        for target in (self._read_stdout, self._read_stderr):
            thread = threading.Thread(target=target, name=f"train-{target.__name__}", daemon=True)
            thread.start()
            self._threads.append(thread)
        threading.Thread(target=self._watch, name="train-watch", daemon=True).start()

    def _read_stdout(self) -> None:
        assert self._process is not None and self._process.stdout is not None
        for line in self._process.stdout:
            try:
                message = json.loads(line)
            except json.JSONDecodeError:
                self._stderr.append(line.rstrip())  # a library's stray print: kept for the error text
                continue
            if not isinstance(message, dict):
                continue
            if {"step", "total", "loss"} <= message.keys():
                self._events.put(Progress(int(message["step"]), int(message["total"]), float(message["loss"])))
            elif "status" in message:
                self._last = message

    def _read_stderr(self) -> None:
        assert self._process is not None and self._process.stderr is not None
        for line in self._process.stderr:
            for part in line.replace("\r", "\n").splitlines():  # tqdm-style carriage returns
                if part.strip():
                    self._stderr.append(part.rstrip())

    def _watch(self) -> None:
        assert self._process is not None
        code = self._process.wait()
        for thread in self._threads:
            thread.join(timeout=10)
        last = self._last
        if code == 0 and last.get("status") == "ok":
            finished = Finished("ok", last.get("output"), None, code, last)
        elif last.get("status") == "cancelled" or (self.stop_file.exists() and code in (130, -2, -9, -15, 1)):
            finished = Finished("cancelled", None, None, code, last)
        else:
            finished = Finished("failed", None, self._error_text(code), code, last)
        self.finished = finished
        self._events.put(finished)
        try:
            self.stop_file.unlink(missing_ok=True)
            self._stop_dir.rmdir()
        except OSError:
            pass

    def _error_text(self, code: int) -> str:
        lines = list(self._stderr)
        said = [line.removeprefix("studio: ") for line in lines if line.startswith("studio: ")]
        if said:
            return said[-1]
        tail = [line for line in lines if "Error" in line or "error" in line] or lines
        detail = tail[-1] if tail else "no message"
        return f"The training process ended with code {code}: {detail}"

    def poll(self) -> list[Progress | Finished]:
        """What arrived since the last call, in order."""
        items = []
        while True:
            try:
                items.append(self._events.get_nowait())
            except queue.Empty:
                return items

    def next_event(self, timeout: float) -> Progress | Finished | None:
        try:
            return self._events.get(timeout=timeout)
        except queue.Empty:
            return None

    @property
    def running(self) -> bool:
        return self._process is not None and self._process.poll() is None

    def cancel(self, *, grace: float = CANCEL_GRACE_S) -> None:
        """Ask the run to stop (it saves a checkpoint); kill it when it has not stopped within `grace` seconds.
        Returns at once; the `Finished` event says when it has ended."""
        if self._process is None:
            return
        try:
            self.stop_file.touch()
        except OSError:
            pass

        def enforce() -> None:
            deadline = time.monotonic() + grace
            while self.running and time.monotonic() < deadline:
                time.sleep(0.2)
            if self.running:
                self._process.kill()

        threading.Thread(target=enforce, name="train-cancel", daemon=True).start()

    def wait(self, timeout: float | None = None) -> Finished:
        """Block until the process has ended and its `Finished` is known."""
        deadline = None if timeout is None else time.monotonic() + timeout
        while self.finished is None:
            if deadline is not None and time.monotonic() > deadline:
                raise TimeoutError("The training process is still running.")
            time.sleep(0.05)
        return self.finished
