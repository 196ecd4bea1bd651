"""The ``motion`` command line.

Argument parsing only: every subcommand imports its heavy parts (torch, librosa, smplx,
pyrender) inside its ``run`` function, so ``motion --help`` and ``motion X --help`` are
instant.
"""

from __future__ import annotations

import argparse
import os
import signal
import sys
import warnings
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from motion.errors import MotionError
from motion.pipelines.request import (
    DEFAULT_AUDIO_GUIDANCE,
    DEFAULT_BODY_SMOOTHING,
    DEFAULT_EMOTION_GUIDANCE,
    DEFAULT_SAMPLER,
    DEFAULT_STEPS,
)
from motion.types import EMOTIONS

EPILOG = """\
examples:
  motion demo                                  # corpus clip -> video with audio in outputs/demo
  motion corpus data/corpus --size small       # synthetic BEAT2-layout emotional corpus
  motion fit --config configs/body/motion_vae.yaml   # train a stage (LightningCLI)
  motion generate speech.wav -o out.npz --emotion happy --intensity 2.5 --weights DIR
  motion generate speech.wav --emotion "0:neutral, 4.5:angry@2.5, 9:sad"   # emotion over time
  motion evaluate --data data/corpus --split test --weights DIR   # --part body|face|both
  motion info data/corpus/beat_english_v2.0.0/smplxflame_30/1_adam_1_3_0.npz
  motion export clip.npz clip.glb               # also .bvh, .gltf, .fbx, .csv (ARKit), --format amass
  motion render clip.npz --audio clip.wav -o clip.mp4 --preset upper_body
  motion render --grid happy.npz sad.npz angry.npz surprised.npz -o grid.mp4
  motion plot clip.npz -o curves.png            # jaw, hand speed, expression vs. waveform
  motion models                                # which SMPL-X / FLAME files are used

Real SMPL-X / FLAME files: put them in a folder laid out as smplx/SMPLX_NEUTRAL.npz and
flame/FLAME_NEUTRAL.pkl and pass --models DIR or set MOTION_MODELS_DIR; without them the
built-in stand-in models are used.
"""


class CLIError(MotionError):
    """An error to show the user as one line, without a traceback."""


def _seed(text: str) -> int:
    """argparse type: a seed in [0, 2**32)."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"a seed is a whole number, got {text!r}") from None
    if not 0 <= value < 2**32:
        raise argparse.ArgumentTypeError(f"a seed is within 0 .. {2**32 - 1}, got {text}")
    return value


def _threads(text: str) -> int:
    """argparse type: a thread count (1 or more)."""
    from motion.threads import ThreadsError, parse_threads

    try:
        return parse_threads(text, "--threads")
    except ThreadsError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def _add_threads(p: argparse.ArgumentParser) -> None:
    """``--threads N`` for a command that runs the models."""
    p.add_argument("--threads", type=_threads, default=None,
                   help="torch threads (default: $MOTION_THREADS, else the cores this process may use and "
                   "that are idle, at most 4)")


def _add_device(p: argparse.ArgumentParser) -> None:
    """``--device`` for a command that runs the generator's networks."""
    p.add_argument("--device", default="cpu", metavar="DEVICE",
                   help="where the networks run: cpu (default), cuda or cuda:N (an NVIDIA GPU; fails with a "
                   "clear message when this machine's torch sees none)")


