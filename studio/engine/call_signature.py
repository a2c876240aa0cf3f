"""A hashable summary of a call's arguments: which compiled code or captured CUDA graph can serve it.

Tensors count by shape, strides, dtype and device (not by value); plain values (numbers, flags, strings, None)
count by value; tuples, lists and dicts are walked. Two calls with the same signature take the same code path
through a model with static shapes, so compiled code warmed, or a CUDA graph captured, for one serves the other.
Anything else (an object we cannot summarise) makes the call unsignable (`None`), and callers then run it plainly.
"""

from __future__ import annotations

from typing import Any

_PLAIN = (int, float, bool, str, type(None))


class _Unsignable(Exception):
    """Raised internally when a value cannot be summarised."""


def _summary(value: Any) -> Any:
    import torch

    if isinstance(value, torch.Tensor):
        return ("T", tuple(value.shape), value.stride(), value.dtype, value.device.type, value.device.index)
    if isinstance(value, _PLAIN):
        return (type(value).__name__, value)
    if isinstance(value, (tuple, list)):
        return (type(value).__name__, tuple(_summary(v) for v in value))
    if isinstance(value, dict):
        return ("dict", tuple((k, _summary(v)) for k, v in value.items()))
    raise _Unsignable(type(value).__name__)


def call_signature(args: tuple[Any, ...], kwargs: dict[str, Any]) -> tuple[Any, ...] | None:
    """The signature of a call with `args` and `kwargs`, or None when some argument cannot be summarised."""
    try:
        return (_summary(args), _summary(kwargs))
    except _Unsignable:
        return None


def tensors_on(device_type: str, args: tuple[Any, ...], kwargs: dict[str, Any]) -> bool:
    """True when every tensor among the arguments lives on a device of `device_type` (e.g. "cuda")."""
    import torch
    from torch.utils._pytree import tree_leaves

    return all(leaf.device.type == device_type for leaf in tree_leaves((args, kwargs))
               if isinstance(leaf, torch.Tensor))


def detached_copy(args: tuple[Any, ...], kwargs: dict[str, Any]) -> tuple[tuple[Any, ...], dict[str, Any]]:
    """The arguments with every tensor cloned (same strides) and detached, other values shared."""
    import torch
    from torch.utils._pytree import tree_map

    def copy(value: Any) -> Any:
        return value.detach().clone() if isinstance(value, torch.Tensor) else value

    return tree_map(copy, args), tree_map(copy, kwargs)
