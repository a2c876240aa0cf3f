"""Regional torch.compile in the background: generations never wait for a compile.

Compiling a whole UNet takes minutes (max-autotune of UNet + ControlNet did not finish in 8 minutes on an H200).
Instead the repeated blocks (by default every `BasicTransformerBlock` and `ResnetBlock2D` of the UNet, the
ControlNets and the VAE) are compiled one by one: blocks of the same structure and input shapes share one
compiled graph (a ControlNet's encoder blocks reuse the UNet's), so an SD 1.5 pipeline needs a few dozen small
graphs instead of one huge one, and they land in the persistent compile cache (`compile_cache.py`).

How it runs:
- `attach(model)` puts a small dispatcher on each block (as the block's `_compiled_call_impl`, the slot
  `nn.Module.compile` uses). A call whose signature (block structure + `call_signature` of the arguments + grad
  mode) has compiled code ready runs the compiled code; any other call runs the block eagerly, right away, and
  hands a copy of its arguments to the background worker.
- The worker thread compiles and warms each new signature by calling the compiled block on that copy, then marks
  it ready; the next generation's calls pick it up. So the first images come from the eager blocks and the
  speed-up arrives as soon as each graph is built.
- The worker starts a compile only while no generation runs (`generation()` marks a run; it waits at most
  `max_defer_s` for a pause), so a generation does not share the CPU (Python's lock) or the GPU with a compile
  that starts during it; a compile that started in a pause may still overlap the next run.
- Time bound: a burst of compiling (from an empty queue until it is empty again) stops starting new graphs once
  it has spent `budget_s` seconds; the signatures left over stay eager for good, and the status says so.
- Graphs compile with static shapes (`dynamic=False`) in TorchInductor's default mode (no max-autotune: its
  compile time is what this design avoids), 1x1 convolutions as matrix products; the dynamo recompile limit is
  raised so the few dozen shape variants of one block class all get compiled code. (These settings are per thread
  in recent torch versions, so the worker sets them itself.)
- `foreground_compiles` counts compiles that ran on any other thread than a worker (it should stay 0: it is the
  proof that no generation waited for a compile).
"""

from __future__ import annotations

import collections
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager, nullcontext
from dataclasses import dataclass, field
from typing import Any

from studio.engine.call_signature import call_signature, detached_copy, tensors_on

DEFAULT_REGIONS = ("BasicTransformerBlock", "ResnetBlock2D")
RECOMPILE_LIMIT = 256
_PLAIN = (bool, int, float, str, type(None))

_worker_threads: set[threading.Thread] = set()
_foreground = {"compiles": 0}
_callback_lock = threading.Lock()
_callback_installed = False


def _on_compile_start(_args: Any) -> None:
    if threading.current_thread() not in _worker_threads:
        _foreground["compiles"] += 1


def _install_compile_watch() -> None:
    """Count compiles that start outside the background workers (once per process)."""
    global _callback_installed
    with _callback_lock:
        if not _callback_installed:
            import torch._dynamo

            torch._dynamo.callback_handler.register_start_callback(_on_compile_start)
            _callback_installed = True


def foreground_compiles() -> int:
    """How many torch.compile compilations started outside the background workers in this process."""
    return _foreground["compiles"]


@dataclass
class CompileStatus:
    """Where the background compiler stands.

    state: "idle" (nothing seen yet), "compiling", "ready" (every signature seen so far has compiled code) or
    "partial" (some stay eager: over the time budget, or a compile failed). seconds: time spent compiling.
    compiled_calls: block calls served by compiled code so far. waiting: work is queued but waits for the running
    generation to end.
    """

    state: str
    regions: int
    ready: int
    pending: int
    failed: int
    skipped: int
    seconds: float
    compiled_calls: int
    waiting: bool
    foreground_compiles: int
    errors: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        """Plain data (for benchmarks and logs)."""
        return dict(vars(self))


def _structure_key(block: Any) -> tuple[Any, ...]:
    """What makes two blocks share compiled code: class, parameter layout, plain attributes, processors."""
    params = tuple((name, tuple(p.shape), p.stride(), p.dtype, p.device.type, p.requires_grad)
                   for name, p in block.named_parameters())
    modules = tuple((type(m).__name__, type(getattr(m, "processor", None)).__name__,
                     tuple(sorted((k, v) for k, v in vars(m).items() if isinstance(v, _PLAIN))))
                    for m in block.modules())
    return (type(block).__qualname__, params, modules)


