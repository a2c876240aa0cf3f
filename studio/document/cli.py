"""`studio pose|edges|depth ...` commands: render and make poses, extract edges, import or estimate depth."""

from __future__ import annotations

import argparse
from pathlib import Path

from studio.document.errors import DocumentError


def register(subparsers) -> None:
    """Add the pose, edges and depth command groups to the `studio` parser."""
    _register_pose(subparsers)
    _register_edges(subparsers)
    _register_depth(subparsers)


def _size_args(parser: argparse.ArgumentParser, what: str) -> None:
    parser.add_argument("--width", type=int, help=f"{what} width in pixels")
    parser.add_argument("--height", type=int, help=f"{what} height in pixels")


def _write(path: str, data: bytes) -> None:
    target = Path(path)
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(data)
    except OSError as exc:
        raise DocumentError(f"Cannot write '{target}': {exc.strerror or exc}.") from exc
    print(target)


def _read(path: str) -> bytes:
    try:
        return Path(path).read_bytes()
    except OSError as exc:
        raise DocumentError(f"Cannot read '{path}': {exc.strerror or exc}.") from exc


# -- pose ----------------------------------------------------------------------------------------
def _register_pose(subparsers) -> None:
    pose = subparsers.add_parser("pose", help="render OpenPose JSON, make poses from templates")
    sub = pose.add_subparsers(dest="pose_command", metavar="ACTION", required=True)

    render = sub.add_parser("render", help="draw OpenPose JSON as the ControlNet OpenPose input image")
    render.add_argument("--json", required=True, help="OpenPose JSON file")
    _size_args(render, "output (default: the JSON canvas; also the canvas when the JSON has none)")
    render.add_argument("--out", required=True, help="PNG to write")
    render.set_defaults(func=_pose_render)

    template = sub.add_parser("template", help="write a built-in pose as OpenPose JSON")
    template.add_argument("name", nargs="?", help="template name (see --list)")
    template.add_argument("--list", action="store_true", help="list template names and exit")
    _size_args(template, "canvas (default 512)")
    template.add_argument("--hands", action="store_true", help="add template hands")
    template.add_argument("--face", action="store_true", help="add a template face")
    template.add_argument("--out", help="JSON file to write")
    template.set_defaults(func=_pose_template)

    from studio.pose.from_photo import register as register_from_photo

    register_from_photo(sub)  # `studio pose from-photo IMAGE --out pose.json` (MediaPipe, optional extra)


def _pose_render(args) -> int:
    from studio.document.document import check_size
    from studio.document.openpose_json import loads_openpose
    from studio.document.pose_render import render_people
    from studio.imageio import encode_png

    given = (args.width, args.height) if args.width and args.height else None
    parsed = loads_openpose(_read(args.json), canvas_size=given)
    width, height = check_size(args.width or parsed.canvas_width, args.height or parsed.canvas_height)
    image = render_people(
        parsed.people, canvas_size=(parsed.canvas_width, parsed.canvas_height), width=width, height=height
    )
    _write(args.out, encode_png(image))
    return 0


def _pose_template(args) -> int:
    from studio.document.document import check_size
    from studio.document.openpose_json import dumps_openpose
    from studio.document.pose_templates import make_person, template_names

    if args.list or not args.name:
        print("\n".join(template_names()))
        return 0 if args.list else 1
    if not args.out:
        raise DocumentError("Give --out for the pose JSON to write.")
    width, height = check_size(args.width or 512, args.height or 512)
    person = make_person(
        args.name, center=(width / 2, height / 2), height=0.8 * height, hands=args.hands, face=args.face
    )
    _write(args.out, dumps_openpose([person], canvas_width=width, canvas_height=height).encode("utf-8"))
    return 0


# -- edges ---------------------------------------------------------------------------------------
def _register_edges(subparsers) -> None:
    edges = subparsers.add_parser("edges", help="edge and scribble maps from a picture")
    sub = edges.add_subparsers(dest="edges_command", metavar="METHOD", required=True)
    canny = sub.add_parser("canny", help="OpenCV Canny edges (white on black)")
    canny.add_argument("--low", type=float, default=100.0, help="low threshold (default 100)")
    canny.add_argument("--high", type=float, default=200.0, help="high threshold (default 200)")
    scribble = sub.add_parser("scribble", help="soft scribble lines by difference of Gaussians")
    scribble.add_argument("--threshold", type=float, default=16.0, help="line darkness threshold (default 16)")
    scribble.add_argument("--thickness", type=int, default=1, help="dilation radius in pixels (default 1)")
    for parser in (canny, scribble):
        parser.add_argument("--image", required=True, help="picture to read")
        _size_args(parser, "output (default: the picture's; other sizes are fitted by scale and centre crop)")
        parser.add_argument("--out", required=True, help="PNG to write")
        parser.set_defaults(func=_edges)


def _edges(args) -> int:
    from studio.document.edge_detect import detect_edges
    from studio.imageio import encode_png, fit_to_size, load_rgb

    image = _fitted(load_rgb(args.image), args, fit_to_size)
    if args.edges_command == "canny":
        edges = detect_edges(image, "canny", low=args.low, high=args.high)
    else:
        edges = detect_edges(image, "scribble", threshold=args.threshold, thickness=args.thickness)
    _write(args.out, encode_png(edges))
    return 0


def _fitted(image, args, fit_to_size):
    from studio.document.document import check_size

    height, width = image.shape[:2]
    width, height = check_size(args.width or width, args.height or height)
    return fit_to_size(image, width, height)


# -- depth ---------------------------------------------------------------------------------------
def _register_depth(subparsers) -> None:
    depth = subparsers.add_parser("depth", help="depth maps: import a grey image, estimate from a photo")
    sub = depth.add_subparsers(dest="depth_command", metavar="ACTION", required=True)
    imp = sub.add_parser("import", help="read an 8/16-bit grey depth image (near = bright)")
    imp.add_argument("--invert", action="store_true", help="the image has near = dark")
    est = sub.add_parser("estimate", help="estimate depth with a local transformers depth model")
    est.add_argument("--model", required=True, help="folder of a transformers depth-estimation model")
    est.add_argument("--device", help="torch device (default: cuda if available, else cpu)")
    for parser in (imp, est):
        parser.add_argument("--image", required=True, help="picture to read")
        _size_args(parser, "output (default: the picture's)")
        parser.add_argument("--bits", type=int, choices=(8, 16), default=16, help="PNG bit depth (default 16)")
        parser.add_argument("--out", required=True, help="PNG to write")
    imp.set_defaults(func=_depth_import)
    est.set_defaults(func=_depth_estimate)


def _save_depth(depth, args) -> None:
    import numpy as np

    from studio.imageio import encode_png

    scale, dtype = (255.0, np.uint8) if args.bits == 8 else (65535.0, np.uint16)
    _write(args.out, encode_png(np.rint(np.clip(depth, 0.0, 1.0) * scale).astype(dtype)))


def _depth_import(args) -> int:
    from studio.imageio import fit_to_size, load_gray

    depth = _fitted(load_gray(args.image), args, fit_to_size)
    _save_depth(1.0 - depth if args.invert else depth, args)
    return 0


def _depth_estimate(args) -> int:
    import torch

    from studio.document.depth_estimate import estimate_depth
    from studio.imageio import fit_to_size, load_rgb

    torch.set_num_threads(max(1, min(4, torch.get_num_threads())))
    image = _fitted(load_rgb(args.image), args, fit_to_size)
    _save_depth(estimate_depth(image, args.model, device=args.device), args)
    return 0
