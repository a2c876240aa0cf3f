"""What the history panel shows, read from the store on the history thread: the timeline of the current
branch (with the revisions it grew from, through earlier branches), one line of text per revision, thumbnails,
generation details for feedback, and the images two revisions are compared by."""

from __future__ import annotations

import time
from dataclasses import dataclass

import cv2
import numpy as np

from studio.app.history_images import state_composite
from studio.history import events as ev
from studio.history.setting_groups import payload_fields
from studio.history.reads import Event
from studio.history.store import HistoryStore

TIMELINE_LIMIT = 400  # newest revisions listed (older ones are reached by filtering or searching)
RESULT_SIDE = 96
COMPARE_SIDE = 512
SUMMARY_CHARS = 70

DOCUMENT_KINDS = (ev.SNAPSHOT, ev.STROKE, ev.POSE, ev.LAYER, ev.REFERENCE)  # events that change the canvas

#: Kind filter of the panel: label -> event kinds (None: every kind).
KIND_FILTERS: dict[str, tuple[str, ...] | None] = {
    "All events": None,
    "Drawing": DOCUMENT_KINDS,
    "Prompts & settings": (ev.SETTING,),
    "Generations": (ev.GENERATION,),
    "Feedback": (ev.FEEDBACK,),
    "Chat": (ev.CHAT,),
    "Training": (ev.TRAINING,),
    "Restores & branches": (ev.CREATED, ev.RESTORE, ev.BRANCH),
}


@dataclass(frozen=True)
class TimelineRow:
    revision: int
    event: int
    kind: str
    time: float
    branch: str
    summary: str
    thumbnail: str | None  # hash of the revision's thumbnail or of its nearest ancestor's


@dataclass(frozen=True)
class Timeline:
    kinds: tuple[str, ...] | None  # the filter it was read with
    text: str
    branches: list[str]
    current: str
    head: int
    rows: list[TimelineRow]  # newest first
    matched: int  # rows before the limit
    thumbnails: dict[str, np.ndarray]  # decoded thumbnails the panel did not have yet


@dataclass(frozen=True)
class GenerationDetails:
    """A generation with small copies of its results and the feedback it got so far."""

    event: int
    status: str
    prompt: str
    results: list[np.ndarray]
    verdict: str | None
    rating: int | None
    comments: list[str]


