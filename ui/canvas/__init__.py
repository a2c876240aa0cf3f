"""The layered canvas: view, layer items and tools."""
