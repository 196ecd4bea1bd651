"""Rebuild the real-speech folders of the lip-event detector from public repository snapshots.

Writes (``data/`` is git-ignored; sources and licences in docs/real_speech_data.md):

* ``data/real_train/``: training speech with transcripts (the detector's labels come from
  forced alignment of each transcript by pocketsphinx, see motion/data/closure_data.py):
  Common Voice 13.0 English (CC0) clips with their validated sentences, at most
  ``--per-speaker`` clips per contributor, and the LibriVox clips of pocketsphinx's test data
  (public domain audio, BSD repository) with their transcripts; plus the ten LibriTTS clips
  already there (kept, pseudo-labelled).

No clip of ``data/real`` (the evaluation folder) is written to ``data/real_train``; the script
refuses a Common Voice clip that is also in ``data/real``. Berlin EmoDB is never read.

Usage::

    python scripts/build_real_speech_data.py --mirrors /work/.mirror --clips 1500

``--mirrors`` holds bare git snapshots named ``owner+name`` (korliu+whisper @ d03c1456,
cmusphinx+pocketsphinx @ <see manifest>). Not taken: the "LJSpeech" wavs of PhilippMatthes/dc_tts
(44.1 kHz, durations that do not match LJSpeech's: not the original recordings).
"""

from __future__ import annotations

import argparse
import csv
import io
import json
import random
import subprocess
from collections import defaultdict
from pathlib import Path

COLUMNS = ["path", "corpus", "speaker", "sex", "language", "transcript", "phone_labels", "licence", "source",
           "transcript_source"]


def _git_dir(mirror: Path) -> Path:
    repo = mirror / "repo"
    return repo / ".git" if (repo / ".git").is_dir() else repo


def _show(git: Path, path: str) -> bytes:
    return subprocess.run(["git", f"--git-dir={git}", "show", f"HEAD:{path}"], check=True,
                          capture_output=True).stdout


def _head(git: Path) -> str:
    return subprocess.run(["git", f"--git-dir={git}", "rev-parse", "HEAD"], check=True, capture_output=True,
                          text=True).stdout.strip()


def _ls(git: Path) -> list[str]:
    return subprocess.run(["git", f"--git-dir={git}", "ls-tree", "-r", "--name-only", "HEAD"], check=True,
                          capture_output=True, text=True).stdout.splitlines()


def _write(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    if not path.is_file() or path.stat().st_size != len(data):
        path.write_bytes(data)


def common_voice(mirrors: Path, out: Path, clips: int, per_speaker: int, held_out: set[str],
                 seed: int) -> list[dict[str, str]]:
    """Common Voice 13.0 delta (CC0) from korliu/whisper: validated clips (accepted by the
    contributors' votes), capped per speaker."""
    git = _git_dir(mirrors / "korliu+whisper")
    commit = _head(git)
    have = {p.rsplit("/", 1)[-1] for p in _ls(git) if p.startswith("dataset/clips/")}
    rows = list(csv.DictReader(io.StringIO(_show(git, "dataset/validated.tsv").decode("utf-8")), delimiter="\t"))
    rows = [r for r in rows if r["path"] in have and r["path"] not in held_out and r["sentence"].strip()
            and r["locale"] == "en"]
    random.Random(seed).shuffle(rows)
    taken: dict[str, int] = defaultdict(int)
    out_rows = []
    for r in rows:
        if len(out_rows) >= clips:
            break
        spk = r["client_id"][:16]
        if taken[spk] >= per_speaker:
            continue
        taken[spk] += 1
        rel = f"common_voice/wav/{r['path']}"
        _write(out / rel, _show(git, f"dataset/clips/{r['path']}"))
        out_rows.append({"path": rel, "corpus": "common_voice", "speaker": spk,
                         "sex": {"male": "M", "female": "F"}.get(r["gender"], "unknown"), "language": "en",
                         "transcript": r["sentence"].strip(), "phone_labels": "",
                         "licence": "CC0 1.0 (Mozilla Common Voice 13.0)",
                         "source": f"korliu/whisper@{commit[:8]}:dataset/clips/{r['path']}",
                         "transcript_source": "Common Voice validated sentence"})
    print(f"common_voice: {len(out_rows)} clips from {len(taken)} speakers")
    return out_rows


def librivox(mirrors: Path, out: Path) -> list[dict[str, str]]:
    """pocketsphinx's LibriVox test clips (public domain audio) with their transcripts."""
    git = _git_dir(mirrors / "cmusphinx+pocketsphinx")
    commit = _head(git)
    rows = []
    for p in sorted(_ls(git)):
        if not (p.startswith("test/data/librivox/") and p.endswith(".wav")):
            continue
        stem = p[:-4]
        text = json.loads(_show(git, stem + ".json"))["t"]
        rel = f"librivox/wav/{Path(p).name}"
        _write(out / rel, _show(git, p))
        rows.append({"path": rel, "corpus": "librivox", "speaker": "sense_and_sensibility_01", "sex": "unknown",
                     "language": "en", "transcript": text, "phone_labels": "",
                     "licence": "public domain (LibriVox); BSD-2-Clause repository",
                     "source": f"cmusphinx/pocketsphinx@{commit[:8]}:{p}",
                     "transcript_source": "pocketsphinx test data (.json 't')"})
    print(f"librivox: {len(rows)} clips")
    return rows


def _append(manifest: Path, rows: list[dict[str, str]], columns: list[str]) -> None:
    old = list(csv.DictReader(manifest.open(newline="", encoding="utf-8"))) if manifest.is_file() else []
    seen = {r["path"] for r in rows}
    keep = [r for r in old if r["path"] not in seen]
    with manifest.open("w", newline="", encoding="utf-8") as f:
        w = csv.DictWriter(f, fieldnames=columns, extrasaction="ignore")
        w.writeheader()
        w.writerows(keep + rows)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--mirrors", type=Path, default=Path("/work/.mirror"))
    ap.add_argument("--data", type=Path, default=Path("data"))
    ap.add_argument("--clips", type=int, default=1500, help="Common Voice clips to take")
    ap.add_argument("--per-speaker", type=int, default=8, help="at most this many clips per contributor")
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()
    real = args.data / "real"
    held = {p.name for p in real.rglob("*") if p.is_file()} if real.is_dir() else set()
    train = args.data / "real_train"
    rows = common_voice(args.mirrors, train, args.clips, args.per_speaker, held, args.seed) + librivox(args.mirrors, train)
    _append(train / "manifest.csv", rows, COLUMNS)


if __name__ == "__main__":
    main()
