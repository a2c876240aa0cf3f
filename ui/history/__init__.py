"""The history feature: the history file session, the recorder, the History panel, recovery."""