def _seconds(minimum: float, what: str, maximum: float = 3600.0) -> Any:
    """argparse type: a finite number in [minimum, maximum] (``minimum`` excluded when 0 < it)."""
    def parse(text: str) -> float:
        try:
            value = float(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{what} must be a number, got {text!r}") from None
        ok = value == value and minimum <= value <= maximum and (minimum == 0 or value > 0)
        if not ok:
            low = "0 or more" if minimum == 0 else "more than 0"
            raise argparse.ArgumentTypeError(f"{what} must be {low} and at most {maximum:g}, got {text}")
        return value
    return parse


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
    p.add_argument("--overwrite", action="store_true",
                   help="replace an existing corpus at ROOT (only a folder `motion corpus` wrote: it has its corpus.json)")
    p.add_argument("--speakers", type=int, default=None, help="override the number of speakers")
    p.add_argument("--sentences", type=int, default=None, help="override the number of sentences")
    p.set_defaults(func=_run_corpus)


def _run_corpus(args: argparse.Namespace) -> int:
    from motion.synthetic.corpus.cli import run

    return int(run(args) or 0)


def _add_render(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "render",
        help="render motion files to an MP4 video (offscreen) with audio, a side-by-side grid, or a PNG still",
        description="Render a motion file (any supported npz flavour) offscreen (EGL, OSMesa fall-back) with "
        "the body + face mesh. OUT.mp4: a video at the motion's frame rate with the audio muxed in; with "
        "--grid, several motions side by side with labels; OUT.png: a still of one frame.",
    )
    p.add_argument("input", type=Path, nargs="+", help="motion file(s) (.npz: BEAT2 / AMASS / AMUSE / FLAME params); "
                   "several only with --grid")
    p.add_argument("--audio", type=Path, default=None, help="audio to mux in (default: the (first) motion's own, if recorded)")
    p.add_argument("-o", "--output", type=Path, required=True, help="output .mp4 (video, grid) or .png (still)")
    p.add_argument("--preset", default="full_body", choices=["full_body", "upper_body", "face"],
                   help="camera framing (default full_body)")
    p.add_argument("--width", type=int, default=640, help="frame (grid: cell) width in pixels (default 640)")
    p.add_argument("--height", type=int, default=480, help="frame (grid: cell) height in pixels (default 480)")
    p.add_argument("--grid", action="store_true", help="render all inputs side by side into one video")
    p.add_argument("--labels", nargs="+", default=None, help="grid labels, one per input (default: emotion + intensity)")
    p.add_argument("--cols", type=int, default=None, help="grid cells per row (default: as square as possible)")
    p.add_argument("--frame", type=int, default=None, help="frame of a .png still (default: the most expressive)")
    p.add_argument("--supersample", type=int, default=1, help="anti-aliasing factor (default 1; 2 = slower, smoother)")
    p.add_argument("--models", type=Path, default=None, help="SMPL-X / FLAME models folder (default: $MOTION_MODELS_DIR or stand-in)")
    _add_threads(p)
    p.set_defaults(func=_run_render)


def _recorded_audio(motion: object, source: Path) -> Path | None:
    """The audio file a motion records (corpus files: relative to the dataset folder)."""
    rec = getattr(getattr(motion, "meta", None), "audio", None)
    if not rec:
        return None
    for cand in (Path(rec), source.parent / rec, source.parent.parent / rec):
        if cand.is_file():
            return cand
    return None


def _run_render(args: argparse.Namespace) -> int:
    from motion.data.formats import read_motion

    suffix = args.output.suffix.lower()
    if suffix not in (".mp4", ".png"):
        raise CLIError(f"unknown output suffix {args.output.suffix or '(none)'!r} of {args.output}: "
                       "use .mp4 (video, --grid) or .png (still)")
    if len(args.input) > 1 and not args.grid:
        raise CLIError("several inputs need --grid (side-by-side video)")
    if args.grid and suffix != ".mp4":
        raise CLIError("--grid writes a video: OUT must end in .mp4")
    motions = [read_motion(p) for p in args.input]
    audio = args.audio if args.audio is not None else _recorded_audio(motions[0], args.input[0])
    size = (args.width, args.height)
    if args.grid:
        from motion.render.grid import render_grid

        out = render_grid(motions, args.output, labels=args.labels, audio=audio, preset=args.preset, cell_size=size,
                          cols=args.cols, models_dir=args.models, supersample=args.supersample)
    elif suffix == ".png":
        from motion.render.still import render_motion_png

        out = render_motion_png(motions[0], args.output, frame=args.frame, preset=args.preset, size=size,
                                models_dir=args.models)
    else:
        from motion.render.video import render_video

        out = render_video(motions[0], args.output, audio=audio, preset=args.preset, size=size,
                           models_dir=args.models, supersample=args.supersample)
    print(f"wrote {out}")
    return 0


def _add_plot(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "plot",
        help="plot motion curves (jaw, hand speed, expression energy) against the audio waveform to a PNG",
        description="Plot a motion's jaw opening (degrees), left/right hand speed (m/s) and expression "
        "energy against its audio waveform, to a PNG (matplotlib, no display needed).",
    )
    p.add_argument("input", type=Path, help="motion file")
    p.add_argument("-o", "--output", type=Path, required=True, help="output .png")
    p.add_argument("--audio", type=Path, default=None, help="audio to draw (default: the motion's own, if recorded)")
    p.add_argument("--no-audio", action="store_true", help="leave the waveform panel out")
    p.add_argument("--title", default=None, help="figure title (default: emotion, intensity, sentence)")
    p.add_argument("--models", type=Path, default=None, help="SMPL-X models folder (default: $MOTION_MODELS_DIR or stand-in)")
    p.set_defaults(func=_run_plot)


def _run_plot(args: argparse.Namespace) -> int:
    from motion.data.formats import read_motion
    from motion.render.plots import plot_curves

    motion = read_motion(args.input)
    audio = None if args.no_audio else (args.audio or _recorded_audio(motion, args.input))
    out = plot_curves(motion, args.output, audio=audio, title=args.title, models_dir=args.models)
    print(f"wrote {out}")
    return 0


def _add_export(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "export",
        help="convert a motion file to another format (npz flavours, BVH, glTF/GLB, FBX, ARKit CSV)",
        description="Convert a motion file (any supported npz flavour) to another format. The format "
        "comes from OUT's suffix (.npz = BEAT2, .bvh, .glb, .gltf, .fbx, .csv = ARKit / Live Link Face) or "
        "--format (beat2, amass, amuse, flame_params, bvh, glb, gltf, fbx, arkit). FBX needs Blender's bpy "
        "module (pip install 'motion-toolkit[blender]'); -O preset=unreal|unity|blender. "
        "Writes atomically: no partial file on error.",
    )
    p.add_argument("input", type=Path, help="motion file to read")
    p.add_argument("output", type=Path, help="file to write")
    p.add_argument("--format", default=None, help="output format (default: from OUT's suffix)")
    p.add_argument("--fps", type=float, default=None, help="resample to this frame rate before writing")
    p.add_argument("--models", type=Path, default=None, help="SMPL-X models folder (default: $MOTION_MODELS_DIR or stand-in)")
    p.add_argument("--option", "-O", action="append", default=[], metavar="KEY=VALUE",
                   help="format option, e.g. -O units=m -O euler_order=XYZ for BVH (repeatable)")
    p.add_argument("--arkit-map", type=Path, default=None,
                   help="ARKit CSV: expression -> ARKit map (.csv / .npz with named rows and columns; "
                   "default: the stand-in map)")
    p.add_argument("--arkit", action="store_true",
                   help="FBX / GLB / glTF: the face as ARKit's 52 blendshapes named as Apple's (eyeBlinkLeft ... "
                   "tongueOut), animated through the FLAME -> ARKit map (--arkit-map), for MetaHuman / Unity / ARKit rigs")
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
    if args.arkit_map is not None:
        opts["arkit_map"] = str(args.arkit_map)
    if args.arkit:
        opts["arkit"] = True
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
        description="Generate the synthetic corpus (if absent), take one speaker's held-out sentence "
        "in several emotions, generate body + face motion from each recording with the trained weights "
        "and render it to MP4 videos with audio plus a still and GLB / BVH exports, in --out; then a real "
        "voice (shipped, MIT) with an emotion curve: a video and the curve plot.",
    )
    p.add_argument("--out", type=Path, default=Path("outputs/demo"), help="output folder (default outputs/demo)")
    p.add_argument("--corpus", type=Path, default=Path("data/corpus"), help="corpus folder (default data/corpus)")
    p.add_argument("--size", default="small", choices=["tiny", "small", "large"], help="corpus size if it must be generated")
    p.add_argument("--seed", type=int, default=0, help="seed (default 0)")
    p.add_argument("--preset", default="full_body", choices=["full_body", "upper_body", "face"], help="camera framing")
    p.add_argument("--weights", type=Path, default=None,
                   help="generator weights (default: $MOTION_WEIGHTS_DIR, else the shipped ones)")
    p.add_argument("--ground-truth", action="store_true", help="show the corpus motion instead of generating it")
    _add_threads(p)
    p.set_defaults(func=_run_demo)


