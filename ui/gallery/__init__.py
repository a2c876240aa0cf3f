"""The gallery feature: the results of the current document."""
