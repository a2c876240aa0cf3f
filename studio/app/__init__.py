"""The application layer: what the window shows and does, as plain, observable Python (no Qt).

Views in `ui/` bind to this state and call into it; it calls the core (`studio.engine`, `studio.assistant`,
`studio.history`, `studio.document`). Everything here runs and is tested headless. See docs/architecture.md.
"""