def _run_demo(args: argparse.Namespace) -> int:
    from motion.demo import run_demo

    for path in run_demo(out_dir=args.out, corpus_root=args.corpus, size=args.size,
                         seed=args.seed, preset=args.preset, weights=args.weights,
                         ground_truth=args.ground_truth):
        print(f"wrote {path}")
    return 0


def _add_fit(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "fit",
        help="train a model stage with LightningCLI (speech encoder, motion VAE, diffusion, face prior)",
        description="Train with LightningCLI: motion fit --config configs/{body,face}/NAME.yaml [--print_config] "
        "[--ckpt_path CKPT] [--model.lr 1e-4 ...]. Every argument after `fit` goes to LightningCLI; "
        "`motion fit --help` shows its options.",
        add_help=False,
    )
    p.add_argument("rest", nargs=argparse.REMAINDER, help=argparse.SUPPRESS)
    p.set_defaults(func=_run_fit)


def _run_fit(args: argparse.Namespace) -> int:
    from motion.training.cli import main as fit_main

    return fit_main(list(args.rest))


def _add_generate(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "generate",
        help="speech -> whole-character animation (SMPL-X body + FLAME face) of any length",
        description="Generate SMPL-X body motion (latent diffusion) and, when face weights are present, "
        "FLAME face animation for a speech recording of any length. Weights: --weights DIR > "
        "$MOTION_WEIGHTS_DIR > weights shipped with the package. The output format follows OUT's suffix "
        "(.npz = BEAT2, .bvh, .glb, .fbx, .csv, ...).",
    )
    p.add_argument("audio", type=Path, help="speech recording (wav, flac, ogg, mp3, ...)")
    p.add_argument("-o", "--output", type=Path, default=None, help="output file (default: AUDIO's name + .npz)")
    p.add_argument("--emotion", default=None, metavar="LABEL|CURVE|FILE",
                   help=f"emotion label ({', '.join(EMOTIONS)}; default: the audio's own), or the emotion over "
                   "time as keys TIME:LABEL[@INTENSITY] or TIME:(VALENCE,AROUSAL), e.g. "
                   "\"0:neutral, 4.5:angry@2.5, 9:sad\" (each key holds until the next; a 1 s smoothstep "
                   "cross-fade ends at each key; intensity 0-3, default 2; valence, arousal 0-1), or a .json / "
                   ".csv file of keys (columns time,emotion,intensity or time,valence,arousal)")
    p.add_argument("--intensity", type=float, default=None,
                   help="emotion intensity 0-3 (default 2 with a label; not with a curve, whose keys hold it)")
    p.add_argument("--emotion-ref", type=Path, default=None, help="take the emotion of this speech clip instead")
    p.add_argument("--style", default=None, help="speaker id or a reference speech clip (default: the audio's own)")
    p.add_argument("--seed", type=_seed, default=None, help="random seed (default: drawn, recorded in the file)")
    p.add_argument("--steps", type=int, default=None, help=f"diffusion sampling steps (default {DEFAULT_STEPS})")
    p.add_argument("--sampler", default=None, choices=["dpmsolver", "ddim"],
                   help=f"sampler (default {DEFAULT_SAMPLER}: DPM-Solver++)")
    p.add_argument("--audio-guidance", type=float, default=None,
                   help=f"audio CFG scale (default {DEFAULT_AUDIO_GUIDANCE})")
    p.add_argument("--emotion-guidance", type=float, default=None,
                   help=f"emotion CFG scale (default {DEFAULT_EMOTION_GUIDANCE})")
    p.add_argument("--window", type=_seconds(1e-9, "--window"), default=None,
                   help="window seconds (default: the training window)")
    p.add_argument("--overlap", type=_seconds(0.0, "--overlap"), default=None,
                   help="window overlap seconds (default: half a window when fused, else 1/4)")
    p.add_argument("--stitch", default=None, choices=["fused", "inpaint", "crossfade", "concat"],
                   help="how windows are joined (default fused: all windows denoised together, "
                   "overlaps fused at every step)")
    p.add_argument("--smoothing", type=float, default=None,
                   help=f"Gaussian smoothing of the body over time, sigma in frames "
                   f"(default {DEFAULT_BODY_SMOOTHING}; 0: off)")
    p.add_argument("--fps", type=_seconds(1e-9, "--fps", 1000.0), default=30.0, help="output frame rate (default 30)")
    p.add_argument("--text", default=None, metavar="TEXT|FILE.txt",
                   help="the words spoken (or a .txt file holding them): the lips follow phones aligned "
                   "to this transcript instead of phones recognised from the audio alone (English)")
    p.add_argument("--phones", default="detector", choices=["detector", "loop", "words", "off"],
                   help="without --text, how the lips find p/b/m (where they shut): detector = a tiny lip-event "
                   "network trained on real speech (default; about 80%% of p/b/m on real recordings); loop = "
                   "phone recogniser (3x the compute, fewer p/b/m, fewer false closures); words = English word "
                   "recogniser, then alignment (~10x the compute); off = the lips follow the voice alone")
    p.add_argument("--no-face", action="store_true", help="body only (neutral face)")
    p.add_argument("--arkit", action="store_true",
                   help="with -o OUT.fbx / .glb / .gltf: the face as ARKit's 52 blendshapes (Apple's names)")
    p.add_argument("--weights", type=Path, default=None, help="weights folder (body export, or a root with body/ face/)")
    _add_device(p)
    _add_threads(p)
    p.set_defaults(func=_run_generate)


