"""Training: one LightningModule per stage, losses, callbacks and the LightningCLI entry.

Stages (each exports plain weights the next one loads frozen):

1. :class:`~motion.training.speech_module.SpeechEncoderModule` - speech disentanglement.
2. :class:`~motion.training.vae_module.MotionVAEModule` - temporal motion VAE.
3. :class:`~motion.training.diffusion_module.LatentDiffusionModule` - latent diffusion.

Entry point: :func:`motion.training.cli.main` (``motion fit``).
"""
