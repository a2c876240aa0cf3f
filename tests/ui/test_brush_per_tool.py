"""Each tool keeps its own brush size and hardness: a big soft depth brush does not turn the edge brush into a
blob, and coming back to a tool gives back what it had."""

from __future__ import annotations

import numpy as np
from canvas_input import drag


def test_size_and_hardness_are_remembered_per_tool(qtbot, window):
    options, settings = window.tool_options, window.view.tool_settings
    window.tool_actions["brush"].trigger()
    options.size_spin.setValue(6)
    options.hardness_slider.setValue(100)
    window.tool_actions["depth_brush"].trigger()
    options.size_spin.setValue(118)
    options.hardness_slider.setValue(40)
    assert (settings.brush_size, settings.depth_hardness) == (118, 0.4)

    window.tool_actions["brush"].trigger()
    assert options.size_spin.value() == 6 and settings.brush_size == 6
    assert options.hardness_slider.value() == 100 and settings.edge_hardness == 1.0
    drag(qtbot, window, [(100, 200), (400, 200)])
    drawn = window.document.edge.data[:, 250] > 0
    assert 4 <= int(drawn.sum()) <= 9  # a 6 px line, not a 118 px blob
    assert set(np.unique(window.document.edge.data)) == {0, 255}  # and hard

    window.tool_actions["eraser"].trigger()
    assert options.size_spin.value() == 8  # a tool used for the first time starts from the defaults
    options.size_spin.setValue(30)
    options.hardness_slider.setValue(20)
    window.tool_actions["depth_brush"].trigger()
    assert (options.size_spin.value(), options.hardness_slider.value()) == (118, 40)
    window.tool_actions["eraser"].trigger()
    assert (options.size_spin.value(), options.hardness_slider.value()) == (30, 20)
    window.tool_actions["brush"].trigger()
    assert (options.size_spin.value(), options.hardness_slider.value()) == (6, 100)


def test_bracket_keys_change_only_the_current_tools_size(qtbot, window):
    options = window.tool_options
    window.tool_actions["brush"].trigger()
    options.size_spin.setValue(10)
    options.change_size(2.0)
    window.tool_actions["line"].trigger()
    assert options.size_spin.value() == 8
    window.tool_actions["brush"].trigger()
    assert options.size_spin.value() == 20