def _run_generate(args: argparse.Namespace) -> int:
    from motion.api import generate
    from motion.export import export
    from motion.export.registry import check_destination
    from motion.pipelines.emotion_curve import EmotionCurve, as_emotion

    emotion = as_emotion(args.emotion)  # a malformed curve: one line, before any weights load
    if isinstance(emotion, EmotionCurve) and args.intensity is not None:
        raise CLIError("--intensity is for an emotion label; a curve's keys hold the intensities "
                       "(TIME:LABEL@INTENSITY, e.g. \"0:sad@3, 5:happy@1.5\")")

    if args.output is None and Path(args.audio.stem + ".npz").exists():  # never replaced unasked
        raise CLIError(f"{args.audio.stem}.npz exists in this folder; pass -o {args.audio.stem}.npz to replace it "
                       "or -o another name")
    out = check_destination(args.output or Path(args.audio.stem + ".npz"))  # before minutes of generation
    if args.arkit and out.suffix.lower() not in (".fbx", ".glb", ".gltf"):
        raise CLIError(f"--arkit needs an .fbx, .glb or .gltf output, not {out.name}")
    text = args.text
    if text is not None and text.endswith(".txt"):
        try:
            text = Path(text).read_text(encoding="utf-8")
        except OSError as exc:
            raise CLIError(f"cannot read the transcript file {args.text}: {exc.strerror or exc}") from None
    motion = generate(args.audio, emotion=emotion, intensity=args.intensity, style=args.style,
                      seed=args.seed, fps=args.fps, face=not args.no_face, weights=args.weights,
                      emotion_reference=args.emotion_ref, transcript=text,
                      threads=getattr(args, "threads", None), options=_generation_options(args),
                      device=args.device)
    path = export(motion, out, **({"arkit": True} if args.arkit else {}))
    meta = motion.meta
    print(f"wrote {path} ({motion.num_frames} frames, {motion.duration:.2f} s; emotion "
          f"{meta.emotion} ({meta.extra.get('emotion_source')}), seed {meta.seed}, face "
          f"{meta.extra.get('face')})")
    from motion.pipelines.weights import SHIPPED_WEIGHTS, resolve_weights_dir

    if meta.extra.get("emotion_source") == "audio" and resolve_weights_dir(args.weights).resolve() == SHIPPED_WEIGHTS:
        print(f"note: {meta.emotion} is the emotion heard in the audio, which the shipped weights read "
              "reliably on the synthetic voice only; for a real recording pass --emotion (a label or a curve)",
              file=sys.stderr)
    return 0


