"""Training the Toolformer assistant: corpus, tokenizer and base model, call sampling, loss filter, fine-tuning,
evaluation, and the one command that rebuilds the shipped default model."""
