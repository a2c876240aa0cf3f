"""Consecutive setting edits as one revision.

Setting Width, Height, Steps and Batch one after the other used to make four revisions, one per field. A setting
event may now carry several fields: `{"field": first, "value": its value, "fields": {name: value, ...}}` (the
first pair stays, so readers that know only one field still find a valid event). The window marks the edits it
wants grouped (`setting_event(..., group=True)`: its number and choice fields; prompts stay one revision per
field, the store merges typing into them); the writer merges a grouped edit into the newest event when that is a
grouped setting edit on the head, made less than `GROUP_WINDOW` seconds earlier, with nothing in between.
"""

from __future__ import annotations

from typing import Any, Mapping

GROUP_WINDOW = 30.0  # seconds since the group's last edit within which another edit joins it


def payload_fields(payload: Mapping[str, Any]) -> dict[str, Any]:
    """Every field a setting event sets, in the order they were first changed."""
    fields = payload.get("fields")
    if isinstance(fields, dict) and fields:
        return dict(fields)
    return {payload["field"]: payload.get("value")} if "field" in payload else {}


def merged_payload(earlier: Mapping[str, Any], later: Mapping[str, Any]) -> dict[str, Any]:
    """The payload of one event holding `earlier`'s fields updated by `later`'s."""
    fields = payload_fields(earlier)
    fields.update(payload_fields(later))
    first = next(iter(fields))
    if len(fields) == 1:
        return {"field": first, "value": fields[first]}
    return {"field": first, "value": fields[first], "fields": fields}
