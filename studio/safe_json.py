"""One strict JSON reader for untrusted input: archives, `model_index.json`, OpenPose files, batch lines.

`load_untrusted_json(data, source=...)` parses text or UTF-8 bytes and refuses, with one `UntrustedJsonError`
sentence that names the source and the line and column:
- input larger than `max_bytes` (default 64 MiB), checked before parsing;
- nesting deeper than `max_depth` (default 64), checked before parsing so the parser never recurses deeply;
- integers outside int64 (SQLite's integer range; also stops 5,000-digit numbers before Python converts them);
  `max_int` may widen the top to 2**64 - 1 for data that holds unsigned 64-bit values (generation seeds);
- NaN, Infinity and -Infinity, and floats that overflow to infinity (`1e999`);
- invalid JSON and invalid UTF-8.
It never raises anything else for any input (RecursionError, ValueError and OverflowError included).
"""

from __future__ import annotations

import json
import math
import re
from typing import Any

import numpy as np

from studio.errors import StudioError

MAX_BYTES = 64 * 2**20
MAX_DEPTH = 64
INT64_MIN, INT64_MAX, UINT64_MAX = -(2**63), 2**63 - 1, 2**64 - 1

_STRING = re.compile(rb'"(?:[^"\\]|\\.)*"', re.DOTALL)
_NUMBER_CHARS = 20  # "-9223372036854775808" has 20 characters


class UntrustedJsonError(StudioError, ValueError):
    """Untrusted JSON was refused: malformed, too deep, too large or holding numbers we do not store."""


class _Refused(Exception):
    def __init__(self, problem: str, token: str | None = None) -> None:
        super().__init__(problem)
        self.problem, self.token = problem, token


def _where(raw: bytes, offset: int) -> str:
    line = raw.count(b"\n", 0, offset) + 1
    column = offset - (raw.rfind(b"\n", 0, offset) + 1) + 1
    return f"line {line} column {column}"


def _depth_problem(raw: bytes, max_depth: int) -> tuple[int, int] | None:
    """(offset, depth) of the first place nesting goes beyond `max_depth`, or None. Vectorised: strings are
    blanked first, so brackets inside them do not count."""
    if raw.count(b"[") + raw.count(b"{") <= max_depth:
        return None
    blanked = _STRING.sub(lambda m: b'""'.ljust(len(m.group()), b" "), raw)
    codes = np.frombuffer(blanked, dtype=np.uint8)
    steps = np.zeros(codes.shape, dtype=np.int32)
    steps[(codes == ord("[")) | (codes == ord("{"))] = 1
    steps[(codes == ord("]")) | (codes == ord("}"))] = -1
    depth = np.cumsum(steps)
    over = np.flatnonzero(depth > max_depth)
    return None if over.size == 0 else (int(over[0]), int(depth[over[0]]))


def _int_parser(max_int: int):
    def parse(text: str) -> int:
        if len(text) > _NUMBER_CHARS:
            raise _Refused(f"the integer of {len(text.lstrip('-'))} digits is outside the 64-bit range", text)
        value = int(text)
        if not INT64_MIN <= value <= max_int:
            raise _Refused(f"the integer {text} is outside the 64-bit range", text)
        return value
    return parse


def _parse_float(text: str) -> float:
    if len(text) > 400:
        raise _Refused(f"a number of {len(text)} characters is too long", text)
    value = float(text)
    if not math.isfinite(value):
        raise _Refused(f"the number {text} is too large to store", text)
    return value


def _parse_constant(name: str) -> Any:
    raise _Refused(f"{name} is not a number JSON allows here", name)


def load_untrusted_json(data: str | bytes | bytearray, *, source: str, max_bytes: int = MAX_BYTES,
                        max_depth: int = MAX_DEPTH, max_int: int = INT64_MAX) -> Any:
    """Parse untrusted JSON strictly (see the module docstring); `source` names it in errors ("events.jsonl
    line 3", a file path)."""
    if isinstance(data, str):
        raw = data.encode("utf-8", "surrogatepass")
    elif isinstance(data, (bytes, bytearray, memoryview)):
        raw = bytes(data)
    else:
        raise UntrustedJsonError(f"{source}: expected JSON text, got {type(data).__name__}.")
    if max_int > UINT64_MAX:
        raise ValueError("max_int cannot exceed 2**64 - 1")
    if len(raw) > max_bytes:
        raise UntrustedJsonError(f"{source} is {len(raw)} bytes of JSON, more than the limit of {max_bytes}.")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise UntrustedJsonError(f"{source} is not UTF-8 text (byte {exc.start + 1}).") from None
    deep = _depth_problem(raw, max_depth)
    if deep is not None:
        raise UntrustedJsonError(
            f"{source}: nesting deeper than {max_depth} levels at {_where(raw, deep[0])} was refused.")
    try:
        return json.loads(text, parse_int=_int_parser(max_int), parse_float=_parse_float,
                          parse_constant=_parse_constant)
    except _Refused as exc:
        offset = raw.find(exc.token.encode()) if exc.token else -1
        place = f" at {_where(raw, offset)}" if offset >= 0 else ""
        raise UntrustedJsonError(f"{source}: {exc.problem}{place}.") from None
    except json.JSONDecodeError as exc:
        raise UntrustedJsonError(
            f"{source} is not valid JSON ({exc.msg} at line {exc.lineno} column {exc.colno}).") from None
    except (RecursionError, ValueError, OverflowError, MemoryError) as exc:  # belt and braces
        raise UntrustedJsonError(f"{source} cannot be read as JSON ({exc.__class__.__name__}).") from None
