"""Speech with frame labels of lip events, for the closure detector.

Two kinds of clip feed :class:`ClosureDataModule`, each as :class:`LabelledSpeech`:

* **real recordings** listed in a ``manifest.csv`` (columns ``path``, ``speaker``,
  ``transcript``, optional ``phone_labels``; paths relative to the manifest), e.g. the
  public recordings of ``data/real_train`` (``docs/real_speech_data.md``). Their phones come
  from the label file when there is one, else from forced alignment of the transcript by
  pocketsphinx (:func:`motion.audio.phones.recognise_phones`; a clip whose alignment fails is
  left out). Speakers are split into train / val by a hash of the speaker id
  (speaker-independent validation);
* **the synthetic corpus** (a BEAT2-layout folder): its exact phoneme timings.

Each clip is seen as it is and as ``augment_variants`` renderings of a real recording
(:func:`motion.audio.augment.augment_speech`: room, EQ, noise, telephone band, codec, level,
pitch). Features (:func:`motion.audio.closures.closure_features`) and labels
(:func:`motion.audio.closures.frame_labels`) are cached per clip and variant under
``cache_dir``. Items are windows of ``window`` frames (10 ms): ``feats (W, F)`` float32 and
``labels (W,)`` int64, ``-100`` (ignored by the loss) past a short clip's end.
"""

from __future__ import annotations

import csv
import hashlib
import json
import zlib
from collections.abc import Iterator
from concurrent.futures import ProcessPoolExecutor
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pytorch_lightning as pl
import torch
from torch.utils.data import Dataset

from motion.data.split_loaders import SplitLoaders

#: Bump when the features or labels change (invalidates the cache).
CACHE_VERSION = 1
IGNORE = -100


@dataclass(frozen=True)
class LabelledSpeech:
    """One clip: ``audio`` file; ``phones`` a phone label file / synthetic timings json (or
    None: align ``transcript``); ``split`` "train" or "val"; ``kind`` "real" or "synthetic"."""

    id: str
    audio: str
    speaker: str
    split: str
    kind: str
    phones: str | None = None
    transcript: str | None = None


def speaker_split(speaker: str, val_share: float) -> str:
    """"val" for a stable ``val_share`` of speakers (CRC32 of the id), else "train"."""
    return "val" if (zlib.crc32(speaker.encode()) % 1000) < val_share * 1000 else "train"


def real_clips(manifest: str | Path, val_share: float = 0.2) -> list[LabelledSpeech]:
    """Clips of a recordings manifest (module notes) that have a transcript or phone labels."""
    manifest = Path(manifest)
    if not manifest.is_file():
        raise FileNotFoundError(f"recordings manifest not found: {manifest} (see docs/real_speech_data.md)")
    out = []
    with manifest.open(newline="", encoding="utf-8") as f:
        for row in csv.DictReader(f):
            labels, text = (row.get("phone_labels") or "").strip(), (row.get("transcript") or "").strip()
            if not labels and not text:
                continue
            spk = f"{row.get('corpus', '')}/{row.get('speaker', '') or row['path']}"
            out.append(LabelledSpeech(
                id=row["path"], audio=str(manifest.parent / row["path"]), speaker=spk,
                split=speaker_split(spk, val_share), kind="real",
                phones=str(manifest.parent / labels) if labels else None, transcript=text or None))
    return out


