"""Command-line wiring for ``motion corpus`` (argparse; heavy imports after parsing).

Hook it into a parent parser with::

    sub = subparsers.add_parser("corpus", help="generate the synthetic corpus")
    add_arguments(sub)
    sub.set_defaults(func=run)

or run it standalone: ``python -m motion.synthetic.corpus.cli ROOT --size small``.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from typing import Any

SIZE_CHOICES = ("tiny", "small", "large")
EMOTION_NAMES = ("neutral", "happy", "sad", "surprised", "fear", "disgusted", "angry", "contempt")


def _positive(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {text}")
    return value


def add_arguments(parser: argparse.ArgumentParser) -> argparse.ArgumentParser:
    """Add the corpus options to ``parser`` (returned for chaining)."""
    parser.add_argument("root", help="output folder (refused if non-empty without --overwrite)")
    parser.add_argument("--size", choices=SIZE_CHOICES, default="small",
                        help="tiny (tests), small (default, < 2 min on 2 cores), large (training)")
    parser.add_argument("--seed", type=int, default=0, help="random seed (same seed, same bytes)")
    parser.add_argument("--workers", type=_positive, default=None,
                        help="worker processes (default: min(CPUs, 2)); 1 = no pool")
    parser.add_argument("--overwrite", action="store_true", help="replace an existing corpus")
    parser.add_argument("--speakers", type=_positive, default=None,
                        help="override the number of speakers (max 8)")
    parser.add_argument("--sentences", type=_positive, default=None,
                        help="override the sentences each speaker says")
    parser.add_argument("--emotions", default=None,
                        help=f"comma-separated subset of: {','.join(EMOTION_NAMES)}")
    parser.add_argument("--intensities", default=None, help="comma-separated subset of 1,2,3")
    parser.add_argument("--no-progress", action="store_true", help="hide the progress bar")
    parser.add_argument("--json", action="store_true", help="print the summary as JSON")
    return parser


def run(args: argparse.Namespace) -> int:
    """Generate the corpus described by parsed ``args``; returns an exit code.

    Options missing from ``args`` (a parent parser may define only some) take their
    defaults, so any parser with at least ``root`` works.
    """
    from motion.synthetic.corpus.generate import generate_corpus, info_dict

    def opt(name: str, default: Any = None) -> Any:
        return getattr(args, name, default)

    emo_text: str | None = opt("emotions")
    level_text: str | None = opt("intensities")
    emotions = tuple(e.strip() for e in emo_text.split(",")) if emo_text else None
    levels = tuple(int(x) for x in level_text.split(",")) if level_text else None
    try:
        info = generate_corpus(
            args.root, size=opt("size", "small"), seed=opt("seed", 0), workers=opt("workers"),
            overwrite=bool(opt("overwrite", False)), progress=not opt("no_progress", False),
            speakers=opt("speakers"), sentences=opt("sentences"), emotions=emotions,
            intensities=levels,
        )
    except (FileExistsError, ValueError) as exc:
        print(f"motion corpus: error: {exc}", file=sys.stderr)
        return 2
    if opt("json", False):
        print(json.dumps(info_dict(info), indent=1, default=str))
    else:
        print(f"wrote {info.num_clips} clips ({info.total_audio_s / 3600:.3f} h of audio) to "
              f"{info.root} in {info.elapsed_s:.1f} s; splits {info.splits}")
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    """Standalone entry point."""
    parser = add_arguments(argparse.ArgumentParser(
        prog="motion corpus", description="Generate the synthetic emotional speech + motion "
        "corpus in BEAT2 layout."))
    return run(parser.parse_args(argv))


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
