"""The generate feature: the Generate panel, its controller, live mode."""
