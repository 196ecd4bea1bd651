"""A fixed, deterministic bank of short English sentences built from templates.

Sentence ``i`` is the same text in every corpus (independent of size and seed), so the
same sentence id lines up across corpora, speakers and emotions (needed for content
alignment losses that pair two speakers saying the same words, as AMUSE does).
Word lists favour bilabials (p/b/m), labiodentals (f/v) and rounded vowels so every
sentence exercises lip closure, lip-teeth contact and rounding. Sentences are 5-11
words, about 2-4 s of speech at 150-190 wpm.
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np

_NAMES = ("Bob", "Maria", "Peter", "Emma", "Paul", "Mabel", "Ben", "Molly", "Tom", "Beth",
          "Sam", "Lou", "Martha", "Philip", "Ruby", "Vivian", "Oliver", "Fiona", "Bruno", "Pam")
_NOUNS = ("boat", "map", "book", "pie", "bottle", "basket", "blanket", "piano", "puppy",
          "balloon", "umbrella", "window", "mirror", "photo", "muffin", "bicycle", "shoe",
          "violin", "pumpkin", "rope", "moon", "van", "pillow", "mop", "box", "wave", "mango",
          "pebble", "flower", "stove")
_ADJS = ("big", "blue", "old", "brown", "purple", "smooth", "broken", "famous", "humble",
         "simple", "heavy", "funny", "small", "warm", "polite", "bumpy", "mellow", "rubber")
_PLACES = ("the harbour", "the market", "the bay", "the museum", "the bridge", "the pool",
           "my room", "the bakery", "the meadow", "the moor", "the pub", "the farm")
_TIMES = ("tomorrow", "before noon", "every morning", "by Monday", "in May", "last Friday",
          "at five", "on Tuesday", "before dawn", "in the evening")
_VERBS = ("bring", "move", "paint", "borrow", "fix", "buy", "open", "push", "polish", "wrap",
          "throw", "follow", "remove", "prove", "fold", "pour")
_VERBS_PAST = ("brought", "moved", "painted", "borrowed", "fixed", "bought", "opened",
               "pushed", "polished", "wrapped", "found", "followed", "removed", "folded")

# Each template: (format string, word-list slots in order). Slots: N=name, O=noun,
# A=adjective, P=place, T=time, V=verb, D=past-tense verb.
_TEMPLATES: tuple[tuple[str, str], ...] = (
    ("{} {} the {} {} {}.", "NDAOT"),
    ("Maybe we should {} the {} {}.", "VOT"),
    ("Please {} my {} {} from {}.", "VAOP"),
    ("Why did {} {} the {} {}?", "NVAO"),
    ("We never {} a {} {} in {}.", "VAOP"),
    ("The {} {} was by {} {}.", "AOPT"),
    ("{} promised to {} the {} {}.", "NVAO"),
    ("I believe {} {} the {} near {}.", "NDOP"),
    ("Bring me the {} {} before {} comes back.", "AON"),
    ("My {} {} is floating in {}!", "AOP"),
    ("Have you seen the {} {} {}?", "AOT"),
    ("{} and {} will {} the {} {}.", "NNVOT"),
)
_LISTS = {"N": _NAMES, "O": _NOUNS, "A": _ADJS, "P": _PLACES, "T": _TIMES, "V": _VERBS,
          "D": _VERBS_PAST}

#: Seed of the sentence bank; fixed so sentence ids mean the same text everywhere.
BANK_SEED = 20240531
#: Sentences beyond this many are not generated.
MAX_SENTENCES = 2000


@lru_cache(maxsize=1)
def _bank() -> tuple[str, ...]:
    """All sentences, in id order (drawn once, deterministically, de-duplicated)."""
    rng = np.random.default_rng(BANK_SEED)
    out: list[str] = []
    seen: set[str] = set()
    while len(out) < MAX_SENTENCES:
        fmt, slots = _TEMPLATES[int(rng.integers(len(_TEMPLATES)))]
        words: list[str] = []
        for slot in slots:
            choices = [w for w in _LISTS[slot] if w not in words]
            words.append(choices[int(rng.integers(len(choices)))])
        text = fmt.format(*words)
        text = text[0].upper() + text[1:]
        if text not in seen and 5 <= len(text.split()) <= 11:
            seen.add(text)
            out.append(text)
    return tuple(out)


def sentence(sentence_id: int) -> str:
    """The text of sentence ``sentence_id`` (0-based)."""
    if not 0 <= sentence_id < MAX_SENTENCES:
        raise ValueError(f"sentence id must be in [0, {MAX_SENTENCES}), got {sentence_id}")
    return _bank()[sentence_id]


def sentences(n: int) -> list[str]:
    """The first ``n`` sentences."""
    return [sentence(i) for i in range(n)]
