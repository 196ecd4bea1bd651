"""ctypes declarations for libespeak-ng's C API (``espeak-ng/speak_lib.h``) and the loader.

Only the parts of the API the toolkit uses are declared. Struct layouts follow
``speak_lib.h`` of espeak-ng 1.5x exactly (x86-64 sizes in comments):

``espeak_EVENT`` (40 bytes)::

    int  type                 0   espeak_EVENT_TYPE
    uint unique_identifier    4
    int  text_position        8   characters from the start of the text (1-based)
    int  length              12   word length in characters (WORD events)
    int  audio_position      16   time in ms within the generated speech
    int  sample              20   sample index (internal use)
    void *user_data          24
    union id                 32   int number | const char *name | char string[8]

The library is found in this order: ``$MOTION_ESPEAK_LIBRARY`` (a path), the
``espeakng_loader`` wheel (which also ships ``espeak-ng-data``), then a system
``libespeak-ng`` (data from ``$ESPEAK_DATA_PATH`` or its compiled-in default).
"""

from __future__ import annotations

import ctypes
import ctypes.util
import os
from typing import Final

from motion.errors import MotionError

# espeak_EVENT_TYPE (speak_lib.h).
EVENT_LIST_TERMINATED: Final[int] = 0
EVENT_WORD: Final[int] = 1
EVENT_SENTENCE: Final[int] = 2
EVENT_MARK: Final[int] = 3
EVENT_PLAY: Final[int] = 4
EVENT_END: Final[int] = 5
EVENT_MSG_TERMINATED: Final[int] = 6
EVENT_PHONEME: Final[int] = 7
EVENT_SAMPLERATE: Final[int] = 8

# espeak_AUDIO_OUTPUT: SYNCHRONOUS = retrieval through the callback, returns when done.
AUDIO_OUTPUT_SYNCHRONOUS: Final[int] = 2
# espeak_Initialize options.
INITIALIZE_PHONEME_EVENTS: Final[int] = 0x0001
INITIALIZE_DONT_EXIT: Final[int] = 0x8000
# espeak_POSITION_TYPE and espeak_Synth flags.
POS_CHARACTER: Final[int] = 1
CHARS_UTF8: Final[int] = 1
# espeak_PARAMETER.
PARAM_RATE: Final[int] = 1  # words per minute, 80..450
PARAM_VOLUME: Final[int] = 2  # amplitude 0..200, default 100
PARAM_PITCH: Final[int] = 3  # base pitch 0..100, default 50
PARAM_RANGE: Final[int] = 4  # pitch range 0..100, default 50
PARAM_WORDGAP: Final[int] = 7  # extra pause between words, units of 10 ms at normal speed
# espeak_ERROR.
EE_OK: Final[int] = 0


class EventId(ctypes.Union):
    """``union id`` of ``espeak_EVENT``."""

    _fields_ = [
        ("number", ctypes.c_int),
        ("name", ctypes.c_char_p),
        ("string", ctypes.c_char * 8),
    ]


class EspeakEvent(ctypes.Structure):
    """``espeak_EVENT``."""

    _fields_ = [
        ("type", ctypes.c_int),
        ("unique_identifier", ctypes.c_uint),
        ("text_position", ctypes.c_int),
        ("length", ctypes.c_int),
        ("audio_position", ctypes.c_int),
        ("sample", ctypes.c_int),
        ("user_data", ctypes.c_void_p),
        ("id", EventId),
    ]


class EspeakVoice(ctypes.Structure):
    """``espeak_VOICE``: ``languages`` is a list of (priority byte, name, NUL), ended by a 0 byte."""

    _fields_ = [
        ("name", ctypes.c_char_p),
        ("languages", ctypes.c_void_p),
        ("identifier", ctypes.c_char_p),
        ("gender", ctypes.c_ubyte),
        ("age", ctypes.c_ubyte),
        ("variant", ctypes.c_ubyte),
        ("xx1", ctypes.c_ubyte),
        ("score", ctypes.c_int),
        ("spare", ctypes.c_void_p),
    ]


#: ``int (t_espeak_callback)(short *wav, int numsamples, espeak_EVENT *events)``.
SynthCallback = ctypes.CFUNCTYPE(
    ctypes.c_int, ctypes.POINTER(ctypes.c_short), ctypes.c_int, ctypes.POINTER(EspeakEvent)
)


