"""Batch answering: questions from a JSONL file, one reply per line to another JSONL file.

Input lines: `{"id", "question", "today"?}` (`today` as YYYY-MM-DD overrides the run's date). Output lines:
`{"id", "reply", "answer", "calls": [{"tool", "input", "result"}], "fields": {"prompt", "negative", "width",
"height"}, "finish", "notes"}`. A line that cannot be read (not UTF-8, not strict JSON: see `studio.safe_json`,
no question) gives one output line `{"id", "error"}` and the run goes on with the next line.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import date
from pathlib import Path

from studio.assistant.assistant import Assistant
from studio.assistant.errors import AssistantError
from studio.safe_json import load_untrusted_json


def parse_today(text: str | None) -> date | None:
    """A YYYY-MM-DD date, or None for None; anything else is an AssistantError."""
    if text is None:
        return None
    try:
        return date.fromisoformat(str(text))
    except ValueError as exc:
        raise AssistantError(f"{text!r} is not a date of the form YYYY-MM-DD.") from exc


def answer_file(assistant: Assistant, source: Path, target: Path, *, today: date | None = None, tools: bool = True,
                max_new_tokens: int = 80, top_k: int | None = None,
                log: Callable[[str], None] = print) -> tuple[int, int]:
    """Answer every line of `source` into `target`; returns (answered, failed) line counts."""
    try:
        lines = Path(source).read_bytes().splitlines()  # decoded line by line: one bad line fails alone
    except OSError as exc:
        raise AssistantError(f"Cannot read {source}: {exc.strerror}.") from exc
    answered = failed = 0
    Path(target).parent.mkdir(parents=True, exist_ok=True)
    with Path(target).open("w", encoding="utf-8") as handle:
        for number, line in enumerate(lines, 1):
            if not line.strip():
                continue
            record_id = None
            try:
                record = load_untrusted_json(line, source="its JSON")
                record_id = record.get("id") if isinstance(record, dict) else None
                if not isinstance(record, dict) or not isinstance(record.get("question"), str):
                    raise AssistantError("it needs a \"question\" string")
                day = parse_today(record.get("today")) or today
                reply = assistant.generate_reply(record["question"], today=day, tools=tools,
                                                 max_new_tokens=max_new_tokens, top_k=top_k)
                output = reply.to_json(reply_id=record_id)
                answered += 1
            except (ValueError, AssistantError) as exc:
                output = {"id": record_id, "error": f"Line {number} was skipped: {exc}"}
                log(output["error"])
                failed += 1
            handle.write(json.dumps(output, ensure_ascii=False) + "\n")
    return answered, failed
