"""Show a revision read from the history in the open document, as one undo step.

Restore and branch switches used to replace the `Document`, so Undo started from nothing although "Apply" had
said "Undo takes it back". Here the document stays: its layers take the revision's content
(`studio.document.content_step.replace_content`) and the Generate panel its settings, grouped as one step
("Restore revision 4") on the same undo history. Nothing of this is logged: the history file already holds that
revision (the fork is logged by the session); undoing it later is logged like any edit.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from studio.app.generation_state import GenerationState, SettingsStep
from studio.document.content_step import replace_content

if TYPE_CHECKING:
    from studio.app.document_storage import DocumentRead
    from studio.document import Document
    from ui.history.recorder import HistoryRecorder


def show_in_place(document: "Document", read: "DocumentRead", *, recorder: "HistoryRecorder",
                  state: GenerationState, label: str) -> bool:
    """Put `read` into `document` as the undo step `label`; False (nothing changed) when its size differs."""
    if read.document.size != document.size:
        return False
    before = state.value
    history = document.history
    with recorder.not_logging(), history.group(label):
        replace_content(document, read.document, label=label)
        recorder.show_settings(read.settings)
        after = state.value
        if after != before:
            history.push(SettingsStep(state, before=before, after=after, label=label))
    return True