class EspeakNotAvailable(MotionError, RuntimeError):
    """libespeak-ng (or its data) could not be loaded."""


def _candidates() -> list[tuple[str, str | None]]:
    """(library path, data path or None) pairs to try, most preferred first."""
    out: list[tuple[str, str | None]] = []
    env_lib = os.environ.get("MOTION_ESPEAK_LIBRARY")
    if env_lib:
        out.append((env_lib, os.environ.get("ESPEAK_DATA_PATH")))
    try:
        import espeakng_loader  # the wheel ships the library and espeak-ng-data

        out.append((espeakng_loader.get_library_path(), espeakng_loader.get_data_path()))
    except Exception as exc:  # noqa: BLE001 - not installed or data missing: try the system library
        out.append((f"<espeakng_loader unavailable: {exc}>", None))
    found = ctypes.util.find_library("espeak-ng")
    for name in ([found] if found else []) + ["libespeak-ng.so.1", "libespeak-ng.dylib"]:
        out.append((name, os.environ.get("ESPEAK_DATA_PATH")))
    return out


def _declare(lib: ctypes.CDLL) -> None:
    """Set argument and result types of the functions used."""
    c = ctypes
    lib.espeak_Initialize.argtypes = [c.c_int, c.c_int, c.c_char_p, c.c_int]
    lib.espeak_Initialize.restype = c.c_int
    lib.espeak_SetSynthCallback.argtypes = [SynthCallback]
    lib.espeak_SetSynthCallback.restype = None
    lib.espeak_SetVoiceByName.argtypes = [c.c_char_p]
    lib.espeak_SetVoiceByName.restype = c.c_int
    lib.espeak_SetParameter.argtypes = [c.c_int, c.c_int, c.c_int]
    lib.espeak_SetParameter.restype = c.c_int
    lib.espeak_Synth.argtypes = [
        c.c_void_p, c.c_size_t, c.c_uint, c.c_int, c.c_uint, c.c_uint, c.c_void_p, c.c_void_p
    ]
    lib.espeak_Synth.restype = c.c_int
    lib.espeak_Synchronize.argtypes = []
    lib.espeak_Synchronize.restype = c.c_int
    lib.espeak_ListVoices.argtypes = [c.POINTER(EspeakVoice)]
    lib.espeak_ListVoices.restype = c.POINTER(c.POINTER(EspeakVoice))
    lib.espeak_Info.argtypes = [c.c_void_p]
    lib.espeak_Info.restype = c.c_char_p
    if hasattr(lib, "espeak_ng_SetRandSeed"):  # espeak-ng >= 1.51
        lib.espeak_ng_SetRandSeed.argtypes = [c.c_long]
        lib.espeak_ng_SetRandSeed.restype = None


def load_library() -> tuple[ctypes.CDLL, int, str]:
    """Load and initialise libespeak-ng (synchronous retrieval mode, phoneme events on).

    Returns:
        ``(lib, sample_rate, description)``; ``description`` names the library and version.

    Raises:
        EspeakNotAvailable: no candidate library loads or initialises; the message lists
            what was tried and how to fix it.
    """
    tried: list[str] = []
    for lib_path, data_path in _candidates():
        try:
            lib = ctypes.CDLL(lib_path)
            _declare(lib)
        except (OSError, AttributeError) as exc:
            tried.append(f"{lib_path}: {exc}")
            continue
        data = data_path.encode() if data_path else None
        sr = lib.espeak_Initialize(
            AUDIO_OUTPUT_SYNCHRONOUS, 0, data, INITIALIZE_PHONEME_EVENTS | INITIALIZE_DONT_EXIT
        )
        if sr <= 0:
            tried.append(f"{lib_path}: espeak_Initialize failed (data path {data_path!r})")
            continue
        version = (lib.espeak_Info(None) or b"?").decode(errors="replace")
        return lib, int(sr), f"{lib_path} (espeak-ng {version})"
    raise EspeakNotAvailable(
        "could not load libespeak-ng; tried:\n  "
        + "\n  ".join(tried or ["(no candidates)"])
        + "\nInstall it with `pip install espeakng-loader` (ships the library and its data), "
        "or the system package (`apt-get install libespeak-ng1`), or point "
        "$MOTION_ESPEAK_LIBRARY at the shared library and $ESPEAK_DATA_PATH at espeak-ng-data."
    )
