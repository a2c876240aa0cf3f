"""`studio history ...`: inspect, check, export, import and rate the history kept in a `.studio` document."""

from __future__ import annotations

import argparse
import json
import sys
from datetime import datetime
from typing import Any
from studio.history.setting_groups import payload_fields


def _summary(kind: str, payload: dict[str, Any]) -> str:
    """One short line saying what an event did."""
    if kind == "stroke":
        return f"{payload['tool']} on {payload['layer']} at {payload['bbox']}"
    if kind == "setting":
        return ", ".join(f"{name} = {json.dumps(value, ensure_ascii=False)[:60]}"
                         for name, value in payload_fields(payload).items())
    if kind == "generation":
        prompt = payload["request"].get("prompt", "")[:50]
        return f"{payload['status']}: {prompt!r} seed {payload['seed']}, {len(payload['results'])} result(s)"
    if kind == "feedback":
        parts = [payload["verdict"], f"{payload['rating']} stars" if payload["rating"] else None, payload["comment"]]
        return f"on generation {payload['generation']}: " + ", ".join(p for p in parts if p)
    if kind == "chat":
        applied = " (applied)" if payload["applied"] else ""
        return f"{payload['message'][:40]!r} -> {payload['reply'][:40]!r}{applied}"
    if kind in ("pose", "reference"):
        return f"layer {payload['layer']}"
    if kind == "layer":
        return f"{payload['layer']}: {payload['changes']}"
    if kind == "snapshot":
        state = payload["state"]
        return f"{state['width']}x{state['height']}, layers {', '.join(l['name'] for l in state['layers'])}"
    if kind == "training":
        where = f" -> {payload['output']}" if payload["output"] else ""
        return f"{payload['status']}: {payload['task']}, {payload['steps']} steps on {payload['data']['rows']} rows{where}"
    if kind in ("restore", "branch"):
        return f"revision {payload['revision']} on branch {payload.get('branch') or payload.get('name')}"
    return ""


def _when(stamp: float) -> str:
    """Local date and time of a Unix time; a time that cannot be shown (a damaged or odd file) says so."""
    try:
        return datetime.fromtimestamp(stamp).strftime("%Y-%m-%d %H:%M:%S")
    except (OverflowError, ValueError, OSError, TypeError):
        return f"{'(bad time)':<19}"


def _log(args: argparse.Namespace) -> int:
    from studio.history.store import HistoryStore

    with HistoryStore.open(args.document, readonly=True) as store:
        events = store.events(kinds=args.kind, text=args.search, branch=args.branch, limit=args.limit,
                              newest_first=args.limit is not None)
        if args.limit is not None:
            events.reverse()
        for event in events:
            if args.json:
                record = {"id": event.id, "time": event.time, "updated": event.updated, "kind": event.kind,
                          "revision": event.revision, "parent": event.parent, "branch": event.branch,
                          "payload": event.payload}
                print(json.dumps(record, ensure_ascii=False, sort_keys=True))
            else:
                when = _when(event.time)
                print(f"{event.id:>6}  {when}  {event.branch:<12} r{event.revision:<6} {event.kind:<10} "
                      f"{_summary(event.kind, event.payload)}")
    return 0


def _check(args: argparse.Namespace) -> int:
    from pathlib import Path

    from studio.history.check import check_document
    from studio.history.schema import probe

    probe(Path(args.document))  # a file that is not a document at all: one sentence, exit 2
    problems = check_document(args.document)
    if problems:
        print(f"{args.document}: {len(problems)} problem(s) found:", file=sys.stderr)
        for problem in problems:
            print(f"  - {problem}", file=sys.stderr)
        print(f"To copy out every event that still reads: studio history salvage {args.document} --out NEW.studio",
              file=sys.stderr)
        return 1
    print(f"{args.document}: ok")
    return 0


def _salvage(args: argparse.Namespace) -> int:
    from studio.history.salvage import salvage_document

    summary = salvage_document(args.document, args.out)
    print(f"salvaged {summary.events} events and {summary.blobs} blobs into {summary.path} "
          f"({summary.lost} event(s) that still read could not be kept)")
    return 0


def _export(args: argparse.Namespace) -> int:
    from studio.history.errors import HistoryError
    from studio.history.export import export_history

    if args.format != "archive":
        from studio.history.presets import export_preset

        summary = export_preset(args.document, args.out, format=args.format, kind=args.kind,
                                min_rating=args.min_rating)
        print(f"exported {summary.rows} {args.format} rows from {summary.documents} document(s) "
              f"({summary.images} result images read) to {summary.path}")
        return 0
    if len(args.document) != 1 or args.kind is not None or args.min_rating is not None:
        raise HistoryError("An archive holds one document; --kind and --min-rating need --format controlnet.")
    summary = export_history(args.document[0], args.out)
    print(f"exported {summary.events} events, {summary.blobs} blobs, {summary.generations} generations and "
          f"{summary.images} result images "
          f"to {summary.path} ({summary.bytes_written / 1e6:.1f} MB in {summary.seconds:.2f} s)")
    return 0


