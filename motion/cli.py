"""The ``motion`` command line.

Argument parsing only: every subcommand imports its heavy parts (torch, librosa, smplx,
pyrender) inside its ``run`` function, so ``motion --help`` and ``motion X --help`` are
instant.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Callable, Sequence

from motion.types import EMOTIONS

EPILOG = """\
examples:
  motion demo                                  # corpus clip -> video with audio in outputs/demo
  motion corpus data/corpus --size small       # synthetic BEAT2-layout emotional corpus
  motion info data/corpus/beat_english_v2.0.0/smplxflame_30/1_adam_1_3_0.npz
  motion export clip.npz clip.glb               # also .bvh, .gltf, --format amass
  motion render clip.npz --audio clip.wav -o clip.mp4 --preset upper_body
  motion models                                # which SMPL-X / FLAME files are used

Real SMPL-X / FLAME files: put them in a folder laid out as smplx/SMPLX_NEUTRAL.npz and
flame/FLAME_NEUTRAL.pkl and pass --models DIR or set MOTION_MODELS_DIR; without them the
built-in stand-in models are used.
"""

NOT_BUILT = {
    "generate": "speech -> body + face generation (body: issue 3, face: issue 4)",
    "fit": "training with LightningCLI (issue 3)",
    "evaluate": "metrics: FGD, beat consistency, L1div, LVE, FDD (issues 3 and 4)",
}


class CLIError(Exception):
    """An error to show the user as one line, without a traceback."""


# --------------------------------------------------------------------------- subcommands
def _add_corpus(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "corpus",
        help="generate the synthetic emotional speech + motion corpus (BEAT2 layout)",
        description="Generate a synthetic emotional speech + motion corpus laid out like BEAT2: "
        "espeak-ng speakers x 8 emotions x 3 intensities x sentences, with SMPL-X motion, "
        "FLAME-style face expression, phoneme timings and train/val/test splits.",
    )
    p.add_argument("root", type=Path, help="output folder (created; must be empty unless --overwrite)")
    p.add_argument("--size", default="small", choices=["tiny", "small", "large"],
                   help="corpus size: tiny (tests), small (default, < 2 min), large (training)")
    p.add_argument("--seed", type=int, default=0, help="random seed; same seed -> identical files (default 0)")
    p.add_argument("--workers", type=int, default=None, help="worker processes (default: min(cores, 2))")
    p.add_argument("--overwrite", action="store_true", help="replace an existing corpus at ROOT")
    p.add_argument("--speakers", type=int, default=None, help="override the number of speakers")
    p.add_argument("--sentences", type=int, default=None, help="override the number of sentences")
    p.set_defaults(func=_run_corpus)


def _run_corpus(args: argparse.Namespace) -> int:
    from motion.data.corpus.cli import run

    return int(run(args) or 0)


def _add_render(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "render",
        help="render a motion file to an MP4 video (offscreen), with its audio",
        description="Render a motion file (any supported npz flavour) to an MP4 with the "
        "body + face mesh, offscreen (EGL, OSMesa fall-back), audio muxed in.",
    )
    p.add_argument("input", type=Path, help="motion file (.npz: BEAT2 / AMASS / AMUSE / FLAME params)")
    p.add_argument("--audio", type=Path, default=None, help="audio to mux in (default: the motion's own, if recorded)")
    p.add_argument("-o", "--output", type=Path, required=True, help="output .mp4 path")
    p.add_argument("--preset", default="full_body", choices=["full_body", "upper_body", "face"],
                   help="camera framing (default full_body)")
    p.add_argument("--width", type=int, default=640, help="frame width in pixels (default 640)")
    p.add_argument("--height", type=int, default=480, help="frame height in pixels (default 480)")
    p.add_argument("--models", type=Path, default=None, help="SMPL-X / FLAME models folder (default: $MOTION_MODELS_DIR or stand-in)")
    p.set_defaults(func=_run_render)


def _run_render(args: argparse.Namespace) -> int:
    from motion.data.formats import read_motion
    from motion.render.video import render_video

    motion = read_motion(args.input)
    audio = args.audio
    if audio is None and motion.meta.audio:
        # Corpus files record their audio relative to the dataset folder.
        rec = Path(motion.meta.audio)
        for cand in (rec, args.input.parent / rec, args.input.parent.parent / rec):
            if cand.is_file():
                audio = cand
                break
    out = render_video(motion, args.output, audio=audio, preset=args.preset,
                       size=(args.width, args.height), models_dir=args.models)
    print(f"wrote {out}")
    return 0


def _add_export(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "export",
        help="convert a motion file to another format (npz flavours, BVH, glTF/GLB)",
        description="Convert a motion file (any supported npz flavour) to another format. The format "
        "comes from OUT's suffix (.npz = BEAT2, .bvh, .glb, .gltf) or --format (beat2, amass, amuse, "
        "flame_params, bvh, glb, gltf). Writes atomically: no partial file on error.",
    )
    p.add_argument("input", type=Path, help="motion file to read")
    p.add_argument("output", type=Path, help="file to write")
    p.add_argument("--format", default=None, help="output format (default: from OUT's suffix)")
    p.add_argument("--fps", type=float, default=None, help="resample to this frame rate before writing")
    p.add_argument("--models", type=Path, default=None, help="SMPL-X models folder (default: $MOTION_MODELS_DIR or stand-in)")
    p.add_argument("--option", "-O", action="append", default=[], metavar="KEY=VALUE",
                   help="format option, e.g. -O units=m -O euler_order=XYZ for BVH (repeatable)")
    p.add_argument("--no-overwrite", action="store_true", help="fail if OUT exists")
    p.set_defaults(func=_run_export)


def _parse_options(items: list[str]) -> dict[str, object]:
    opts: dict[str, object] = {}
    for item in items:
        key, sep, value = item.partition("=")
        if not sep or not key:
            raise CLIError(f"bad --option {item!r}: expected KEY=VALUE")
        for cast in (int, float):
            try:
                opts[key] = cast(value)
                break
            except ValueError:
                continue
        else:
            opts[key] = {"true": True, "false": False}.get(value.lower(), value)
    return opts


def _run_export(args: argparse.Namespace) -> int:
    from motion.data.formats import read_motion
    from motion.export import export

    opts = _parse_options(args.option)
    motion = read_motion(args.input)
    if args.fps is not None:
        motion = motion.resample(args.fps)
    if args.models is not None:
        opts["models_dir"] = str(args.models)
    out = export(motion, args.output, format=args.format, overwrite=not args.no_overwrite, **opts)
    print(f"wrote {out}")
    return 0


def _add_info(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("info", help="summarise a motion or audio file",
                       description="Print frame count, fps, duration, channels and metadata of a motion file, "
                       "or duration and sample rate of an audio file.")
    p.add_argument("path", type=Path, help="a motion .npz/.pkl or an audio file")
    p.set_defaults(func=_run_info)


def _run_info(args: argparse.Namespace) -> int:
    from motion.info import describe

    print(describe(args.path))
    return 0


def _add_models(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("models", help="show which SMPL-X / FLAME model files are used",
                       description="Resolve the models folder (argument > $MOTION_MODELS_DIR > stand-in) "
                       "and report each model file found or missing.")
    p.add_argument("models_dir", type=Path, nargs="?", default=None, help="models folder to check")
    p.set_defaults(func=_run_models)


def _run_models(args: argparse.Namespace) -> int:
    from motion.info import describe_models

    text, ok = describe_models(args.models_dir)
    print(text)
    return 0 if ok else 1


def _add_demo(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "demo",
        help="the main job: corpus -> animation -> video with audio",
        description="Generate the synthetic corpus (if absent), take one speaker's sentence in "
        "several emotions and render it to MP4 videos with audio plus a still, in --out.",
    )
    p.add_argument("--out", type=Path, default=Path("outputs/demo"), help="output folder (default outputs/demo)")
    p.add_argument("--corpus", type=Path, default=Path("data/corpus"), help="corpus folder (default data/corpus)")
    p.add_argument("--size", default="small", choices=["tiny", "small", "large"], help="corpus size if it must be generated")
    p.add_argument("--seed", type=int, default=0, help="seed (default 0)")
    p.add_argument("--preset", default="full_body", choices=["full_body", "upper_body", "face"], help="camera framing")
    p.set_defaults(func=_run_demo)


def _run_demo(args: argparse.Namespace) -> int:
    from motion.demo import run_demo

    for path in run_demo(out_dir=args.out, corpus_root=args.corpus, size=args.size,
                         seed=args.seed, preset=args.preset):
        print(f"wrote {path}")
    return 0


def _add_not_built(sub: argparse._SubParsersAction, name: str, what: str) -> None:
    p = sub.add_parser(name, help=f"(not built yet) {what}", description=f"Not built yet: {what}.")
    p.add_argument("rest", nargs=argparse.REMAINDER, help=argparse.SUPPRESS)
    p.set_defaults(func=_not_built(name, what))


def _not_built(name: str, what: str) -> Callable[[argparse.Namespace], int]:
    def run(args: argparse.Namespace) -> int:
        print(f"motion {name}: not built yet - {what}.", file=sys.stderr)
        return 2

    return run


def build_parser() -> argparse.ArgumentParser:
    """The top-level parser with every subcommand."""
    parser = argparse.ArgumentParser(
        prog="motion",
        description="Emotional speech -> whole-character 3D animation (SMPL-X body, hands, head; "
        f"FLAME face, eyes). Emotions: {', '.join(EMOTIONS)}.",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    from motion import __version__

    parser.add_argument("--version", action="version", version=f"motion {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    _add_demo(sub)
    _add_corpus(sub)
    _add_render(sub)
    _add_export(sub)
    _add_info(sub)
    _add_models(sub)
    for name, what in NOT_BUILT.items():
        _add_not_built(sub, name, what)
    p = sub.add_parser("bench", help="print speed and memory figures of the parts built so far",
                       description="Run the benchmark scripts (audio features, body model, corpus) and print figures.")
    p.add_argument("which", nargs="*", default=["audio", "bodymodels"],
                   help="benchmarks to run: audio, bodymodels, corpus (default: audio bodymodels)")
    p.set_defaults(func=_run_bench)
    return parser


def _run_bench(args: argparse.Namespace) -> int:
    from motion.bench import run_benchmarks

    return run_benchmarks(args.which)


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``motion`` script; returns the exit status."""
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        parser.print_help()
        return 0
    try:
        return int(args.func(args) or 0)
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    except (CLIError, OSError, ValueError, RuntimeError) as exc:
        # Our errors carry a user-facing message; show it without a traceback.
        print(f"motion {args.command}: error: {exc}", file=sys.stderr)
        return 1


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
