"""The chat session state the window keeps (Qt-free)."""

from __future__ import annotations


def test_only_finished_chat_turns_with_a_reply_are_read_again():
    from studio.app.chat_context import ChatTurn, PastTurn, past_turns

    turns = [ChatTurn("a", raw="first", state="done"), ChatTurn("b", raw="half", state="stopped"),
             ChatTurn("c", raw="  ", state="done"), ChatTurn("d", raw="fine [Calculator(1+1) → 2]", state="done")]
    assert past_turns(turns) == [PastTurn("a", "first"), PastTurn("d", "fine [Calculator(1+1) → 2]")]
    assert ChatTurn("x").tool_calls() == []