def _import(args: argparse.Namespace) -> int:
    from studio.history.importer import import_history

    summary = import_history(args.archive, args.out)
    print(f"imported {summary.events} events, {summary.blobs} blobs and {summary.branches} branch(es) "
          f"into {summary.path}")
    return 0


def _warn_if_held(document: str) -> None:
    """Tell the user when a window has the document open: it shows this change after its next reload."""
    from pathlib import Path

    from studio.history.lock import holder_of

    holder = holder_of(Path(document))
    if holder is not None:
        print(f"note: {holder.sentence(Path(document)).split('; it was')[0]}; the change is saved, and that "
              "window shows it when it reloads the document.", file=sys.stderr)


def _feedback(args: argparse.Namespace) -> int:
    from studio.history.errors import HistoryError
    from studio.history.store import HistoryStore

    verdict = "accept" if args.accept else "reject" if args.reject else None
    if verdict is None and args.rating is None and args.comment is None:
        raise HistoryError("Give --accept, --reject, --rating N or --comment TEXT.")
    with HistoryStore.open(args.document) as store:
        _warn_if_held(args.document)
        done = store.feedback(args.generation, verdict=verdict, rating=args.rating, comment=args.comment,
                              result=args.result).result()
    print(f"feedback recorded as event {done.event} (revision {done.revision})")
    return 0


def _restore(args: argparse.Namespace) -> int:
    from studio.history.store import HistoryStore

    with HistoryStore.open(args.document) as store:
        _warn_if_held(args.document)
        done = store.restore(args.revision, branch=args.branch).result()
        branch = store.current_branch().name
    print(f"restored revision {args.revision} as revision {done.revision} on the new branch {branch!r}")
    return 0


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the `history` command group."""
    parser = subparsers.add_parser("history", help="inspect, check, export and import a document's history")
    commands = parser.add_subparsers(dest="history_command", metavar="SUBCOMMAND", required=True)

    log = commands.add_parser("log", help="list the events of a document")
    log.add_argument("document", help="the .studio document")
    log.add_argument("--json", action="store_true", help="one JSON object per event")
    log.add_argument("--kind", action="append", help="only events of this kind (repeatable)")
    log.add_argument("--search", help="only events whose prompt, chat or comment contains these words")
    log.add_argument("--branch", help="only events on this branch")
    log.add_argument("--limit", type=int, help="only the newest N events")
    log.set_defaults(func=_log)

    check = commands.add_parser("check", help="check a document; exit 0 when it is sound")
    check.add_argument("document")
    check.set_defaults(func=_check)

    salvage = commands.add_parser("salvage", help="copy every event that still reads out of a damaged document")
    salvage.add_argument("document")
    salvage.add_argument("--out", required=True, help="the new .studio document (must not exist)")
    salvage.set_defaults(func=_salvage)

    export = commands.add_parser("export", help="export the history as a zip (events, blobs, per-image Parquet) "
                                                "or as a training set (--format)")
    export.add_argument("document", nargs="+", help="the .studio document (several for a training set)")
    export.add_argument("--out", required=True, help="the zip file, or the new folder of a training set")
    export.add_argument("--format", choices=("archive", "controlnet", "preference"), default="archive",
                        help="archive (default): the whole history; controlnet: image, text, conditioning_image "
                             "of liked images; preference: Pick-a-Pic v2 pairs")
    export.add_argument("--kind", choices=("edge", "pose", "depth"), help="the control map (controlnet format)")
    export.add_argument("--min-rating", type=int, choices=range(1, 6), metavar="{1..5}",
                        help="controlnet format: rated images need this many stars (default 4; unrated ones "
                             "count when accepted)")
    export.set_defaults(func=_export)

    importer = commands.add_parser("import", help="build a new document from an exported zip")
    importer.add_argument("archive")
    importer.add_argument("--out", required=True, help="the new .studio document (must not exist)")
    importer.set_defaults(func=_import)

    feedback = commands.add_parser("feedback", help="accept, reject, rate or comment a generation")
    feedback.add_argument("document")
    feedback.add_argument("--generation", type=int, required=True, help="the generation's event id (see log)")
    verdict = feedback.add_mutually_exclusive_group()
    verdict.add_argument("--accept", action="store_true")
    verdict.add_argument("--reject", action="store_true")
    feedback.add_argument("--rating", type=int, choices=range(1, 6), metavar="{1..5}", help="stars")
    feedback.add_argument("--comment")
    feedback.add_argument("--result", type=int, help="the result's index when a generation made several")
    feedback.set_defaults(func=_feedback)

    restore = commands.add_parser("restore", help="go back to a revision on a new branch (nothing is lost)")
    restore.add_argument("document")
    restore.add_argument("--revision", type=int, required=True)
    restore.add_argument("--branch", help="name of the new branch")
    restore.set_defaults(func=_restore)