def _generation_options(args: argparse.Namespace) -> Any:
    """The :class:`motion.GenerationOptions` of ``motion generate``'s research flags (unset: the default)."""
    from motion.pipelines.request import GenerationOptions

    given = {"steps": args.steps, "sampler": args.sampler, "audio_guidance": args.audio_guidance,
             "emotion_guidance": args.emotion_guidance, "window_s": args.window, "overlap_s": args.overlap,
             "stitch": args.stitch, "smoothing": args.smoothing, "phones": args.phones}
    return GenerationOptions(**{k: v for k, v in given.items() if v is not None})


def _add_evaluate(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "evaluate",
        help="body metrics (FGD, beat consistency, L1div, emotion / style accuracy) and face metrics "
        "(LVE, FDD, bilabial closure, emotion accuracy, blinks) on a data split",
        description="Generate body motion for every clip of a BEAT2-layout split and compare it with the "
        "ground truth and two baselines (mean pose; another clip of the same speaker): FGD, beat "
        "consistency, L1div, emotion and style accuracy of classifiers trained on ground truth. With face "
        "weights, also generate the face and compare it with the ground truth and two baselines (neutral "
        "face; another clip of the same speaker): lip vertex error, upper-face dynamics deviation, mouth "
        "closure on p/b/m, emotion accuracy of a face classifier, and blink rate / longest blink on a "
        "2-minute recording. Prints tables and writes JSON (the face result under \"face\").",
    )
    p.add_argument("--data", type=Path, default=None,
                   help="BEAT2-layout folder (e.g. a generated corpus); needed unless --real is given")
    p.add_argument("--real", type=Path, default=None, metavar="DIR",
                   help="instead of a corpus split: a folder of real recordings (any format; phone labels "
                   "STEM.TextGrid / .lab / .phn anywhere in it are used): gain sweep (-18, -6, 0, +6 dB) and "
                   "format sweep (wav, flac, mp3, ogg, m4a, 5.1 wav) of mouth opening, arm motion and the "
                   "emotion heard; jaw-envelope correlation; mouth closure in silences and on labelled p/b/m")
    p.add_argument("--split", default="test", help="split of train_test_split.csv (default test)")
    p.add_argument("--weights", type=Path, default=None, help="generator weights (default: as motion generate)")
    p.add_argument("--part", default="both", choices=["body", "face", "both"],
                   help="what to evaluate (default both: the face is skipped, with a note, without face weights)")
    p.add_argument("--metrics", type=Path, default=None,
                   help="metric networks (default: WEIGHTS/metrics; e.g. runs/motion_metrics/latest after "
                   "training them)")
    p.add_argument("--face-metrics", type=Path, default=None,
                   help="face emotion classifier export (face_emotion.json/.safetensors; default: WEIGHTS/metrics, "
                   "then WEIGHTS/face; e.g. runs/face_emotion/latest after training it)")
    p.add_argument("--transcripts", action="store_true",
                   help="with --real: generate each recording with its transcript (STEM.txt anywhere in DIR, or "
                   "the transcript column of DIR/manifest.csv), so the face aligns its phones to the words "
                   "instead of recognising them")
    p.add_argument("--phones", default="detector", choices=["detector", "loop", "words", "off"],
                   help="how the face finds p/b/m without a transcript (as motion generate --phones), for a corpus "
                   "split and for --real")
    p.add_argument("--max-clips", type=int, default=None,
                   help="evaluate at most this many clips, spread over speakers and emotions (default all; "
                   "fewer clips raise the FGD floor, see --reference-split)")
    p.add_argument("--reference-split", default="val",
                   help="split whose ground truth (as many clips) makes the 'GT of other clips' row: the "
                   "floor FGD and intra-FGD reach with this many clips (default val; 'none' to skip; "
                   "skipped with a note when the data has no such split)")
    p.add_argument("--steps", type=int, default=DEFAULT_STEPS, help=f"body sampling steps (default {DEFAULT_STEPS})")
    p.add_argument("--sampler", default=DEFAULT_SAMPLER, choices=["dpmsolver", "ddim"],
                   help=f"body sampler (default {DEFAULT_SAMPLER})")
    p.add_argument("--audio-guidance", type=float, default=None,
                   help=f"body audio CFG scale (default {DEFAULT_AUDIO_GUIDANCE})")
    p.add_argument("--emotion-guidance", type=float, default=None,
                   help=f"body emotion CFG scale (default {DEFAULT_EMOTION_GUIDANCE})")
    p.add_argument("--smoothing", type=float, default=None,
                   help=f"body smoothing sigma in frames (default {DEFAULT_BODY_SMOOTHING}; 0: off)")
    p.add_argument("--seed", type=int, default=0, help="seed of the first clip (default 0)")
    p.add_argument("--swap-emotions", action="store_true", help="also ask every clip for another emotion")
    p.add_argument("--blink-seconds", type=float, default=120.0,
                   help="length of the face's blink recording, the clips' audio looped (default 120; 0: none)")
    p.add_argument("--json", type=Path, default=None, help="JSON output (default: evaluate_SPLIT.json)")
    _add_device(p)
    _add_threads(p)
    p.set_defaults(func=_run_evaluate)


