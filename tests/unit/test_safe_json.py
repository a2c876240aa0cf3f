"""The strict reader for untrusted JSON: every hostile input gives one UntrustedJsonError naming the place."""

from __future__ import annotations

import json

import pytest

from studio.safe_json import INT64_MAX, MAX_DEPTH, UntrustedJsonError, load_untrusted_json


def test_ordinary_json_reads_as_the_standard_library_reads_it():
    text = '{"a": [1, -2, 3.5, "x\\u00e9 [{", null, true], "b": {"c": 9223372036854775807}}'
    assert load_untrusted_json(text, source="t") == json.loads(text)
    assert load_untrusted_json(text.encode(), source="t") == json.loads(text)
    nested = "[" * MAX_DEPTH + "]" * MAX_DEPTH
    assert load_untrusted_json(nested, source="t") == json.loads(nested)


@pytest.mark.parametrize("text, problem", [
    ("[" * 100_000 + "]" * 100_000, "nesting deeper than 64 levels at line 1 column 65"),
    ('{"a":' * 5000 + "1" + "}" * 5000, "nesting deeper"),
    ("[" + "9" * 5000 + "]", "integer of 5000 digits is outside the 64-bit range"),
    (f'{{"id": {2**64}}}', f"integer {2**64} is outside the 64-bit range at line 1 column 8"),
    (f'[{-(2**63) - 1}]', "outside the 64-bit range"),
    ('{"time": NaN}', "NaN is not a number"),
    ('{"time":\n  Infinity}', "Infinity is not a number JSON allows here at line 2 column 3"),
    ("[-Infinity]", "-Infinity is not a number"),
    ("[1e999]", "1e999 is too large"),
    ('{"a": 1', "is not valid JSON"),
    ("", "is not valid JSON"),
    (b"\xff\xfe[1]", "is not UTF-8"),
])
def test_hostile_json_is_refused_with_the_place(text, problem):
    with pytest.raises(UntrustedJsonError) as info:
        load_untrusted_json(text, source="manifest.json")
    assert str(info.value).startswith("manifest.json") and problem in str(info.value)


def test_brackets_inside_strings_do_not_count_as_nesting():
    text = json.dumps({"s": "[" * 10_000 + '\\"{' * 100})
    assert load_untrusted_json(text, source="t")["s"].startswith("[[[")


def test_size_limit_is_checked_before_parsing():
    with pytest.raises(UntrustedJsonError, match="more than the limit of 100"):
        load_untrusted_json("[" + "1," * 100 + "1]", source="big.json", max_bytes=100)
    assert load_untrusted_json(f"[{INT64_MAX}]", source="t") == [INT64_MAX]
