"""Widgets and helpers every feature uses: the job runner (the one way back to the GUI thread), images, icons,
the message bar, persisted settings."""
