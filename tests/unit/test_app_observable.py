"""The application state's observer primitive."""

from __future__ import annotations

import pytest

from studio.app.observable import Event


def test_callbacks_run_in_order_and_disconnect():
    event, calls = Event("changed"), []
    first = event.connect(lambda value: calls.append(("first", value)))
    event.connect(lambda value: calls.append(("second", value)))
    event.emit(1)
    first()
    event.emit(2)
    assert calls == [("first", 1), ("second", 1), ("second", 2)]
    assert len(event) == 1
    event.disconnect(print)  # not connected: nothing happens


def test_blocked_stops_the_echo_and_nests():
    event, calls = Event(), []
    event.connect(calls.append)
    with event.blocked():
        with event.blocked():
            event.emit("inner")
        event.emit("outer")
    event.emit("after")
    assert calls == ["after"]


def test_a_callback_may_disconnect_itself_during_emission():
    event, calls = Event(), []

    def once(value):
        calls.append(value)
        disconnect()

    disconnect = event.connect(once)
    event.connect(lambda value: calls.append(value * 10))
    event.emit(1)
    event.emit(2)
    assert calls == [1, 10, 20]


def test_an_error_in_a_callback_reaches_the_emitter():
    event = Event()
    event.connect(lambda: 1 / 0)
    with pytest.raises(ZeroDivisionError):
        event.emit()
