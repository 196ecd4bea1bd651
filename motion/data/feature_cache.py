"""Per-clip training features (speech features + body features at 30 fps), cached as npz.

Each clip of a BEAT2-layout folder is turned once into two aligned arrays::

    audio   (T, F)    log-mel (F = n_mels, default 80) or Kaldi fbank (F = n_mels, default 128)
                      at the motion frame times t_i = i / fps
    motion  (T, 315)  body features (motion.models.body_features)

T = min(audio frames, motion frames). The cache file is
``<cache_dir>/<clip id>-<key>.npz`` where ``key`` hashes the *contents* of the wav and npz
files, the feature settings and :data:`CACHE_VERSION`, so edited data or settings never
hit a stale entry. Files are written atomically and read with ``allow_pickle=False``.
Content digests are remembered in ``<cache_dir>/digests.json`` (path, size, mtime -> sha256)
so unchanged files are not re-read on every start.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Literal

import numpy as np

from motion.audio import Audio, kaldi_fbank, load_audio, num_motion_frames
from motion.audio.features import ANALYSIS_SR, log_mel_features
from motion.audio.framing import interp_frames
from motion.audio.loudness import TARGET_LUFS, loudness_scale, normalize_loudness
from motion.data.beat2_dataset import Beat2Record
from motion.types import FPS

#: Bump when the feature computation changes.
CACHE_VERSION = 1
AudioFeatureKind = Literal["log_mel", "fbank", "log_mel_visemes"]
AUDIO_FEATURE_KINDS: tuple[str, ...] = ("log_mel", "fbank", "log_mel_visemes")


@dataclass(frozen=True)
class FeatureConfig:
    """How clip features are computed.

    Attributes:
        audio_features: "log_mel" (motion.audio.compute_features), "fbank" (Kaldi/AMUSE), or
            "log_mel_visemes": the log-mel followed by the viseme classes of the phones a
            recogniser trained on real speech hears (:func:`motion.audio.phones.recognise_phones`;
            ``len(VISEME_CLASSES)`` one-hot columns).
        n_mels: mel bands.
        fps: motion frame rate of both arrays.
        loudness_lufs: integrated loudness (BS.1770-4) the speech is brought to before the
            features (:func:`motion.audio.loudness.normalize_loudness`), so the recording
            level does not reach any model; None: the raw level (exports made before it).
        augment_seed: None for the recording as it is; else the seed of one random rendering
            of it as a real recording might hold it (:func:`motion.audio.augment.augment_speech`,
            seeded by this and the clip id): training data, one cache entry per seed.
    """

    audio_features: AudioFeatureKind = "log_mel"
    n_mels: int = 80
    fps: float = FPS
    loudness_lufs: float | None = TARGET_LUFS
    augment_seed: int | None = None

    def __post_init__(self) -> None:
        if self.audio_features not in AUDIO_FEATURE_KINDS:
            raise ValueError(f"audio_features must be one of {', '.join(AUDIO_FEATURE_KINDS)}, "
                             f"got {self.audio_features!r}")
        if self.loudness_lufs is not None and not -70.0 < self.loudness_lufs < 0.0:
            raise ValueError(f"loudness_lufs must be within (-70, 0) LUFS or None, got {self.loudness_lufs}")

    @property
    def dim(self) -> int:
        """F, features per frame: ``n_mels`` (+ the viseme classes for "log_mel_visemes")."""
        if self.audio_features == "log_mel_visemes":
            from motion.synthetic.tts.phonemes import VISEME_CLASSES

            return self.n_mels + len(VISEME_CLASSES)
        return self.n_mels

    def variant(self, augment_seed: int | None) -> FeatureConfig:
        """This config for another augmentation seed (None: the recording as it is)."""
        from dataclasses import replace

        return replace(self, augment_seed=augment_seed)

    def key(self) -> str:
        extra: dict[str, object] = {}
        if self.audio_features == "log_mel_visemes":  # the recogniser's settings shape the features
            from motion.audio.phones import ALIGN_MIN_SCORE, ALIGNMENT, PHONE_LOOP

            extra["recogniser"] = {"loop": asdict(PHONE_LOOP), "align": asdict(ALIGNMENT),
                                   "align_min_score": ALIGN_MIN_SCORE}
        return json.dumps({**asdict(self), **extra, "version": CACHE_VERSION}, sort_keys=True)


def augment_seeds(variants: int, train: bool) -> list[int | None]:
    """Augmentation seeds of a split's clips: None (the recording as it is), then ``1..variants``
    for training splits (:attr:`FeatureConfig.augment_seed`)."""
    return [None] + (list(range(1, variants + 1)) if train else [])


@dataclass
class ClipFeatures:
    """Aligned per-frame arrays of one clip (float32): ``audio (T, F)``, ``motion (T, 315)``."""

    audio: np.ndarray
    motion: np.ndarray

    @property
    def num_frames(self) -> int:
        return int(self.motion.shape[0])


def audio_features(audio: Audio, cfg: FeatureConfig, transcript: str | None = None, phones: Any = None) -> np.ndarray:
    """``(T, F)`` speech features of ``audio`` at ``cfg.fps``, T = round(duration * fps).

    The Kaldi fbank (rows every 10 ms, row k centred at 10 k + 12.5 ms) is linearly
    interpolated at the motion frame times. The speech is first brought to
    ``cfg.loudness_lufs`` (BS.1770-4 integrated loudness), so a recording's level does not
    change the features. ``transcript`` (the words spoken, if known) aligns the phones of
    "log_mel_visemes" instead of recognising them; ``phones`` (its
    :class:`~motion.audio.phones.PhoneTrack`, when the caller has it) skips both.
    """
    if cfg.audio_features == "log_mel" and audio.sr == ANALYSIS_SR:  # the level applied chunk by chunk: no copy
        gain = loudness_scale(audio, cfg.loudness_lufs)[0] if cfg.loudness_lufs is not None else None
        return log_mel_features(audio, fps=cfg.fps, n_mels=cfg.n_mels, gain=gain)
    if cfg.loudness_lufs is not None:
        audio, _ = normalize_loudness(audio, cfg.loudness_lufs)
    if cfg.audio_features == "log_mel":
        return log_mel_features(audio, fps=cfg.fps, n_mels=cfg.n_mels)
    if cfg.audio_features == "log_mel_visemes":
        from motion.audio.phones import recognise_phones

        mel = log_mel_features(audio, fps=cfg.fps, n_mels=cfg.n_mels)
        track = phones if phones is not None else recognise_phones(audio, transcript)
        vis = track.viseme_frames(mel.shape[0], cfg.fps)
        return np.concatenate([mel, vis], axis=1).astype(np.float32)
    fb = kaldi_fbank(audio, n_mels=cfg.n_mels)
    T = num_motion_frames(audio.duration, cfg.fps)
    if fb.shape[0] == 0:
        return np.zeros((T, cfg.n_mels), np.float32)
    pos = (np.arange(T) / cfg.fps - 0.0125) / 0.010
    return interp_frames(fb, pos).astype(np.float32)


def compute_clip_features(rec: Beat2Record, cfg: FeatureConfig) -> ClipFeatures:
    """Load a clip's wav and npz and compute its :class:`ClipFeatures`."""
    import torch

    from motion.data.formats.beat2 import read_beat2
    from motion.models.body_features import encode_body

    if rec.wav is None:
        raise FileNotFoundError(f"clip {rec.id} has no wav file")
    audio = load_audio(rec.wav, allow_silent=True)
    if cfg.augment_seed is not None:
        from motion.audio.augment import augment_speech

        seed = int.from_bytes(hashlib.sha256(f"{rec.id}|{cfg.augment_seed}".encode()).digest()[:4], "little")
        audio = Audio(augment_speech(audio.samples, audio.sr, seed), audio.sr, audio.path)
    feats = audio_features(audio, cfg)
    motion = read_beat2(rec.npz, fps=cfg.fps)
    with torch.no_grad():
        body = encode_body(torch.from_numpy(motion.poses), torch.from_numpy(motion.trans), cfg.fps)
    T = min(feats.shape[0], body.shape[0])
    return ClipFeatures(np.ascontiguousarray(feats[:T], np.float32),
                        np.ascontiguousarray(body[:T].numpy(), np.float32))


