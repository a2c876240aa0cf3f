"""Batch answering goes on after hostile lines: each gives one error record, later questions are answered."""

import json

from studio.assistant.assistant import Assistant
from studio.assistant.batch import answer_file


def test_hostile_lines_give_one_error_each_and_the_batch_goes_on(tmp_path):
    source = tmp_path / "questions.jsonl"
    lines = [
        '{"id": "deep", "question": ' + "[" * 100_000 + "]" * 100_000 + "}",
        '{"id": ' + "9" * 5000 + ', "question": "x"}',
        '{"id": "nan", "question": "x", "today": NaN}',
        '{"id": "date", "question": "x", "today": "2026-02-30"}',
        '{"id": "list", "question": ["not", "text"]}',
        "\udcff not utf-8",
        json.dumps({"id": "ok", "question": "A print is 4 inches wide at 300 dpi. How many pixels wide is it?"}),
    ]
    source.write_bytes("\n".join(lines).encode("utf-8", "surrogateescape") + b"\n")
    target = tmp_path / "answers.jsonl"
    logged = []
    answered, failed = answer_file(Assistant.load(None), source, target, max_new_tokens=40, log=logged.append)
    assert (answered, failed) == (1, 6)
    records = [json.loads(line) for line in target.read_text(encoding="utf-8").splitlines()]
    assert len(records) == 7 and len(logged) == 6
    assert all(set(r) == {"id", "error"} for r in records[:6])
    assert "nesting deeper than 64 levels" in records[0]["error"] and "Line 1" in records[0]["error"]
    assert "outside the 64-bit range" in records[1]["error"]
    assert "NaN" in records[2]["error"] and records[3]["id"] == "date"
    assert records[6]["id"] == "ok" and "1200" in records[6]["answer"] + records[6]["reply"]