def synthetic_clips(root: str | Path, max_clips: int | None = None) -> list[LabelledSpeech]:
    """Clips of a BEAT2-layout synthetic corpus with a wav and phoneme timings, in the corpus'
    own train / val splits (its test split stays unseen); every ``len // max_clips``-th clip,
    so speakers and emotions stay mixed."""
    from motion.data.beat2_dataset import index_beat2

    recs = [r for r in index_beat2(root) if r.wav is not None and r.phonemes is not None
            and r.split in ("train", "val")]
    if max_clips is not None and len(recs) > max_clips:
        recs = recs[:: max(len(recs) // max_clips, 1)][:max_clips]
    return [LabelledSpeech(id=r.id, audio=str(r.wav), speaker=f"synthetic/{r.speaker}", kind="synthetic",
                           split=str(r.split), phones=str(r.phonemes)) for r in recs]


def clip_phones(clip: LabelledSpeech, audio: Any) -> list[tuple[str, float, float]] | None:
    """Phone timings of ``clip`` (label file, synthetic json or alignment); None if alignment fails."""
    from motion.synthetic.tts.phonemes import phoneme_triples

    if clip.phones is not None and clip.phones.endswith(".json"):
        return phoneme_triples(json.loads(Path(clip.phones).read_text(encoding="utf-8")))
    if clip.phones is not None:
        from motion.data.formats.phone_labels import read_phone_labels

        return read_phone_labels(clip.phones)
    from motion.audio.phones import recognise_phones

    track = recognise_phones(audio, clip.transcript)
    return track.triples() if track.source == "aligned" else None


def _variant_seed(clip: LabelledSpeech, variant: int) -> int:
    return int.from_bytes(hashlib.sha256(f"{clip.id}|{variant}".encode()).digest()[:4], "little")


def _cache_path(cache_dir: Path, clip: LabelledSpeech, variant: int) -> Path:
    key = json.dumps({**asdict(clip), "split": None, "variant": variant, "version": CACHE_VERSION}, sort_keys=True)
    return cache_dir / f"{hashlib.sha256(key.encode()).hexdigest()[:24]}.npz"


def compute_clip(clip: LabelledSpeech, variant: int, cache_dir: str | Path) -> Path | None:
    """Features and labels of one clip variant (0: as it is), cached; None if it has no labels."""
    import warnings

    from motion.audio.closures import closure_features, frame_labels
    from motion.audio.io import Audio, load_audio

    path = _cache_path(Path(cache_dir), clip, variant)
    if path.is_file():
        return path
    audio = load_audio(clip.audio, allow_silent=True)
    labels_path = path.with_suffix(".phones.json")
    if labels_path.is_file():
        phones = json.loads(labels_path.read_text(encoding="utf-8"))
    else:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            phones = clip_phones(clip, audio)
        labels_path.parent.mkdir(parents=True, exist_ok=True)
        labels_path.write_text(json.dumps(phones), encoding="utf-8")
    if not phones:
        return None
    if variant:
        from motion.audio.augment import augment_speech

        audio = Audio(augment_speech(audio.samples, audio.sr, _variant_seed(clip, variant)), audio.sr, audio.path)
    feats = closure_features(audio)
    labels = frame_labels(phones, feats.shape[0])
    tmp = path.with_name(path.stem + ".tmp.npz")
    np.savez(tmp, feats=feats.astype(np.float16), labels=labels.astype(np.int8))
    tmp.replace(path)
    return path


def _compute_star(args: tuple[LabelledSpeech, int, str]) -> Path | None:
    import torch

    torch.set_num_threads(1)
    return compute_clip(*args)


class LabelledWindows(Dataset):
    """Windows of ``window`` frames every ``hop`` over clips with V variants each (module notes).

    Args:
        clips: per clip a list of (feats ``(T, F)``, labels ``(T,)``) variants.
        random_variant: draw a variant per item (training); else variant 0.
    """

    def __init__(self, clips: list[list[tuple[np.ndarray, np.ndarray]]], window: int, hop: int,
                 random_variant: bool) -> None:
        self.clips, self.window, self.random_variant = clips, window, random_variant
        self.index = [(c, s) for c, v in enumerate(clips) for s in range(0, max(v[0][0].shape[0] - window, 0) + 1, hop)]
        self._rng = np.random.default_rng(0)

    def __len__(self) -> int:
        return len(self.index)

    def __getitem__(self, i: int) -> dict[str, torch.Tensor]:
        c, s = self.index[i]
        variants = self.clips[c]
        feats, labels = variants[int(self._rng.integers(len(variants))) if self.random_variant else 0]
        x = np.zeros((self.window, feats.shape[1]), np.float32)
        y = np.full(self.window, IGNORE, np.int64)
        n = min(self.window, feats.shape[0] - s)
        x[:n], y[:n] = feats[s:s + n], labels[s:s + n]
        return {"feats": torch.from_numpy(x), "labels": torch.from_numpy(y)}


class ClosureDataModule(SplitLoaders, pl.LightningDataModule):
    """Train / val :class:`LabelledWindows` of real and synthetic speech (module notes).

    Args:
        manifests: recordings manifests (``manifest.csv``) of real speech.
        synthetic_root: a synthetic corpus folder, or None.
        max_synthetic_clips: synthetic clips taken (spread over the corpus).
        val_share: share of speakers held out for validation.
        augment_variants: augmented renderings per training clip (validation: the clean one
            and the same number of renderings, so it measures robustness too).
        window, hop, val_hop: in 10 ms frames.
        cache_dir: feature cache (default ``$MOTION_CACHE_DIR/closures``).
        batch_size, num_workers: loaders; workers also compute the features.
    """

    def __init__(self, manifests: list[str] | None = None, synthetic_root: str | None = "data/corpus",
                 max_synthetic_clips: int | None = 2000, val_share: float = 0.2, augment_variants: int = 3,
                 window: int = 400, hop: int = 100, val_hop: int | None = None, cache_dir: str | None = None,
                 batch_size: int = 32, num_workers: int = 0) -> None:
        super().__init__()
        if augment_variants < 0:
            raise ValueError(f"augment_variants must be >= 0, got {augment_variants}")
        self.manifests = list(manifests or [])
        self.synthetic_root, self.max_synthetic_clips = synthetic_root, max_synthetic_clips
        self.val_share, self.augment_variants = val_share, augment_variants
        self.window, self.hop, self.val_hop = window, hop, val_hop or window
        if cache_dir is None:
            from motion.bodymodels.paths import cache_root

            cache_dir = str(cache_root() / "closures")
        self.cache_dir = cache_dir
        self.batch_size, self.num_workers = batch_size, num_workers
        self.datasets: dict[str, LabelledWindows] = {}
        self._clips: list[LabelledSpeech] | None = None

    def clips(self) -> list[LabelledSpeech]:
        """Every clip of the sources, in a fixed order."""
        if self._clips is None:
            clips: list[LabelledSpeech] = []
            for m in self.manifests:
                clips += real_clips(m, self.val_share)
            if self.synthetic_root:
                clips += synthetic_clips(self.synthetic_root, self.max_synthetic_clips)
            if not clips:
                raise ValueError("no labelled speech: give data.init_args.manifests and/or synthetic_root")
            self._clips = clips
        return self._clips

    def _jobs(self) -> Iterator[tuple[LabelledSpeech, int, str]]:
        for c in self.clips():
            for v in range(self.augment_variants + 1):
                yield c, v, self.cache_dir

    def prepare_data(self) -> None:
        """Fill the cache (labels by alignment where needed, then every variant's features)."""
        from tqdm.auto import tqdm

        Path(self.cache_dir).mkdir(parents=True, exist_ok=True)
        first = [(c, 0, self.cache_dir) for c in self.clips()]  # labels first, then variants reuse them
        rest = [j for j in self._jobs() if j[1] > 0]
        for jobs, desc in ((first, "closure labels"), (rest, "closure features (augmented)")):
            if self.num_workers > 0:
                with ProcessPoolExecutor(self.num_workers) as ex:
                    list(tqdm(ex.map(_compute_star, jobs, chunksize=8), total=len(jobs), desc=desc))
            else:
                for j in tqdm(jobs, desc=desc):
                    compute_clip(*j)

    def _arrays(self, split: str) -> list[list[tuple[np.ndarray, np.ndarray]]]:
        out = []
        for c in self.clips():
            if c.split != split:
                continue
            variants = []
            for v in range(self.augment_variants + 1):
                path = compute_clip(c, v, self.cache_dir)
                if path is None:
                    break
                with np.load(path) as z:
                    variants.append((z["feats"].astype(np.float32), z["labels"].astype(np.int64)))
            if variants:
                out.append(variants)
        return out

    def _dataset(self, split: str, hop: int) -> LabelledWindows:
        arrays = self._arrays(split)
        if not arrays:
            raise ValueError(f"no labelled {split} clips (check the manifests, val_share and synthetic_root)")
        return LabelledWindows(arrays, self.window, hop, random_variant=True)

    def class_counts(self) -> np.ndarray:
        """``(3,)`` frames per class in the training split (clean variant)."""
        counts = np.zeros(3, np.int64)
        for variants in self.datasets["train"].clips if "train" in self.datasets else self._arrays("train"):
            lab = variants[0][1]
            counts += np.bincount(lab[lab >= 0], minlength=3)
        return counts

    def describe(self) -> dict[str, Any]:
        """What the export records of the data."""
        from motion.audio.closures import FRAME_RATE, N_BANDS

        clips = self.clips()
        return {"features": "closure_features", "n_bands": N_BANDS, "frame_rate": FRAME_RATE,
                "manifests": self.manifests, "synthetic_root": self.synthetic_root,
                "clips": {k: sum(c.kind == k for c in clips) for k in ("real", "synthetic")}}
