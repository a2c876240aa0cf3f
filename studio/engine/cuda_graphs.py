"""CUDA graphs for the per-step models (UNet, ControlNets): launch a whole forward pass with one call.

At 512x512 an SD 1.5 step is about a thousand small kernels; launched one by one from Python, the GPU waits on
the CPU. `GraphedForward` replaces a model's `forward`: for each call signature (`call_signature`: shapes,
strides, dtypes, and plain values such as a ControlNet's conditioning scale) it runs the model twice eagerly on a
side stream (lazy initialisation, cuDNN autotuning), captures one forward pass into a `torch.cuda.CUDAGraph` with
its own copies of the inputs, and from then on copies new inputs into those copies and replays the graph. (If
`enabled()` turns false during the warm-up, the warm-up's output is returned and nothing is captured.)

Rules that keep replays exact:
- Only calls whose tensors are all on the GPU, with gradients off, outside another capture, are graphed; anything
  else runs eagerly. A signature that fails to capture stays eager.
- Outputs live in the graph's memory and are overwritten by its next replay. `clone_outputs=True` (the UNet: the
  scheduler may keep its output) returns copies; the ControlNets' residuals are consumed within the same step and
  are returned as they are.
- `reset()` drops every graph (e.g. when compiled blocks have replaced eager ones, the graphs are recaptured to
  contain the faster kernels); `enabled()` is asked on every call (e.g. no capturing while compiles are pending).
- At most `max_graphs` graphs are kept per model (least recently used dropped), as each holds its own memory pool;
  no new graph is captured while less than `min_free_bytes` of GPU memory is free (older graphs are dropped
  first), and running out of memory while capturing drops this model's graphs and runs the call eagerly.
"""

from __future__ import annotations

import collections
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from studio.engine.call_signature import call_signature, tensors_on


@dataclass
class _Captured:
    graph: Any
    static_inputs: list[Any]
    input_spec: Any
    outputs: list[Any]
    output_spec: Any


class GraphedForward:
    """A model's `forward`, served from CUDA graphs captured per call signature (see the module docstring)."""

    def __init__(self, module: Any, *, clone_outputs: bool, max_graphs: int = 6, min_free_bytes: int = 3 * 2**30,
                 enabled: Callable[[], bool] = lambda: True) -> None:
        self.module = module
        self.eager = module.forward
        self.clone_outputs = clone_outputs
        self.max_graphs = max_graphs
        self.min_free_bytes = min_free_bytes
        self.enabled = enabled
        self.captures = 0
        self.replays = 0
        self.failures: list[str] = []
        self._graphs: collections.OrderedDict[Any, _Captured] = collections.OrderedDict()
        self._uncapturable: set[Any] = set()
        self._reset_requested = False
        self._lock = threading.Lock()

    @classmethod
    def install(cls, module: Any, **options: Any) -> GraphedForward:
        """Wrap `module.forward` (once; a second call returns the existing wrapper)."""
        existing = module.__dict__.get("forward")
        if isinstance(existing, GraphedForward):
            return existing
        wrapper = cls(module, **options)
        module.forward = wrapper
        return wrapper

    def reset(self) -> None:
        """Drop all graphs before the next call (safe to call from any thread)."""
        self._reset_requested = True

    @property
    def graph_count(self) -> int:
        """How many graphs are held."""
        return len(self._graphs)

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        import torch

        if self._reset_requested:
            self._drop_all()
        if (not self.enabled() or torch.is_grad_enabled() or torch.cuda.is_current_stream_capturing()
                or not tensors_on("cuda", args, kwargs)):
            return self.eager(*args, **kwargs)
        signature = call_signature(args, kwargs)
        if signature is None or signature in self._uncapturable:
            return self.eager(*args, **kwargs)
        with self._lock:
            captured = self._graphs.get(signature)
            if captured is not None:
                self._graphs.move_to_end(signature)
                return self._replay(captured, args, kwargs)
            captured, warm_output = self._capture(signature, args, kwargs)
            return self._replay(captured, args, kwargs) if captured is not None else warm_output

    def _warm_up(self, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
        """Two eager runs on a side stream (lazy init, cuDNN autotuning); returns the last output, made safe to use
        (and free) on the caller's stream."""
        import torch
        from torch.utils._pytree import tree_leaves

        caller = torch.cuda.current_stream()
        side = torch.cuda.Stream()
        side.wait_stream(caller)
        with torch.cuda.stream(side):
            for _ in range(2):
                output = self.eager(*args, **kwargs)
        caller.wait_stream(side)
        for leaf in tree_leaves(output):
            if isinstance(leaf, torch.Tensor):
                leaf.record_stream(caller)
        return output

    def _capture(self, signature: Any, args: tuple[Any, ...], kwargs: dict[str, Any]) -> tuple[_Captured | None, Any]:
        """Warm up and capture a graph for `signature`; (None, the warm-up's output) when it cannot or may not
        capture now (graphs were disabled meanwhile, e.g. the warm-up queued a compile)."""
        import torch
        from torch.utils._pytree import tree_flatten, tree_unflatten

        while len(self._graphs) >= self.max_graphs or (self._graphs and not self._memory_left()):
            _, oldest = self._graphs.popitem(last=False)
            oldest.graph.reset()
        warm_output = self._warm_up(args, kwargs)
        if not self.enabled() or not self._memory_left():
            return None, warm_output
        try:
            leaves, input_spec = tree_flatten((args, kwargs))
            static_inputs = [leaf.clone() if isinstance(leaf, torch.Tensor) else leaf for leaf in leaves]
            static_args, static_kwargs = tree_unflatten(static_inputs, input_spec)
            graph = torch.cuda.CUDAGraph()
            with torch.cuda.graph(graph, capture_error_mode="thread_local"):
                output = self.eager(*static_args, **static_kwargs)
            outputs, output_spec = tree_flatten(output)
        except torch.OutOfMemoryError:
            self._drop_graphs()
            return None, warm_output
        except Exception as exc:  # noqa: BLE001 - a model that cannot be captured keeps running eagerly
            self._uncapturable.add(signature)
            self.failures.append(f"{type(exc).__name__}: {exc}".splitlines()[0])
            return None, warm_output
        captured = _Captured(graph=graph, static_inputs=static_inputs, input_spec=input_spec, outputs=outputs,
                             output_spec=output_spec)
        self._graphs[signature] = captured
        self.captures += 1
        return captured, None

    def _replay(self, captured: _Captured, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
        import torch
        from torch.utils._pytree import tree_flatten, tree_unflatten

        leaves, _ = tree_flatten((args, kwargs))
        for static, new in zip(captured.static_inputs, leaves):
            if isinstance(static, torch.Tensor) and new.data_ptr() != static.data_ptr():
                static.copy_(new)
        captured.graph.replay()
        self.replays += 1
        outputs = [out.clone() if self.clone_outputs and isinstance(out, torch.Tensor) else out
                   for out in captured.outputs]
        return tree_unflatten(outputs, captured.output_spec)

    def _memory_left(self) -> bool:
        import torch

        return torch.cuda.mem_get_info()[0] >= self.min_free_bytes

    def _drop_graphs(self) -> None:
        for captured in self._graphs.values():
            captured.graph.reset()
        self._graphs.clear()

    def _drop_all(self) -> None:
        with self._lock:
            self._reset_requested = False
            self._drop_graphs()
            self._uncapturable.clear()
