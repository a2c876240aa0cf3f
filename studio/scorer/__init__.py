"""A scorer of this designer's taste: a small head on CLIP embeddings of each result image and its prompt,
trained on the history's own choices (Bradley-Terry on preference pairs plus a pointwise loss on verdicts and
ratings). Qt-free: the window calls `studio.scorer.api`.

- `encoder`: the local CLIP model (a folder, a single .safetensors file or a Hugging Face cache id).
- `head`: the MLP (the LAION aesthetic-predictor shape).
- `data`: embedded result images, their labels and preference pairs, read from documents.
- `training`: the losses, k-fold pairwise accuracy against chance and "newest first", saving.
- `model`: a trained scorer folder: load it and give keep probabilities.
- `predictions`: the log of each prediction with its result, and how often later choices agreed.
- `api`: what the window calls.
"""