def _run_evaluate(args: argparse.Namespace) -> int:
    """``motion evaluate``: :func:`motion.metrics.evaluate.evaluate` (tables printed as they are
    ready, notes on stderr), its result written as JSON."""
    import json

    from motion.atomic import atomic_write
    from motion.metrics.evaluate import evaluate

    if args.real is None and args.data is None:
        raise CLIError("give --data ROOT (a BEAT2-layout corpus) or --real DIR (a folder of recordings)")
    result = evaluate(
        args.data, split=args.split, part=args.part, weights=args.weights, real=args.real, metrics=args.metrics,
        face_metrics=args.face_metrics, transcripts=args.transcripts, phones=args.phones, max_clips=args.max_clips,
        reference_split=args.reference_split, steps=args.steps, sampler=args.sampler,
        audio_guidance=args.audio_guidance, emotion_guidance=args.emotion_guidance, smoothing=args.smoothing,
        seed=args.seed, swap_emotions=args.swap_emotions, blink_seconds=args.blink_seconds, device=args.device,
        progress=True,
        notes=lambda text: print(f"motion evaluate: {text}", file=sys.stderr), tables=print)
    out = args.json or Path("evaluate_real.json" if args.real is not None else f"evaluate_{args.split}.json")
    text = json.dumps(result, indent=2) + "\n"
    atomic_write(out, lambda f: f.write(text.encode("utf-8")))
    if args.real is not None:
        print(f"wrote {out} ({result['clips']} clips, {result['audio_s']:.1f} s of audio, "
              f"{result['generation_s']:.1f} s)")
        return 0
    face = result.get("face")
    summary = result if "clips" in result else face
    assert summary is not None
    extra = f", face generation {face['generation_s']:.1f} s" if face is not None and summary is not face else ""
    print(f"wrote {out} ({summary['clips']} clips, {summary['audio_s']:.1f} s of audio, "
          f"generation {summary['generation_s']:.1f} s{extra})")
    return 0


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
    _add_plot(sub)
    _add_export(sub)
    _add_info(sub)
    _add_models(sub)
    _add_fit(sub)
    _add_generate(sub)
    _add_evaluate(sub)
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
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv[:1] == ["fit"]:
        # Everything after `fit` belongs to LightningCLI (argparse's REMAINDER would stop
        # at the first option), including its own --help.
        return _run_fit(argparse.Namespace(rest=argv[1:]))
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        parser.print_help()
        return 0
    unraisable = sys.unraisablehook
    previous = _terminate_as_interrupt()
    shown = warnings.showwarning
    warnings.showwarning = _one_line_warning(args.command, shown)
    try:
        if hasattr(args, "threads"):  # a command that runs the models: size torch's pool first
            from motion.threads import apply_threads

            args.threads = apply_threads(args.threads)  # the count chosen: the API keeps it
        return int(args.func(args) or 0)
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    except Terminated:
        print("terminated", file=sys.stderr)
        return 143
    except (CLIError, OSError, ValueError, RuntimeError) as exc:
        # Our errors carry a user-facing message; show it without a traceback.
        print(f"motion {args.command}: error: {exc}", file=sys.stderr)
        return 1
    finally:
        warnings.showwarning = shown
        sys.unraisablehook = unraisable
        if previous is not None:
            signal.signal(signal.SIGTERM, previous)