class FeatureCache:
    """Content-addressed npz cache of :class:`ClipFeatures` in ``cache_dir``."""

    def __init__(self, cache_dir: str | Path, cfg: FeatureConfig) -> None:
        self.dir = Path(cache_dir).expanduser()
        self.cfg = cfg
        self._digest_file = self.dir / "digests.json"
        self._digests: dict[str, str] | None = None

    @staticmethod
    def _memo_key(path: Path) -> str:
        st = path.stat()
        return f"{path.resolve()}|{st.st_size}|{st.st_mtime_ns}"

    def _digest(self, path: Path) -> str:
        """sha256 of the file's bytes, memoised by (path, size, mtime)."""
        if self._digests is None:
            try:
                self._digests = json.loads(self._digest_file.read_text(encoding="utf-8"))
            except (FileNotFoundError, json.JSONDecodeError):
                self._digests = {}
        memo = self._memo_key(path)
        if memo not in self._digests:
            h = hashlib.sha256()
            with open(path, "rb") as fh:
                for block in iter(lambda: fh.read(1 << 20), b""):
                    h.update(block)
            self._digests[memo] = h.hexdigest()
        return self._digests[memo]

    def path(self, rec: Beat2Record) -> Path:
        """Cache file of ``rec`` (depends on file contents and the feature settings)."""
        parts = [self._digest(rec.npz), self._digest(rec.wav) if rec.wav else "", self.cfg.key()]
        key = hashlib.sha256("\n".join(parts).encode()).hexdigest()[:20]
        return self.dir / f"{rec.id}-{key}.npz"

    def get(self, rec: Beat2Record) -> ClipFeatures:
        """Features of ``rec``, computed and stored on a miss."""
        path = self.path(rec)
        if path.is_file():
            with np.load(path, allow_pickle=False) as z:
                return ClipFeatures(z["audio"], z["motion"])
        feats = compute_clip_features(rec, self.cfg)
        self.dir.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=self.dir, suffix=".tmp.npz")
        os.close(fd)
        try:
            np.savez(tmp, audio=feats.audio, motion=feats.motion)
            os.replace(tmp, path)
        finally:
            if os.path.exists(tmp):
                os.unlink(tmp)
        return feats

    def save_digests(self) -> None:
        """Persist the digest memo (atomic write)."""
        if self._digests is None:
            return
        self.dir.mkdir(parents=True, exist_ok=True)
        tmp = self._digest_file.with_suffix(f".tmp{os.getpid()}")
        tmp.write_text(json.dumps(self._digests, indent=0, sort_keys=True), encoding="utf-8")
        os.replace(tmp, self._digest_file)


