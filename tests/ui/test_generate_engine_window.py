"""The Generate panel's LoRAs and hires fix through the real engine on tiny models: a kohya LoRA changes the
picture (from the list or an A1111 prompt tag), pickle or wrong-family LoRAs are refused with the engine's message
in the panel, and the hires fix gives the larger picture."""

from __future__ import annotations

import numpy as np
import torch
from safetensors.torch import load_file, save_file

from studio.engine.tiny_lora import write_tiny_lora

WAIT_MS = 120_000


def _run(qtbot, window, prompt="a red house"):
    panel = window.generate_panel
    settings = panel.settings()
    settings.width = settings.height = 64
    settings.steps, settings.seed, settings.prompt = 2, 5, prompt
    panel.set_settings(settings)
    with qtbot.waitSignal(window.generation.finished, timeout=WAIT_MS) as finished:
        window.generation.generate()
    qtbot.waitUntil(lambda: not window.generation.running, timeout=WAIT_MS)
    return finished.args[1]


def _failure(qtbot, window) -> str:
    with qtbot.waitSignal(window.generation.failed, timeout=WAIT_MS) as failed:
        assert window.generation.generate()
    qtbot.waitUntil(lambda: not window.generation.running, timeout=WAIT_MS)
    return failed.args[0]


def test_panel_loras_run_through_the_engine_and_bad_ones_are_refused(qtbot, tiny_window, tiny_models, tmp_path,
                                                                     app_paths):
    window, panel = tiny_window, tiny_window.generate_panel
    plain = _run(qtbot, window)[0].image
    lora = write_tiny_lora(tiny_models, tmp_path / "tiny-style.safetensors")
    assert panel.lora_list.add(lora)
    panel.lora_list.rows[0].weight.setValue(2.0)
    styled = _run(qtbot, window)[0]
    assert styled.request.loras[0].path == str(lora)
    assert not np.array_equal(styled.image, plain)
    assert any(model.get("role") == "lora" for model in styled.models)

    panel.lora_list.remove(0)
    pickled = tmp_path / "old-style.pt"
    torch.save(load_file(str(lora)), pickled)
    panel.lora_list.add(pickled)
    message = _failure(qtbot, window)
    assert "Refusing to load" in message and panel.message_bar.kind == "error"
    assert panel.message_bar.text() == message

    panel.lora_list.remove(0)
    xl = tmp_path / "xl-style.safetensors"  # the key layout of a kohya SDXL LoRA
    save_file({"lora_te1_text_model_encoder_layers_0_self_attn_q_proj.lora_down.weight": torch.zeros(4, 32),
               "lora_te1_text_model_encoder_layers_0_self_attn_q_proj.lora_up.weight": torch.zeros(32, 4),
               "lora_unet_input_blocks_4_1_transformer_blocks_0_attn2_to_k.lora_down.weight": torch.zeros(4, 2048),
               "lora_unet_input_blocks_4_1_transformer_blocks_0_attn2_to_k.lora_up.weight": torch.zeros(640, 4)},
              str(xl))
    panel.lora_list.add(xl)
    message = _failure(qtbot, window)
    assert "The LoRA xl-style.safetensors is for SDXL; the base model is SD 1.x" in message

    panel.lora_list.rows[0].use.setChecked(False)  # switched off: the run goes ahead without it
    assert _run(qtbot, window)[0].request.loras == []

    # the A1111 prompt tag finds the same LoRA in the LoRA folder kept in the model settings
    from studio.app.loras import set_lora_folder

    set_lora_folder(app_paths.model_settings, tmp_path)
    window.generation.reload_models()
    assert panel.lora_list.choice.findText("tiny-style") >= 0
    tagged = _run(qtbot, window, prompt="a red house <lora:tiny-style:2>")[0]
    assert np.array_equal(tagged.image, styled.image)


def test_the_hires_fix_from_the_panel_gives_the_larger_picture(qtbot, tiny_window):
    window, panel = tiny_window, tiny_window.generate_panel
    panel.hires_fields.enabled_check.setChecked(True)
    panel.hires_fields.scale_spin.setValue(1.5)
    panel.hires_fields.strength_spin.setValue(0.5)
    entry = _run(qtbot, window)[0]
    assert entry.image.shape == (96, 96, 3) and entry.request.hires_scale == 1.5
    assert panel.hires_fields.size_label.text() == "96 × 96 px"


def test_live_drafts_leave_the_hires_fix_out(qtbot, tiny_window):
    window, panel = tiny_window, tiny_window.generate_panel
    settings = panel.settings()
    settings.width = settings.height = 64
    settings.hires_enabled, settings.hires_scale = True, 2.0
    panel.set_settings(settings)
    window.live.debounce_s = 0.05
    with qtbot.waitSignal(window.live.frame_shown, timeout=WAIT_MS) as first:
        panel.live_controls.button.click()
    shown = first.args[0]
    assert shown.frame.request.hires_scale == 1.0 and shown.image.shape == (64, 64, 3)
    assert panel.settings().hires_enabled  # the panel keeps it for real runs
    panel.live_controls.button.click()
    qtbot.waitUntil(lambda: not window.live.enabled, timeout=WAIT_MS)
