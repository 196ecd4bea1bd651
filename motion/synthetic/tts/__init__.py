"""Text-to-speech with exact phoneme timing (libespeak-ng through ctypes).

Public API::

    from motion.synthetic.tts import synthesize, list_voices
    syn = synthesize("Hello there.", voice="en+f3", rate_wpm=160, pitch=60)
    syn.samples   # (N,) float32 at syn.sr (22050 Hz)
    syn.phonemes  # [PhonemeEvent(symbol, start_s, end_s), ...]
    syn.words     # [WordEvent(word, start_s, end_s), ...]
"""

from motion.synthetic.tts.espeak import (
    PhonemeEvent,
    Synthesis,
    WordEvent,
    library_info,
    synthesize,
)
from motion.synthetic.tts.phonemes import (
    is_bilabial,
    is_pause,
    is_vowel,
    split_stress,
    viseme_class,
)
from motion.synthetic.tts.speak_lib import EspeakNotAvailable
from motion.synthetic.tts.voices import VoiceInfo, list_voices

__all__ = [
    "EspeakNotAvailable",
    "PhonemeEvent",
    "Synthesis",
    "VoiceInfo",
    "WordEvent",
    "is_bilabial",
    "is_pause",
    "is_vowel",
    "library_info",
    "list_voices",
    "split_stress",
    "synthesize",
    "viseme_class",
]
