"""Plain ``nn.Module`` models of the toolkit (no training logic; see :mod:`motion.training`).

* :class:`SpeechDisentangler` - audio features -> content sequence, emotion, style (AMUSE).
* :class:`MotionVAE` - body features <-> temporally downsampled latent sequence.
* :class:`LatentDenoiser` - transformer denoiser over the latent sequence.
* :mod:`motion.models.sampler` - diffusers schedulers and compositional classifier-free
  guidance (imported on demand: it pulls in diffusers).
* :mod:`motion.models.config` - ``module.config`` (read-only) and the plain ``.safetensors`` + ``.json`` export.
"""

from motion.models.body_features import BODY_FEATURE_DIM, BODY_JOINTS, decode_body, encode_body
from motion.models.config import load_module, module_config, register_config, save_module
from motion.models.denoiser import BodyCondition, LatentDenoiser
from motion.models.motion_vae import LatentDist, MotionVAE
from motion.models.speech_encoder import SpeechDisentangler, SpeechLatents

__all__ = [
    "BODY_FEATURE_DIM",
    "BODY_JOINTS",
    "BodyCondition",
    "LatentDenoiser",
    "LatentDist",
    "MotionVAE",
    "SpeechDisentangler",
    "SpeechLatents",
    "decode_body",
    "encode_body",
    "load_module",
    "module_config",
    "register_config",
    "save_module",
]
