"""Generation engine: requests as plain data, model discovery and loading, diffusers pipelines, tiny models."""
