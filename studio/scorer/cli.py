"""`studio scorer train DOC... --encoder SRC --out DIR` and `studio scorer rank DOC --scorer DIR`."""

from __future__ import annotations

import argparse


def _train(args: argparse.Namespace) -> int:
    from pathlib import Path

    from studio.scorer.data import load
    from studio.scorer.encoder import ClipEncoder
    from studio.scorer.model import save
    from studio.scorer.training import TrainSettings, cross_validate, fit

    encoder = ClipEncoder(args.encoder)
    data = load(args.documents, encoder)
    settings = TrainSettings(folds=args.folds)
    evaluation = cross_validate(data, settings)
    head = fit(data.features, data.pairs, data.targets, settings)
    scorer_id = save(Path(args.out), head, encoder.info, {"evaluation": evaluation.to_dict(),
                     "images": len(data.items), "pairs": len(data.pairs)})
    print(f"trained on {len(data.items)} images and {len(data.pairs)} pairs; scorer {scorer_id} in {args.out}")
    if evaluation.accuracy is None:
        print("too few requests with pairs for k-fold accuracy")
    else:
        print(f"{evaluation.folds}-fold pairwise accuracy {evaluation.accuracy:.3f} on {evaluation.pairs} held-out "
              f"pairs; newest first {evaluation.newest_first:.3f}; chance {evaluation.chance:.3f}")
    return 0


def _rank(args: argparse.Namespace) -> int:
    from studio.scorer.data import load
    from studio.scorer.model import Scorer, keep_probabilities

    scorer = Scorer.load(args.scorer, encoder=args.encoder)
    data = load([args.document], scorer.encoder, labelled_only=False)
    probabilities = keep_probabilities(scorer.scores(data.features))
    if not data.items:
        print(f"{args.document} has no result images to rank")
    for p, item in sorted(zip(probabilities, data.items), key=lambda x: -x[0]):
        print(f"{p:.3f}  generation {item.generation} #{item.index}  seed {item.seed}  "
              f"{item.verdict or '-'}  {item.prompt[:50]!r}")
    return 0


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("scorer", help="learn this designer's taste from the history; rank results")
    commands = parser.add_subparsers(dest="scorer_command", metavar="SUBCOMMAND", required=True)
    train = commands.add_parser("train", help="train a scorer on documents' feedback")
    train.add_argument("documents", nargs="+")
    train.add_argument("--encoder", required=True, help="CLIP folder, .safetensors file or HF cache id")
    train.add_argument("--out", required=True, help="the scorer folder")
    train.add_argument("--folds", type=int, default=5)
    train.set_defaults(func=_train)
    rank = commands.add_parser("rank", help="print a document's results with their keep probability")
    rank.add_argument("document")
    rank.add_argument("--scorer", required=True)
    rank.add_argument("--encoder", help="another source of the scorer's CLIP encoder")
    rank.set_defaults(func=_rank)