def _short(text: str, limit: int = SUMMARY_CHARS) -> str:
    text = " ".join(str(text).split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def summarize(event: Event) -> str:
    """One line saying what an event did; a change made by Undo or Redo says so first ("Undo: Brush stroke")."""
    undo = event.payload.get("undo")
    if isinstance(undo, dict) and undo.get("action") in ("undo", "redo"):
        step = str(undo.get("step") or "") or _what(event)
        return _short(f"{undo['action'].capitalize()}: {step}")
    return _what(event)


def _what(event: Event) -> str:
    p, kind = event.payload, event.kind
    if kind == ev.CREATED:
        return "Document created"
    if kind == ev.SNAPSHOT:
        return f"Whole document {p['state']['width']} × {p['state']['height']}"
    if kind == ev.STROKE:
        x, y, w, h = p["bbox"]
        return f"{p['layer'].capitalize()} stroke, {w} × {h} px at {x}, {y}"
    if kind == ev.POSE:
        return "Pose edit"
    if kind == ev.LAYER:
        changes = ", ".join(f"{key} {value}" for key, value in p["changes"].items())
        return _short(f"{p['layer'].capitalize()} layer: {changes}")
    if kind == ev.REFERENCE:
        return "Reference image set" if p["image"] else "Reference image removed"
    if kind == ev.SETTING:
        return _short(", ".join(f"{name.replace('_', ' ').capitalize()}: {value}"
                                for name, value in payload_fields(p).items()))
    if kind == ev.GENERATION:
        count = len(p["results"])
        return _short(f"Generation {p['status']}, {count} image{'s' * (count != 1)}: {p['request']['prompt'] or '–'}")
    if kind == ev.FEEDBACK:
        parts = [p["verdict"] or "", "★" * (p["rating"] or 0), f"“{p['comment']}”" if p["comment"] else ""]
        target = f"#{p['generation']}" + (f" image {p['result'] + 1}" if p["result"] is not None else "")
        return _short(f"Feedback on {target}: {' '.join(part for part in parts if part)}")
    if kind == ev.CHAT:
        return _short(f"Chat: {p['message']}")
    if kind == ev.TRAINING:
        task = "LoRA" if p["task"] == "lora" else "ControlNet"
        done = f", {p['steps']} steps on {p['data']['rows']} rows" + (f": {p['output']}" if p["output"] else "")
        return _short(f"{task} training {p['status']}{done}")
    if kind == ev.RESTORE:
        return f"Restored revision {p['revision']} (branch {p['branch']})"
    if kind == ev.BRANCH:
        return f"Branch {p['name']} from revision {p['revision']}"
    return kind


def load_timeline(store: HistoryStore, *, kinds: tuple[str, ...] | None, text: str,
                  known_thumbnails: frozenset[str], limit: int = TIMELINE_LIMIT) -> Timeline:
    """The current branch's line of revisions, newest first, filtered by event kinds and by text (prompts,
    chat turns, comments)."""
    current = store.current_branch()
    revisions = {revision.id: revision for revision in store.revisions()}
    lineage, cursor = [], current.head
    while cursor is not None and cursor in revisions:
        lineage.append(revisions[cursor])
        cursor = revisions[cursor].parent
    thumbnails, nearest = {}, None  # a revision shows the document as it was then; a generation its result
    for revision in reversed(lineage):
        if revision.kind in DOCUMENT_KINDS:
            nearest = revision.thumbnail or nearest
        own = revision.kind in DOCUMENT_KINDS or revision.kind == ev.GENERATION
        thumbnails[revision.id] = (revision.thumbnail if own else None) or nearest
    hits = _search(store, text, lineage) if text.strip() else None
    chosen = [r for r in lineage if (kinds is None or r.kind in kinds) and (hits is None or r.id in hits)]
    shown = chosen[:limit]
    events = {e.id: e for e in store.events(since=min((r.time for r in shown), default=None))} if shown else {}
    rows = [TimelineRow(revision=r.id, event=r.event, kind=r.kind, time=r.time, branch=r.branch,
                        summary=summarize(events.get(r.event) or store.event(r.event)), thumbnail=thumbnails[r.id])
            for r in shown]
    wanted = {row.thumbnail for row in rows if row.thumbnail is not None} - known_thumbnails
    return Timeline(kinds=kinds, text=text, branches=[branch.name for branch in store.branches()],
                    current=current.name,
                    head=current.head, rows=rows, matched=len(chosen),
                    thumbnails={hash_: store.image(hash_) for hash_ in wanted})


def count_text(shown: int, matched: int) -> str:
    """The panel's count: "1 revision", "12 revisions", "400 of 1,250 revisions"."""
    of = f" of {matched:,}" if matched > shown else ""
    return f"{shown:,}{of} revision{'' if max(shown, matched) == 1 else 's'}"


def matches_summary(text: str, event: Event) -> bool:
    """Whether every word of `text` is in the event's line or kind (case-insensitive): "pose" finds pose edits,
    "undo" the changes Undo made, "generation failed" the failed runs."""
    line = f"{event.kind} {summarize(event)}".casefold()
    return all(word in line for word in text.casefold().split())


def _search(store: HistoryStore, text: str, lineage: list) -> set[int]:
    """Revisions of `lineage` found by `text`: the store's text search (the whole prompt, chat and comment text)
    and, for every kind of event, its one-line summary."""
    hits = {event.revision for event in store.events(text=text)}
    wanted = {revision.id for revision in lineage} - hits
    if wanted:
        hits |= {event.revision for event in store.events()
                 if event.revision in wanted and matches_summary(text, event)}
    return hits


def _fit(image: np.ndarray, side: int) -> np.ndarray:
    if image.ndim == 2:
        image = np.repeat(image[:, :, None], 3, axis=2)
    image = image[:, :, :3]
    scale = min(1.0, side / max(image.shape[:2]))
    if scale == 1.0:
        return np.ascontiguousarray(image)
    size = (max(1, round(image.shape[1] * scale)), max(1, round(image.shape[0] * scale)))
    return cv2.resize(image, size, interpolation=cv2.INTER_AREA)


def load_generation(store: HistoryStore, event: int) -> GenerationDetails:
    generation = store.generation(event)
    return GenerationDetails(
        event=event, status=generation.payload["status"], prompt=generation.request["prompt"],
        results=[_fit(store.image(hash_), RESULT_SIDE) for hash_ in generation.results],
        verdict=generation.verdict, rating=generation.rating,
        comments=[f.comment for f in generation.feedback if f.comment],
    )


def load_comparison(store: HistoryStore, revision: int) -> tuple[np.ndarray, str]:
    """The picture of a revision (a generation's first result, otherwise the document's composite) and a caption."""
    info = store.revision(revision)
    event = store.event(info.event)
    caption = f"Revision {revision} · {time.strftime('%H:%M:%S', time.localtime(info.time))}\n{summarize(event)}"
    if event.kind == ev.GENERATION and event.payload["results"]:
        return _fit(store.image(event.payload["results"][0]), COMPARE_SIDE), caption
    return state_composite(store.state_at(revision), max_side=COMPARE_SIDE), caption
