"""The chat feature: the assistant panel, its session and controller."""
