"""``motion.evaluate(...)``: the evaluation behind ``motion evaluate``, as a Python API.

Three evaluations, each returning the dict ``motion evaluate`` writes as JSON:

* a BEAT2-layout split, body (:mod:`.evaluate_body`: FGD, beat consistency, L1div, emotion /
  style accuracy against baselines) and / or face (:mod:`.evaluate_face`: LVE, FDD, bilabial
  closure, emotion accuracy, blinks): ``evaluate(data="data/corpus", split="test", part="both")``;
* real recordings (:mod:`.real_speech`: gain and format sweeps, jaw-envelope correlation,
  mouth closure): ``evaluate(real="recordings/")``.

Every path comes from an argument; none is looked up relative to the working folder. The
generator weights are ``weights`` (default: as ``motion generate``: ``$MOTION_WEIGHTS_DIR``,
else the shipped weights); the metric networks default to ``WEIGHTS/metrics`` (the face emotion
classifier: ``WEIGHTS/metrics``, then ``WEIGHTS/face``); pass ``metrics=`` / ``face_metrics=``
for networks trained elsewhere (e.g. ``runs/motion_metrics/latest``).

What cannot be measured (no metric networks, no face weights with ``part="both"``, no
reference split) is left out with a note: ``notes(text)`` when given, else a
:class:`~motion.errors.MotionWarning`.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

from motion.pipelines.request import DEFAULT_SAMPLER, DEFAULT_STEPS, PHONE_MODES

#: What ``part=`` takes.
PARTS: tuple[str, ...] = ("body", "face", "both")


def _warn(text: str) -> None:
    from motion.errors import MotionWarning

    warnings.warn(text, MotionWarning, stacklevel=3)


def evaluate(
    data: str | Path | None = None,
    *,
    split: str = "test",
    part: str = "both",
    weights: str | Path | None = None,
    real: str | Path | None = None,
    metrics: str | Path | None = None,
    face_metrics: str | Path | None = None,
    transcripts: bool = False,
    phones: str = "detector",
    max_clips: int | None = None,
    reference_split: str = "val",
    steps: int = DEFAULT_STEPS,
    sampler: str = DEFAULT_SAMPLER,
    audio_guidance: float | None = None,
    emotion_guidance: float | None = None,
    smoothing: float | None = None,
    seed: int = 0,
    swap_emotions: bool = False,
    blink_seconds: float = 120.0,
    device: str = "cpu",
    progress: bool = False,
    notes: Callable[[str], None] | None = None,
    tables: Callable[[str], None] | None = None,
) -> dict[str, Any]:
    """Evaluate the generator on a data split (``data``) or on real recordings (``real``).

    Args:
        data: a BEAT2-layout folder (e.g. a generated corpus); needed unless ``real`` is given.
        split: split of its ``train_test_split.csv``.
        part: ``"body"``, ``"face"`` or ``"both"`` (the face is skipped, with a note, without face weights).
        weights: generator weights (default: as ``motion generate``).
        real: instead of a split, a folder of real recordings (any format; phone labels
            ``STEM.TextGrid`` / ``.lab`` / ``.phn`` anywhere in it are used).
        metrics: folder of the body metric networks (default ``WEIGHTS/metrics``).
        face_metrics: folder of the face emotion classifier (default ``WEIGHTS/metrics``, then ``WEIGHTS/face``).
        transcripts: with ``real``: generate each recording with its transcript.
        phones: how the face finds p/b/m without a transcript, as ``motion generate --phones``
            (:data:`motion.pipelines.request.PHONE_MODES`).
        max_clips: at most this many clips, spread over speakers and emotions (default all).
        reference_split: split whose ground truth makes the "GT of other clips" row (``"none"``: skip).
        steps, sampler, audio_guidance, emotion_guidance, smoothing: body sampling settings
            (``None``: the generator's defaults).
        seed: seed of the first clip.
        swap_emotions: also ask every clip for another emotion.
        blink_seconds: length of the face's blink recording (0: none).
        device: where the generator's networks run ("cpu", "cuda", "cuda:N"); the metric networks
            read its (CPU) output on the CPU.
        progress: show progress bars (stderr).
        notes: called with each note on what was left out (default: a ``MotionWarning``).
        tables: called with each result table as it is ready (default: none shown).

    Returns:
        The result (what ``motion evaluate`` writes as JSON): for a split, the body result
        (``rows``, ``checks``, ``settings``, ...) with the face's under ``"face"`` (``None`` and
        ``"face_skipped"`` when skipped), plus ``data``, ``split`` and ``weights``; for ``real``,
        the :func:`motion.metrics.real_speech.evaluate_real` result plus ``real``, ``weights``, ``phones``.

    Raises:
        ValueError: neither ``data`` nor ``real``, or an unknown ``part`` / ``phones`` / ``device``.
        DeviceNotAvailableError: ``device="cuda"`` without a usable GPU.
        WeightsNotFoundError: no generator weights; ``part="face"`` without face weights; or
            ``metrics`` / ``face_metrics`` given without the networks.
    """
    from motion.pipelines.weights import check_device

    note = notes or _warn
    device = str(check_device(device))  # before any weights load
    if part not in PARTS:
        raise ValueError(f"part must be one of {', '.join(PARTS)}, got {part!r}")
    if phones not in PHONE_MODES:
        raise ValueError(f"phones must be one of {', '.join(PHONE_MODES)}, got {phones!r}")
    settings = {"steps": steps, "sampler": sampler, "audio_guidance": audio_guidance,
                "emotion_guidance": emotion_guidance, "smoothing": smoothing}
    if real is not None:
        return _evaluate_real(Path(real), weights, max_clips=max_clips, seed=seed, phones=phones,
                              transcripts=transcripts, settings=settings, progress=progress, tables=tables,
                              device=device)
    if data is None:
        raise ValueError("give data= (a BEAT2-layout corpus) or real= (a folder of recordings)")
    data = Path(data)
    root = _weights_root(weights, part)
    result: dict[str, Any] = {}
    face: dict[str, Any] | None = None
    if part in ("body", "both"):
        result = _evaluate_body_part(data, split, root, metrics=metrics, max_clips=max_clips,
                                     reference_split=reference_split, seed=seed, swap_emotions=swap_emotions,
                                     settings=settings, progress=progress, note=note, device=device)
        if tables is not None:
            from motion.metrics.evaluate_body import format_table

            tables(format_table(result))
    if part in ("face", "both"):
        outcome = _evaluate_face_part(data, split, root, part=part, face_metrics=face_metrics, max_clips=max_clips,
                                      seed=seed, swap_emotions=swap_emotions, blink_seconds=blink_seconds,
                                      phones=phones, progress=progress, note=note, device=device)
        face = outcome if isinstance(outcome, dict) else None
        if face is not None and tables is not None:
            from motion.metrics.evaluate_face import format_face_table

            tables(("\nface" if part == "both" else "face") + "\n" + format_face_table(face))
        result["face"] = face
        if face is None:
            result["face_skipped"] = outcome
    result.update(data=str(data), split=split, weights=str(root))
    return result


def _weights_root(weights: str | Path | None, part: str) -> Path:
    """The weights folder; for ``part="face"`` a missing one is reported with the face's training commands."""
    from motion.pipelines.weights import WeightsNotFoundError, resolve_weights_dir

    try:
        return resolve_weights_dir(weights)
    except WeightsNotFoundError as exc:
        if part != "face":
            raise
        from motion.pipelines.weights import TRAIN_FACE_HELP

        raise WeightsNotFoundError(f"no face weights: {str(exc).splitlines()[0]}\n{TRAIN_FACE_HELP}") from None


