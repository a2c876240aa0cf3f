"""Canvas tools: each turns pointer input into edits on the document core."""
