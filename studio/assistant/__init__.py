"""The Toolformer chat assistant (core, no Qt).

Use `studio.assistant.assistant.Assistant`: `Assistant.load(path=None)` loads the shipped model from
`resources/assistant` (or any local transformers causal LM folder), and `generate_reply(messages, on_token=...,
stop=..., today=..., tools=True)` returns a `reply.Reply` (raw text with calls, visible answer, calls, prompt
fields). Tools are in `tools`, `calculator` and `calendar`; the call syntax in `calls`; decoding in `runtime`;
training, evaluation and the rebuild of the shipped model in `train`.
"""
