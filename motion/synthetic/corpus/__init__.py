"""Synthetic emotional speech + whole-body motion corpus in BEAT2 layout.

Public API::

    from motion.synthetic.corpus import generate_corpus
    info = generate_corpus("data/synth", size="small", seed=0)

Sizes: ``tiny`` (tests), ``small`` (default, under 2 minutes on 2 cores), ``large``
(training). See :mod:`.layout` for the folder layout and :mod:`.plan` for ids and splits.
"""

from motion.synthetic.corpus.generate import CorpusInfo, generate_corpus
from motion.synthetic.corpus.plan import SIZES, SizeSpec
from motion.synthetic.corpus.speakers import SPEAKERS, Speaker

__all__ = ["SIZES", "SPEAKERS", "CorpusInfo", "SizeSpec", "Speaker", "generate_corpus"]
