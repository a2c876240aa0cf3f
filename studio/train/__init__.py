"""Training from the history: a style LoRA of the base UNet (`studio train lora`) and a ControlNet
(`studio train controlnet`) on a training export (`studio history export --format controlnet`), through
🤗 accelerate, so one process on a CPU or a GPU and `accelerate launch --multi_gpu` run the same code.

No Qt here; the window starts these in their own process.
"""
