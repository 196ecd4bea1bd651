"""The toolkit's own training data: a synthetic emotional speech + motion corpus, and its voice.

* :mod:`motion.synthetic.corpus` (``motion corpus``): a self-generated corpus of speakers
  saying sentences in every emotion and intensity (MEAD-style: neutral, happy, sad, ...,
  levels 1-3), each clip a WAV, its phone / word timings and the whole-body SMPL-X + FLAME
  motion that goes with it (beats from the prosody, gestures, head, face, visemes, blinks),
  laid out like BEAT2 so that the BEAT2 loaders of :mod:`motion.data` read it as they read
  the real dataset. Same seed, same bytes.
* :mod:`motion.synthetic.tts`: the formant TTS that voices it, libespeak-ng through ctypes,
  with exact phoneme and word timings (and, made reproducible, the same samples in any
  process). Its phoneme table (:mod:`motion.synthetic.tts.phonemes`: visemes, bilabials,
  pauses) is also what the phone helpers, the face pipeline and the metrics label phones with.

Kept empty on purpose: importing :mod:`motion.synthetic.tts.phonemes` loads neither the
corpus generator nor anything else.
"""
