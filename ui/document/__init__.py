"""The document feature: files (new, open, save, recovery), layer commands, undo actions, the layers panel."""
