"""The observable generation settings and their undo step."""

from __future__ import annotations

import pytest

from studio.app.generation_settings import GenerationSettings
from studio.app.generation_state import GenerationState, SettingsStep
from studio.document.history import UndoHistory


def test_changes_are_announced_once_with_a_copy_and_equal_values_are_not():
    state, seen = GenerationState(), []
    state.changed.connect(seen.append)
    assert state.update(prompt="a fox", width=768)
    assert not state.update(prompt="a fox")
    assert len(seen) == 1 and seen[0].prompt == "a fox" and seen[0].width == 768
    seen[0].prompt = "changed by a listener"
    copy = state.value
    copy.steps = 3
    assert state.value.prompt == "a fox" and state.value.steps == 20  # nobody changes it behind its back
    with pytest.raises(TypeError, match="no field 'colour'"):
        state.update(colour="red")


def test_the_settings_step_undoes_and_redoes_through_the_state():
    state = GenerationState(GenerationSettings(prompt="before"))
    history = UndoHistory()
    before = state.value
    state.update(prompt="after", height=384)
    history.push(SettingsStep(state, before=before, after=state.value, label="Apply prompt fields"))
    history.undo()
    assert state.value.prompt == "before" and state.value.height == 512
    history.redo()
    assert state.value.prompt == "after" and state.value.height == 384

