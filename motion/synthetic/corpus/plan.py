"""Corpus sizes, the list of clips, their BEAT2-style ids and the train/val/test split.

Clip ids follow BEAT2's ``{speaker_id}_{name}_{a}_{b}_{c}`` shape, with our fields::

    {speaker_id}_{speaker_name}_{emotion_idx}_{intensity}_{sentence_id}
    e.g. 3_carl_6_2_17 = speaker 3 (carl), emotion 6 (angry, motion.types.EMOTIONS order),
    intensity 2, sentence 17 of the sentence bank.

Sentence assignment: speaker ``i`` says ``K`` consecutive sentences of a pool of
``S = N*K/r`` (wrapping), starting at ``i*K/r``: every sentence is said by ``r``
speakers (all speakers when ``r == N``) in every emotion and intensity (MEAD-style),
so pairs of speakers saying the same sentence exist for content alignment.

Split: sentences are split, not clips. The pool is cut into blocks of ``K/r`` sentences
(each speaker's window is ``r`` whole blocks); in every block the last ones are test and
the ones before are val, so every speaker has the same number of held-out sentences and
val/test sentences are never seen in training.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, replace
from typing import Any, Final

from motion.synthetic.corpus.speakers import Speaker, speakers
from motion.types import EMOTIONS


@dataclass(frozen=True)
class SizeSpec:
    """One corpus size.

    Attributes:
        name: ``tiny``, ``small`` or ``large``.
        num_speakers: speakers used (the first N of :data:`SPEAKERS`).
        sentences_per_speaker: K, sentences each speaker says.
        speakers_per_sentence: r, how many speakers say each sentence (<= N, divides N*K).
        emotions: emotions generated.
        intensities: intensity levels generated.
        heldout_fraction: share of each block's sentences for val and for test (each).
    """

    name: str
    num_speakers: int
    sentences_per_speaker: int
    speakers_per_sentence: int
    emotions: tuple[str, ...] = EMOTIONS
    intensities: tuple[int, ...] = (1, 2, 3)
    heldout_fraction: float = 0.12

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


SIZES: Final[dict[str, SizeSpec]] = {
    # A few clips for tests: right- and left-handed speaker, 5 emotions, strongest level.
    "tiny": SizeSpec("tiny", 2, 3, 2, ("neutral", "happy", "sad", "surprised", "angry"), (3,)),
    # 4 speakers x 8 emotions x 3 intensities x 8 sentences = 768 clips (~0.6 h, ~20 s
    # on 2 cores); sentences 6/1/1 train/val/test.
    "small": SizeSpec("small", 4, 8, 4),
    # 8 speakers x 8 x 3 x 50 sentences = 9600 clips, 200 distinct sentences.
    "large": SizeSpec("large", 8, 50, 2),
}


@dataclass(frozen=True)
class ClipSpec:
    """Everything that identifies one clip (its files are a pure function of this + seed)."""

    clip_id: str
    speaker: Speaker
    emotion: str
    intensity: int
    sentence_id: int
    split: str


def clip_id(speaker: Speaker, emotion: str, intensity: int, sentence_id: int) -> str:
    """``{speaker_id}_{speaker_name}_{emotion_idx}_{intensity}_{sentence_id}``."""
    return f"{speaker.speaker_id}_{speaker.name}_{EMOTIONS.index(emotion)}_{intensity}_{sentence_id}"


def resolve_size(
    size: str | SizeSpec,
    num_speakers: int | None = None,
    sentences_per_speaker: int | None = None,
    emotions: tuple[str, ...] | None = None,
    intensities: tuple[int, ...] | None = None,
) -> SizeSpec:
    """A :class:`SizeSpec` from a name, with optional overrides.

    Overriding the speaker or sentence count keeps every sentence said by all speakers
    when that is what the size did, and otherwise by ``min(r, N)`` speakers.
    """
    if isinstance(size, str):
        if size not in SIZES:
            raise ValueError(f"unknown corpus size {size!r}; choose one of {list(SIZES)}")
        spec = SIZES[size]
    else:
        spec = size
    all_say_all = spec.speakers_per_sentence == spec.num_speakers
    n = num_speakers if num_speakers is not None else spec.num_speakers
    k = sentences_per_speaker if sentences_per_speaker is not None else spec.sentences_per_speaker
    r = n if all_say_all else min(spec.speakers_per_sentence, n)
    while (n * k) % r:  # r must divide N*K for whole blocks
        r -= 1
    spec = replace(spec, num_speakers=n, sentences_per_speaker=k, speakers_per_sentence=r)
    if emotions is not None:
        bad = [e for e in emotions if e not in EMOTIONS]
        if bad or not emotions:
            raise ValueError(f"unknown emotions {bad}; choose from {EMOTIONS}")
        spec = replace(spec, emotions=tuple(emotions))
    if intensities is not None:
        if not intensities or any(i not in (1, 2, 3) for i in intensities):
            raise ValueError(f"intensities must be among 1, 2, 3, got {intensities}")
        spec = replace(spec, intensities=tuple(intensities))
    if k < 1 or n < 1:
        raise ValueError("a corpus needs at least one speaker and one sentence")
    return spec


def sentence_splits(spec: SizeSpec) -> dict[int, str]:
    """Split (``train``/``val``/``test``) of every sentence id in the pool."""
    n, k, r = spec.num_speakers, spec.sentences_per_speaker, spec.speakers_per_sentence
    pool = n * k // r
    block = k if r == n else k // r
    n_held = max(1, round(block * spec.heldout_fraction)) if block >= 3 else 0
    out: dict[int, str] = {}
    for s in range(pool):
        pos = s % block
        if n_held and pos >= block - n_held:
            out[s] = "test"
        elif n_held and pos >= block - 2 * n_held:
            out[s] = "val"
        else:
            out[s] = "train"
    return out


def speaker_sentences(spec: SizeSpec, index: int) -> list[int]:
    """Sentence ids said by the ``index``-th (0-based) speaker."""
    n, k, r = spec.num_speakers, spec.sentences_per_speaker, spec.speakers_per_sentence
    pool = n * k // r
    start = 0 if r == n else index * (k // r)
    return [(start + j) % pool for j in range(k)]


def plan_clips(spec: SizeSpec) -> list[ClipSpec]:
    """All clips of a corpus, sorted by id components (speaker, emotion, level, sentence)."""
    splits = sentence_splits(spec)
    clips: list[ClipSpec] = []
    for i, spk in enumerate(speakers(spec.num_speakers)):
        for emotion in spec.emotions:
            for level in spec.intensities:
                for sid in speaker_sentences(spec, i):
                    clips.append(ClipSpec(clip_id(spk, emotion, level, sid), spk, emotion,
                                          level, sid, splits[sid]))
    return clips
