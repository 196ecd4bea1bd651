"""``generate_corpus``: plan the clips, make them in a process pool, write atomically.

The corpus is written into a sibling temporary folder ``<root>.tmp-<pid>-<n>`` and
renamed onto ``<root>`` only when complete, so a crash or Ctrl-C never leaves a
half-written corpus at ``root``. An existing non-empty ``root`` is refused unless
``overwrite=True`` (then it is replaced only after the new corpus is complete).
"""

from __future__ import annotations

import itertools
import os
import shutil
import time
from collections import Counter
from collections.abc import Iterable, Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import asdict, dataclass, field
from multiprocessing import get_context
from pathlib import Path
from typing import Any

from motion.synthetic.corpus import layout
from motion.synthetic.corpus.clip import GENERATOR_VERSION, ClipResult, generate_clip
from motion.synthetic.corpus.plan import ClipSpec, SizeSpec, plan_clips, resolve_size
from motion.synthetic.corpus.speakers import speakers as speaker_list


@dataclass(frozen=True)
class CorpusInfo:
    """Summary of a generated corpus.

    Attributes:
        root: the corpus folder; ``beat2_dir`` is its BEAT2 folder.
        size: the size spec used (after overrides).
        seed: generator seed.
        num_clips: number of clips written.
        total_audio_s: total audio duration in seconds.
        splits: clip count per split.
        elapsed_s: wall time of the generation.
    """

    root: Path
    size: SizeSpec
    seed: int
    num_clips: int
    total_audio_s: float
    splits: dict[str, int] = field(default_factory=dict)
    elapsed_s: float = 0.0

    @property
    def beat2_dir(self) -> Path:
        return self.root / layout.BEAT2_DIR


def _work(args: tuple[ClipSpec, int, str]) -> ClipResult:
    """Process-pool entry point: make one clip."""
    spec, seed, beat2_dir = args
    return generate_clip(spec, seed, Path(beat2_dir))