def _metric_nets(candidates: list[Any], names: tuple[str, ...], help_text: str) -> Any:
    """:class:`~motion.pipelines.metric_nets.MetricNets` ``names`` from the first of ``candidates``
    (folders or weights roots) holding them all.

    Raises:
        WeightsNotFoundError: none does (the message lists where it looked and how to train them).
    """
    from motion.pipelines.metric_nets import MetricNets
    from motion.pipelines.weights import WeightsNotFoundError

    for folder in candidates:
        try:
            return MetricNets.from_pretrained(folder, names=names)
        except WeightsNotFoundError:
            continue
    raise WeightsNotFoundError(f"{', '.join(f'{n}.json/.safetensors' for n in names)} not found in "
                               f"{', '.join(str(c) for c in candidates)} (nor their metrics/).\n{help_text}")


def _reference_clips(data: Path, split: str, reference_split: str, count: int, note: Callable[[str], None],
                     progress: bool) -> list[Any] | None:
    """``count`` clips of ``reference_split`` for the "GT of other clips" row, or None (with a
    note) when it is off, is the evaluated split or is not in the data."""
    from motion.metrics.evaluate_body import load_clips

    if reference_split.lower() == "none":
        return None
    if reference_split == split:
        note(f"'GT of other clips' row skipped: --reference-split is the evaluated "
             f"split {split!r}; name another one (e.g. val)")
        return None
    try:
        return load_clips(data, reference_split, count, progress=progress)
    except ValueError as exc:
        note(f"'GT of other clips' row skipped: {exc}")
        return None