class _Region:
    """The dispatcher placed on one block: compiled code when ready for this call's signature, else eager."""

    def __init__(self, block: Any, compiler: RegionalCompiler) -> None:
        self.block = block
        self.compiler = compiler
        self.structure = _structure_key(block)
        self._compiled: Callable[..., Any] | None = None

    def compiled(self) -> Callable[..., Any]:
        """The block's compiled call (made on first use; compiling happens when it is first called)."""
        if self._compiled is None:
            import torch

            self._compiled = torch.compile(self.block._call_impl, backend=self.compiler.backend,
                                           mode=self.compiler.mode, dynamic=False)
        return self._compiled

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        import torch

        signature = call_signature(args, kwargs)
        if signature is not None:
            key = (self.structure, torch.is_grad_enabled(), signature)
            if key in self.compiler.ready_keys:
                self.compiler.compiled_calls += 1
                return self.compiled()(*args, **kwargs)
            self.compiler.note(key, self, args, kwargs)
        return self.block._call_impl(*args, **kwargs)


@dataclass
class _Job:
    key: Any
    region: _Region
    args: tuple[Any, ...]
    kwargs: dict[str, Any]
    copied: Any = None  # a CUDA event recorded after the copies were made (they may be on another stream)


class RegionalCompiler:
    """Compiles the repeated blocks of attached models in a background thread (see the module docstring).

    backend/mode: passed to `torch.compile` ("inductor" and None = default mode on CUDA; tests use "aot_eager").
    run_context: a context manager factory entered around each warm-up call, to match the generation's settings
    (e.g. the attention-kernel choice), so that the warmed code is what the generation will run.
    """

    def __init__(self, *, classes: tuple[str, ...] = DEFAULT_REGIONS, backend: str = "inductor",
                 mode: str | None = None, budget_s: float = 300.0, max_defer_s: float = 30.0,
                 run_context: Callable[[], AbstractContextManager[Any]] = nullcontext) -> None:
        self.classes = tuple(classes)
        self.backend = backend
        self.mode = mode
        self.budget_s = float(budget_s)
        self.max_defer_s = float(max_defer_s)
        self._active_runs = 0
        self.run_context = run_context
        self.ready_keys: set[Any] = set()
        self.compiled_calls = 0
        self._seen: set[Any] = set()
        self._queue: collections.deque[_Job] = collections.deque()
        self._cond = threading.Condition()
        self._busy = False
        self._closing = False
        self._thread: threading.Thread | None = None
        self._regions = 0
        self._failed = 0
        self._skipped = 0
        self._seconds = 0.0
        self._burst_seconds = 0.0
        self._errors: list[str] = []
        self._listeners: list[Callable[[], None]] = []

    # ------------------------------------------------------------------------------------------- attaching
    def attach(self, model: Any) -> int:
        """Put dispatchers on the outermost blocks of `model` whose class is in `classes`; returns how many new ones.

        Attach after the model has its final device, dtype, memory layout and attention processors. Attaching the
        same model again adds nothing.
        """
        added = 0
        for block in self._outermost_blocks(model):
            if isinstance(block._compiled_call_impl, _Region):
                continue
            block._compiled_call_impl = _Region(block, self)
            added += 1
        with self._cond:
            self._regions += added
        return added

    def _outermost_blocks(self, model: Any) -> list[Any]:
        found: list[Any] = []

        def visit(module: Any) -> None:
            if type(module).__name__ in self.classes:
                found.append(module)
                return
            for child in module.children():
                visit(child)

        visit(model)
        return found

    @contextmanager
    def generation(self) -> Iterator[None]:
        """Mark a generation as running: no new compile starts until it ends (or `max_defer_s` passed)."""
        with self._cond:
            self._active_runs += 1
        try:
            yield
        finally:
            with self._cond:
                self._active_runs -= 1
                self._cond.notify_all()

    def add_listener(self, callback: Callable[[], None]) -> None:
        """Call `callback` (from the worker thread) whenever a burst of compiling ends."""
        self._listeners.append(callback)

    # -------------------------------------------------------------------------------------------- the queue
    def note(self, key: Any, region: _Region, args: tuple[Any, ...], kwargs: dict[str, Any]) -> None:
        """Queue a signature seen in an eager call for compiling (once per signature)."""
        import torch

        if key in self._seen or self._closing:
            return
        if torch.cuda.is_available() and torch.cuda.is_current_stream_capturing():
            return  # tensors made during a CUDA graph capture hold no values yet
        copied_args, copied_kwargs = detached_copy(args, kwargs)
        copied = None
        if torch.cuda.is_available() and tensors_on("cuda", args, kwargs):
            copied = torch.cuda.Event()
            copied.record()
        with self._cond:
            if key in self._seen:
                return
            self._seen.add(key)
            if not self._queue and not self._busy:
                self._burst_seconds = 0.0
            self._queue.append(_Job(key=key, region=region, args=copied_args, kwargs=copied_kwargs, copied=copied))
            self._start_worker()
            self._cond.notify_all()

    def _start_worker(self) -> None:
        if self._thread is None:
            self._thread = threading.Thread(target=self._work, name="studio-compile", daemon=True)
            _worker_threads.add(self._thread)
            self._thread.start()

    def _work(self) -> None:
        try:
            self._serve()
        finally:
            _worker_threads.discard(threading.current_thread())

    def _configure(self) -> None:
        """Compiler settings for this thread, made before its first compile (importing dynamo and inductor takes
        seconds, so it waits for the engine's first pause rather than slowing the first, eager image)."""
        import torch._dynamo

        _install_compile_watch()
        # Dynamo's settings are per thread in recent torch versions: raise the limit where the compiling happens.
        config = torch._dynamo.config
        config.recompile_limit = max(config.recompile_limit, RECOMPILE_LIMIT)
        config.accumulated_recompile_limit = max(config.accumulated_recompile_limit, 16 * RECOMPILE_LIMIT)
        if self.backend == "inductor":
            import torch._inductor.config as inductor_config

            inductor_config.conv_1x1_as_mm = True  # 1x1 convolutions as matrix products (diffusers' advice)

    def _serve(self) -> None:
        configured = False
        while True:
            with self._cond:
                while not self._queue and not self._closing:
                    self._cond.wait()
                if self._closing:
                    return
                self._cond.wait_for(lambda: self._active_runs == 0 or self._closing, self.max_defer_s)
                if self._closing:
                    return
                job = self._queue.popleft()
                self._busy = True
                over_budget = self._burst_seconds >= self.budget_s
            if over_budget:
                self._finish(job, ok=False, seconds=0.0, skipped=True)
                continue
            started = time.perf_counter()
            if not configured:
                self._configure()
                configured = True
            ok, error = self._warm(job)
            self._finish(job, ok=ok, seconds=time.perf_counter() - started, error=error)

    def _warm(self, job: _Job) -> tuple[bool, str]:
        import torch

        try:
            if job.copied is not None:
                job.copied.synchronize()
            with torch.set_grad_enabled(job.key[1]), self.run_context():
                job.region.compiled()(*job.args, **job.kwargs)
            if torch.cuda.is_available():
                torch.cuda.current_stream().synchronize()
        except Exception as exc:  # noqa: BLE001 - any compiler failure leaves the block eager, recorded
            return False, f"{type(job.region.block).__name__}: {type(exc).__name__}: {exc}".splitlines()[0]
        return True, ""

    def _finish(self, job: _Job, *, ok: bool, seconds: float, skipped: bool = False, error: str = "") -> None:
        with self._cond:
            self._seconds += seconds
            self._burst_seconds += seconds
            if ok:
                self.ready_keys = self.ready_keys | {job.key}
            elif skipped:
                self._skipped += 1
            else:
                self._failed += 1
                self._errors.append(error)
            self._busy = False
            settled = not self._queue
            self._cond.notify_all()
        job.args, job.kwargs = (), {}
        if settled:
            for listener in list(self._listeners):
                listener()

    # ------------------------------------------------------------------------------------------- reporting
    @property
    def settled(self) -> bool:
        """True when nothing is queued or compiling."""
        with self._cond:
            return not self._queue and not self._busy

    def wait(self, timeout: float | None = None) -> bool:
        """Block until the queue is empty and no compile runs; False if `timeout` seconds passed first."""
        with self._cond:
            return self._cond.wait_for(lambda: (not self._queue and not self._busy) or self._closing, timeout)

    def status(self) -> CompileStatus:
        """A snapshot of the compiler's progress."""
        with self._cond:
            pending = len(self._queue) + (1 if self._busy else 0)
            if not self._seen:
                state = "idle"
            elif pending:
                state = "compiling"
            else:
                state = "partial" if self._failed or self._skipped else "ready"
            return CompileStatus(state=state, regions=self._regions, ready=len(self.ready_keys), pending=pending,
                                 failed=self._failed, skipped=self._skipped, seconds=round(self._seconds, 3),
                                 compiled_calls=self.compiled_calls,
                                 waiting=bool(self._queue) and not self._busy and self._active_runs > 0,
                                 foreground_compiles=foreground_compiles(),
                                 errors=list(self._errors))

    def close(self, timeout: float | None = 5.0) -> None:
        """Stop the worker (a compile in progress finishes first) and drop queued work."""
        with self._cond:
            self._closing = True
            self._queue.clear()
            self._cond.notify_all()
        if self._thread is not None:
            self._thread.join(timeout)