def _run(tasks: Sequence[tuple[ClipSpec, int, str]], workers: int, progress: bool) -> list[ClipResult]:
    """Run the clip tasks (in order of completion) with an optional tqdm bar."""
    results: Iterable[ClipResult]
    pool: ProcessPoolExecutor | None = None
    if workers <= 1:
        results = map(_work, tasks)
    else:
        # spawn: workers never inherit a parent's threads (torch) or library state
        pool = ProcessPoolExecutor(max_workers=workers, mp_context=get_context("spawn"))
        chunk = max(1, min(16, len(tasks) // (workers * 8)))
        results = pool.map(_work, tasks, chunksize=chunk)
    try:
        if progress:
            from tqdm.auto import tqdm

            results = tqdm(results, total=len(tasks), desc="corpus", unit="clip")
        return list(results)
    finally:
        if pool is not None:
            pool.shutdown(cancel_futures=True)


_TMP_COUNTER: Iterator[int] = itertools.count()


def is_generated_corpus(root: Path) -> bool:
    """True when ``root/corpus.json`` says this generator wrote the folder."""
    import json

    try:
        info = json.loads((root / "corpus.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    return isinstance(info, dict) and info.get("generator") == layout.GENERATOR_ID


def _check_root(root: Path, overwrite: bool) -> None:
    if root.exists() and not root.is_dir():
        raise FileExistsError(f"corpus root {root} exists and is not a folder")
    if root.exists() and any(root.iterdir()):
        if not overwrite:
            raise FileExistsError(
                f"corpus root {root} exists and is not empty; pass overwrite=True (--overwrite) "
                "to replace it, or choose another folder")
        if not is_generated_corpus(root):  # --overwrite replaces a corpus, never a user's folder
            raise FileExistsError(
                f"corpus root {root} is not a corpus written by `motion corpus` (no corpus.json of "
                "it), so --overwrite will not replace it; choose an empty folder or remove it yourself")


def generate_corpus(
    root: str | Path,
    size: str | SizeSpec = "small",
    seed: int = 0,
    workers: int | None = None,
    overwrite: bool = False,
    progress: bool = True,
    *,
    speakers: int | None = None,
    sentences: int | None = None,
    emotions: Sequence[str] | None = None,
    intensities: Sequence[int] | None = None,
) -> CorpusInfo:
    """Generate a synthetic emotional speech + motion corpus in BEAT2 layout.

    Args:
        root: output folder (created; see :mod:`.layout` for what goes in it).
        size: ``"tiny"`` (tests, ~30 clips), ``"small"`` (default) or ``"large"``
            (training), or a :class:`SizeSpec`.
        seed: every byte is a function of the seed (and the generator version).
        workers: processes (default: ``min(os.cpu_count(), 2)``); 1 = in this process.
        overwrite: replace a non-empty ``root``.
        progress: show a tqdm progress bar.
        speakers, sentences: override the size's speaker count / sentences per speaker.
        emotions, intensities: override which emotions / levels are generated.

    Returns:
        :class:`CorpusInfo`.

    Raises:
        FileExistsError: ``root`` is non-empty and ``overwrite`` is false.
        ValueError: bad size or overrides.
    """
    t0 = time.perf_counter()
    root = Path(root).expanduser().resolve()
    _check_root(root, overwrite)
    spec = resolve_size(size, speakers, sentences,
                        tuple(emotions) if emotions is not None else None,
                        tuple(intensities) if intensities is not None else None)
    clips = plan_clips(spec)
    workers = max(1, min(workers or min(os.cpu_count() or 1, 2), len(clips)))
    root.parent.mkdir(parents=True, exist_ok=True)
    tmp = root.with_name(f"{root.name}.tmp-{os.getpid()}-{next(_TMP_COUNTER)}")
    try:
        beat2 = tmp / layout.BEAT2_DIR
        layout.make_dirs(beat2)
        results = _run([(c, seed, str(beat2)) for c in clips], workers, progress)
        rows = sorted((r.row for r in results), key=lambda r: r[0])
        total = sum(r.duration_s for r in results)
        layout.write_csv(beat2 / layout.SPLIT_FILE, ("id", "type"), [(r[0], r[-1]) for r in rows])
        layout.write_csv(beat2 / layout.METADATA_FILE, layout.METADATA_COLUMNS, rows)
        splits = dict(sorted(Counter(r[-1] for r in rows).items()))
        _write_summary(tmp, spec, seed, len(rows), total, splits)
        _replace(tmp, root)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return CorpusInfo(root, spec, seed, len(rows), total, splits, time.perf_counter() - t0)


def _write_summary(tmp: Path, spec: SizeSpec, seed: int, n: int, total: float,
                   splits: dict[str, int]) -> None:
    """corpus.json and README.md (no timestamps: same seed, same bytes)."""
    from motion.synthetic.tts import library_info

    spk = speaker_list(spec.num_speakers)
    params: dict[str, Any] = {"size": spec.to_dict(), "speakers": [s.to_dict() for s in spk]}
    sentences = sorted({c.sentence_id for c in plan_clips(spec)})
    layout.write_json(tmp / "corpus.json", {
        "generator": layout.GENERATOR_ID, "generator_version": GENERATOR_VERSION,
        "seed": seed, "size": spec.name, "num_clips": n, "total_audio_s": round(total, 3),
        "splits": splits, "sentence_ids": sentences, "fps": 30, "sample_rate": 16000,
        "espeak": library_info().rsplit("(", 1)[-1].rstrip(")"), "parameters": params,
    })
    (tmp / "README.md").write_text(layout.README_TEMPLATE.format(
        size=spec.name, generator=layout.GENERATOR_ID, version=GENERATOR_VERSION, seed=seed, num_clips=n,
        hours=total / 3600, num_speakers=spec.num_speakers, num_sentences=len(sentences),
        emotions=", ".join(spec.emotions), intensities=", ".join(map(str, spec.intensities)),
        per_sentence=spec.speakers_per_sentence), encoding="utf-8")


def _replace(tmp: Path, root: Path) -> None:
    """Move the finished corpus onto ``root`` (an existing root is removed after)."""
    old: Path | None = None
    if root.exists():
        old = root.with_name(f"{root.name}.old-{os.getpid()}-{next(_TMP_COUNTER)}")
        os.rename(root, old)
    os.rename(tmp, root)
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)


def info_dict(info: CorpusInfo) -> dict[str, Any]:
    """JSON-friendly :class:`CorpusInfo`."""
    d = asdict(info)
    d["root"] = str(info.root)
    return d
