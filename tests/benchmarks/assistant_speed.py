"""How fast the shipped assistant answers on CPU: seconds per reply (up to 80 new tokens) for typical requests,
and the runtime's overhead against transformers' own greedy `generate` for the same number of tokens.

    .venv/bin/python tests/benchmarks/assistant_speed.py [--threads 2] [--model PATH] [--repeat 3]
"""

from __future__ import annotations

import argparse
import statistics
import time
from datetime import date

import torch

from studio.assistant.assistant import Assistant

REQUESTS = (
    "a poster of a red fox in a forest, watercolor",
    "write a prompt for a book cover of a lighthouse in a storm, oil painting",
    "A print is 18 inches wide at 300 dpi. How many pixels wide is it?",
    "What day of the week will it be in 45 days?",
)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--model", default=None)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    started = time.perf_counter()
    assistant = Assistant.load(args.model)
    print(f"model loaded in {time.perf_counter() - started:.2f} s; torch threads: {torch.get_num_threads()}")
    assistant.generate_reply("warm up", max_new_tokens=8)
    for request in REQUESTS:
        times, tokens = [], 0
        for _ in range(args.repeat):
            begin = time.perf_counter()
            reply = assistant.generate_reply(request, today=date(2026, 11, 26), max_new_tokens=80)
            times.append(time.perf_counter() - begin)
            tokens = len(assistant.tokenizer(reply.raw, add_special_tokens=False)["input_ids"])
        best = min(times)
        print(f"{statistics.median(times):.3f} s median, {best:.3f} s best, {tokens} tokens "
              f"({tokens / best:.0f} tokens/s), {len(reply.calls)} calls: {request!r}")
    model, tokenizer = assistant.loaded.model, assistant.tokenizer
    ids = tokenizer("User: " + REQUESTS[0] + "\nAssistant:", return_tensors="pt")["input_ids"]
    runtime, reference = [], []
    for _ in range(args.repeat):
        begin = time.perf_counter()
        assistant.generate_reply(REQUESTS[0], tools=False, max_new_tokens=80)
        runtime.append(time.perf_counter() - begin)
        begin = time.perf_counter()
        with torch.inference_mode():
            model.generate(ids, max_new_tokens=80, min_new_tokens=80, do_sample=False,
                           pad_token_id=tokenizer.pad_token_id)
        reference.append(time.perf_counter() - begin)
    print(f"80 tokens: runtime {min(runtime):.3f} s (stops at end of reply) vs transformers generate "
          f"{min(reference):.3f} s (forced 80 tokens); ratio {min(runtime) / min(reference):.2f}")


if __name__ == "__main__":
    main()