_WORKER_CACHE: FeatureCache | None = None


#: Thread-pool sizes read by torch / OpenMP / BLAS / numba when a worker process starts.
_THREAD_VARS = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "NUMBA_NUM_THREADS")


@contextmanager
def _single_threaded_children() -> Iterator[None]:
    """Environment for worker processes started inside: one thread each.

    N workers that each open a pool of one thread per core run N x cores threads (on a
    16-core machine the parallel fill ran at 19 clips/s); the variables are set while the
    workers spawn (they read them at start) and restored after.
    """
    saved = {k: os.environ.get(k) for k in _THREAD_VARS}
    os.environ.update({k: "1" for k in _THREAD_VARS})
    try:
        yield
    finally:
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


def _init_worker(cache: FeatureCache) -> None:
    global _WORKER_CACHE
    _WORKER_CACHE = cache
    import torch

    torch.set_num_threads(1)


def _fill_one(rec: Beat2Record) -> dict[str, str]:
    """Worker: fill one entry; return the digests of its files (for the parent's memo)."""
    cache = _WORKER_CACHE
    assert cache is not None
    cache.get(rec)
    memo = cache._digests or {}
    keys = [cache._memo_key(p) for p in (rec.npz, rec.wav) if p is not None]
    return {k: memo[k] for k in keys if k in memo}


def fill_cache(cache: FeatureCache, recs: list[Beat2Record], workers: int = 0,
               desc: str = "features") -> None:
    """Compute every missing entry of ``recs`` (``workers`` processes; 0 = this one), with a
    progress bar, and save the digest memo."""
    from tqdm.auto import tqdm

    bar = {"desc": desc, "unit": "clip", "total": len(recs), "disable": len(recs) < 100}
    if workers > 0 and len(recs) >= 100:
        import multiprocessing as mp

        # spawn, not fork: forking a process whose torch / OpenMP thread pools are running
        # can deadlock the children
        ctx = mp.get_context("spawn")
        cache._digest(recs[0].npz)  # load the memo once, before the workers copy the cache
        digests: dict[str, str] = {}
        with _single_threaded_children(), ctx.Pool(workers, initializer=_init_worker,
                                                   initargs=(cache,)) as pool:
            for d in tqdm(pool.imap_unordered(_fill_one, recs, chunksize=16), **bar):
                digests.update(d)
        assert cache._digests is not None
        cache._digests.update(digests)
    else:
        for rec in tqdm(recs, **bar):
            cache.get(rec)
    cache.save_digests()
