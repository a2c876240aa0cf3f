"""ControlNet Studio core: documents, generation engine, history store and assistant. Never imports Qt."""

__version__ = "0.1.0"
