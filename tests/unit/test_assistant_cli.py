"""The `studio assistant` commands that use the shipped model: ask, batch answering and evaluation."""

import json

import pytest

from studio.cli import main
from test_assistant_pipeline import make_data


def run(argv, capsys):
    code = main(argv)
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_answer_writes_one_line_per_question(tmp_path, capsys):
    source = tmp_path / "questions.jsonl"
    lines = [
        {"id": "a", "question": "A print is 18 inches wide at 300 dpi. How many pixels wide is it?"},
        {"id": "b", "question": "What is today's date?", "today": "2027-03-05"},
        {"id": "c", "question": "What is today's date?"},
        {"id": "d", "question": "a poster of a red fox in a forest, watercolor"},
    ]
    source.write_text("\n".join(json.dumps(line) for line in lines) + "\n{broken\n" + json.dumps({"id": "e"}) + "\n")
    target = tmp_path / "answers.jsonl"
    code, out, err = run(["assistant", "answer", "--input", str(source), "--output", str(target),
                          "--today", "2026-11-26"], capsys)
    assert code == 1  # two lines were skipped
    assert "answered 4 questions" in out and "Line 5 was skipped" in err + out
    records = [json.loads(line) for line in target.read_text().splitlines()]
    assert [r["id"] for r in records] == ["a", "b", "c", "d", None, "e"]
    for record in records[:4]:
        assert set(record) >= {"id", "reply", "answer", "calls", "fields"}
        assert set(record["fields"]) == {"prompt", "negative", "width", "height"}
        for call in record["calls"]:
            assert set(call) == {"tool", "input", "result"}
    assert "error" in records[4] and "error" in records[5]
    assert "March 5, 2027" in records[1]["answer"]
    assert "November 26, 2026" in records[2]["answer"]
    assert records[3]["fields"]["prompt"] and records[3]["fields"]["width"] % 8 == 0


def test_answer_without_tools_makes_no_calls(tmp_path, capsys):
    source = tmp_path / "q.jsonl"
    source.write_text(json.dumps({"id": 1, "question": "What is today's date?"}) + "\n")
    target = tmp_path / "a.jsonl"
    assert run(["assistant", "answer", "--input", str(source), "--output", str(target), "--no-tools"], capsys)[0] == 0
    record = json.loads(target.read_text())
    assert record["calls"] == [] and "[" not in record["reply"]


def test_ask_streams_the_answer(capsys):
    code, out, _ = run(["assistant", "ask", "What is today's date?", "--today", "2026-11-26", "--raw"], capsys)
    assert code == 0
    assert "Thursday, November 26, 2026" in out and "raw: " in out


@pytest.mark.parametrize("argv, message", [
    (["assistant", "ask", "hi", "--model", "/nonexistent/model"], "No assistant model folder"),
    (["assistant", "ask", "hi", "--today", "26.11.2026"], "not a date of the form YYYY-MM-DD"),
    (["assistant", "answer", "--input", "/nonexistent.jsonl", "--output", "/tmp/x.jsonl"], "Cannot read"),
])
def test_bad_input_is_one_clear_error(argv, message, capsys):
    code, _, err = run(argv, capsys)
    assert code == 2 and message in err


def test_eval_prints_the_table(tmp_path, capsys):
    data = make_data(tmp_path / "data")
    code, out, _ = run(["assistant", "eval", "--data", str(data), "--n", "2", "--n-word", "1"], capsys)
    assert code == 0
    assert "| set | n | base | Toolformer (disabled) | Toolformer |" in out
    for name in ("design", "date", "prompt", "prompt: all three fields, size as asked", "followup", "svamp",
                 "mawpsmultiarith"):
        assert f"| {name} |" in out
