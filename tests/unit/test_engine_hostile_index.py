"""Garbage `model_index.json` files give one ModelError sentence from `locate_base`, never a traceback."""

from __future__ import annotations

import pytest

from studio.engine.errors import ModelError
from studio.engine.sources import locate_base

GARBAGE = {
    "class name is a number": ('{"_class_name": 5}', "needs an object whose \"_class_name\" is text"),
    "class name is a list": ('{"_class_name": ["StableDiffusionPipeline"]}', "is text"),
    "a list": ('["StableDiffusionPipeline"]', "is not a diffusers model index"),
    "deep nesting": ('{"a": ' + "[" * 100_000 + "]" * 100_000 + "}", "nesting deeper than 64 levels"),
    "huge integer": ('{"_class_name": "StableDiffusionPipeline", "n": ' + "7" * 5000 + "}", "64-bit range"),
    "NaN": ('{"_class_name": "StableDiffusionPipeline", "x": NaN}', "NaN is not a number"),
    "not UTF-8": (b'{"_class_name": "\xff"}', "not UTF-8"),
    "broken": ('{"_class_name": ', "is not valid JSON"),
    "too big": ('{"_class_name": "StableDiffusionPipeline", "x": "' + "a" * 2**21 + '"}', "more than the limit"),
}


@pytest.mark.parametrize("case", sorted(GARBAGE))
def test_garbage_model_index_is_one_model_error(tmp_path, case):
    text, message = GARBAGE[case]
    folder = tmp_path / "model"
    folder.mkdir()
    index = folder / "model_index.json"
    index.write_bytes(text if isinstance(text, bytes) else text.encode())
    with pytest.raises(ModelError) as info:
        locate_base(str(folder), allow_pickle=False)
    assert message in str(info.value) and "model_index.json" in str(info.value)
