"""Errors of the scorer, each one sentence the designer can act on."""

from __future__ import annotations

from studio.errors import StudioError


class ScorerError(StudioError):
    """Bad scorer folder, too little feedback to train on, unreadable input."""


class EncoderMissingError(ScorerError):
    """The CLIP encoder named is not on this machine: the scorer stays off until one is given."""
