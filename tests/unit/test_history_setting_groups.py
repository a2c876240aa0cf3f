"""Consecutive grouped setting edits are one event and one revision, read back the same from the file."""

from __future__ import annotations

import pytest

from studio.history import events as ev
from studio.history.errors import HistoryError
from studio.history.store import HistoryStore


def test_grouped_edits_merge_into_one_revision_that_replays_from_the_file(tmp_path):
    path = tmp_path / "g.studio"
    with HistoryStore.create(path) as store:
        store.append(ev.setting_event("prompt", "a fox")).result()
        acks = [store.append(ev.setting_event(name, value, group=True)).result()
                for name, value in (("width", 640), ("height", 384), ("steps", 12), ("width", 768))]
        assert [a.coalesced for a in acks] == [False, True, True, True] and len({a.revision for a in acks}) == 1
        store.append(ev.setting_event("prompt", "a red fox")).result()  # not grouped: a revision of its own
        store.append(ev.setting_event("steps", 30, group=True)).result()  # after another event: a new group
        store.append(ev.setting_event("seed", 4)).result()  # ungrouped edits never join a group
    with HistoryStore.open(path, readonly=True) as store:
        settings = store.events(kinds=["setting"])
        assert [e.payload.get("fields") for e in settings] == [
            None, {"width": 768, "height": 384, "steps": 12}, None, None, None]
        assert settings[1].payload["field"] == "width" and settings[1].payload["value"] == 768
        assert store.state_at(settings[1].revision).settings == {"prompt": "a fox", "width": 768, "height": 384,
                                                                 "steps": 12}
        assert store.state_at().settings["steps"] == 30 and store.state_at().settings["seed"] == 4
        assert len(store.revisions()) == 6  # created + five


def test_a_late_grouped_edit_starts_a_new_revision(tmp_path, monkeypatch):
    import studio.history.writer as writer

    monkeypatch.setattr(writer, "GROUP_WINDOW", 0.0)
    with HistoryStore.create(tmp_path / "late.studio") as store:
        first = store.append(ev.setting_event("width", 640, group=True)).result()
        second = store.append(ev.setting_event("height", 384, group=True)).result()
        assert not second.coalesced and second.revision != first.revision


def test_a_bad_fields_map_is_refused():
    with pytest.raises(HistoryError, match="fields"):
        ev.validate_payload(ev.SETTING, {"field": "width", "value": 1, "fields": {"": 2}})
    with pytest.raises(HistoryError, match="fields"):
        ev.validate_payload(ev.SETTING, {"field": "width", "value": 1, "fields": []})