def _evaluate_body_part(data: Path, split: str, root: Path, *, metrics: str | Path | None, max_clips: int | None,
                        reference_split: str, seed: int, swap_emotions: bool, settings: dict[str, Any],
                        progress: bool, note: Callable[[str], None], device: str = "cpu") -> dict[str, Any]:
    """The body result."""
    from motion.metrics.evaluate_body import evaluate_body, load_clips
    from motion.pipelines.body import BodyPipeline
    from motion.pipelines.weights import METRIC_MODULES, TRAIN_METRICS_HELP, WeightsNotFoundError

    pipe = BodyPipeline.from_pretrained(root, device)
    candidates = [metrics] if metrics else [root]
    try:
        nets = _metric_nets(candidates, METRIC_MODULES, TRAIN_METRICS_HELP)
    except WeightsNotFoundError as exc:
        if metrics:
            raise
        note(f"FGD and accuracies unavailable: {exc}")
        nets = None
    clips = load_clips(data, split, max_clips, progress=progress)
    reference = _reference_clips(data, split, reference_split, len(clips), note, progress)
    guidance = {k: settings[k] for k in ("audio_guidance", "emotion_guidance", "smoothing") if settings[k] is not None}
    return evaluate_body(clips, pipe, nets, seed=seed, steps=settings["steps"], swap_emotions=swap_emotions,
                         reference=reference, progress=progress, sampler=settings["sampler"], **guidance)


def _evaluate_face_part(data: Path, split: str, root: Path, *, part: str, face_metrics: str | Path | None,
                        max_clips: int | None, seed: int, swap_emotions: bool, blink_seconds: float, phones: str,
                        progress: bool, note: Callable[[str], None], device: str = "cpu") -> dict[str, Any] | str:
    """The face result, or why it was skipped (``part="both"``).

    Raises:
        WeightsNotFoundError: ``part="face"`` without face weights, or ``face_metrics`` without
            the classifier.
    """
    from motion.metrics.evaluate_face import FACE_EMOTION, evaluate_face, load_face_clips
    from motion.pipelines.generate import FACE_MODULES
    from motion.pipelines.weights import TRAIN_FACE_HELP, TRAIN_FACE_METRICS_HELP, WeightsNotFoundError, part_folder

    folder = part_folder(root, "face", FACE_MODULES)
    if folder is None:
        reason = f"no face weights (face_decoder.json/.safetensors) in {root}/face or {root}"
        if part == "face":
            raise WeightsNotFoundError(f"{reason}.\n{TRAIN_FACE_HELP}")
        note(f"face skipped: {reason}")
        return reason
    from motion.pipelines.face import FacePipeline

    pipe = FacePipeline.from_pretrained(folder, device)
    candidates = [face_metrics] if face_metrics else [root / "metrics", root / "face"]
    try:
        nets = _metric_nets(candidates, (FACE_EMOTION,), TRAIN_FACE_METRICS_HELP)
        net, net_dir = nets[FACE_EMOTION], nets.source
    except WeightsNotFoundError as exc:
        if face_metrics:
            raise
        note(f"face emotion accuracy unavailable: {exc}")
        net, net_dir = None, None
    clips = load_face_clips(data, split, max_clips, progress=progress)
    result = evaluate_face(clips, pipe, net, seed=seed, swap_emotions=swap_emotions,
                           blink_seconds=blink_seconds or None, phones=phones)
    result.update(face_weights=str(folder), face_emotion=None if net_dir is None else str(net_dir))
    return result


def _evaluate_real(real: Path, weights: str | Path | None, *, max_clips: int | None, seed: int, phones: str,
                   transcripts: bool, settings: dict[str, Any], progress: bool, tables: Callable[[str], None] | None,
                   device: str = "cpu") -> dict[str, Any]:
    """Real recordings: :mod:`motion.metrics.real_speech`."""
    from motion.metrics.evaluate_face import build_face_geometry
    from motion.metrics.real_speech import evaluate_real, find_real_clips, format_real_table
    from motion.pipelines.body import BodyPipeline
    from motion.pipelines.generate import generate_motion, load_face_pipeline
    from motion.pipelines.weights import WeightsNotFoundError, resolve_weights_dir

    clips = find_real_clips(real, max_clips)
    root = resolve_weights_dir(weights)
    body = BodyPipeline.from_pretrained(root, device)
    face, reason = load_face_pipeline(root, device)
    if face is None:
        raise WeightsNotFoundError(f"motion evaluate --real measures the face too, but {reason}")
    options = {k: v for k, v in settings.items() if v is not None}
    generate = lambda audio, **kw: generate_motion(audio, body, face, seed=seed,  # noqa: E731
                                                   phones=phones, **options, **kw)
    geom = build_face_geometry(face.flint.num_expressions)
    result = evaluate_real(clips, generate, geom, progress=progress, use_transcripts=transcripts)
    if tables is not None:
        tables(format_real_table(result))
    result.update(real=str(real), weights=str(root), phones=phones)
    return result