def _one_line_warning(command: str, fallback: Any) -> Any:
    """``warnings.showwarning`` that prints the toolkit's own warnings as ``motion CMD: warning: ...``
    (one line, no source line); other packages' warnings go to ``fallback``."""
    def show(message: Warning | str, category: type[Warning], filename: str, lineno: int,
             file: Any = None, line: str | None = None) -> None:
        if getattr(category, "__module__", "").startswith("motion."):
            print(f"motion {command}: warning: {message}", file=sys.stderr)
        else:
            fallback(message, category, filename, lineno, file, line)
    return show


class Terminated(BaseException):
    """SIGTERM arrived: raised in the main thread so every ``finally`` and atomic writer
    cleans up (temporary files removed, ffmpeg children killed) before the exit (status 143)."""


def _terminate_as_interrupt() -> Any:
    """Turn SIGTERM into :class:`Terminated` (main thread only); returns the previous handler."""
    import threading

    if threading.current_thread() is not threading.main_thread():
        return None

    def handler(signum: int, frame: Any) -> None:
        raise Terminated()

    hook = sys.unraisablehook
    terminating = threading.Event()

    def unraisable(info: Any) -> None:
        # A signal handler that raises inside a finaliser, weakref or at-fork callback (e.g.
        # logging's _releaseLock) has its exception swallowed and printed as "Exception ignored
        # in ...". Say nothing and deliver SIGTERM again a moment later from another thread: the
        # handler then raises in the main thread's ordinary code, where ``finally`` blocks run.
        # Errors of callbacks that the interruption left half done (filelock's after-fork hook
        # after its before-fork hook was cut short) are just as moot once we are terminating.
        if isinstance(info.exc_value, Terminated):
            terminating.set()
            threading.Timer(0.01, os.kill, (os.getpid(), signal.SIGTERM)).start()
        elif not terminating.is_set():
            hook(info)

    sys.unraisablehook = unraisable
    return signal.signal(signal.SIGTERM, handler)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
