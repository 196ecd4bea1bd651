"""``motion fit``: LightningCLI over the training stages.

    motion fit --config configs/experiment/speech_encoder.yaml
    motion fit --config configs/experiment/motion_vae.yaml --trainer.max_epochs 50
    motion fit --config configs/experiment/latent_diffusion.yaml --print_config
    motion fit --config configs/experiment/motion_vae.yaml --ckpt_path runs/motion_vae/.../last.ckpt

Any field can be overridden on the command line (``--model.init_args.lr 1e-4``, or the short
form ``--model.lr 1e-4``); ``--trainer configs/trainer/ddp.yaml`` swaps a whole group. The
run folder (the logger's version folder) receives the resolved ``config.yaml``, checkpoints
and the plain export (:class:`motion.training.callbacks.ExportWeights`). Multi-GPU and
multi-node training is Lightning DDP: ``--trainer.strategy ddp --trainer.devices N
--trainer.num_nodes M``, no code change.
"""

from __future__ import annotations

import sys

SUBCOMMANDS = ("fit", "validate", "test", "predict")


def main(argv: list[str] | None = None) -> int:
    """Run LightningCLI on ``argv`` (default ``sys.argv[1:]``); returns the exit status.

    ``argv`` may start with a LightningCLI subcommand (fit, validate, test, predict);
    otherwise ``fit`` is assumed, so ``motion fit ARGS`` can pass ``ARGS`` straight in.
    """
    args = list(sys.argv[1:] if argv is None else argv)
    if not args or args[0] not in SUBCOMMANDS:
        args = ["fit", *args]
    import warnings

    import pytorch_lightning as pl
    from pytorch_lightning.cli import LightningCLI

    # args is passed explicitly (to default the subcommand); Lightning warns whenever
    # sys.argv is non-empty too, which is always the case under `motion fit`.
    warnings.filterwarnings("ignore", message="LightningCLI's args parameter is intended")
    try:
        LightningCLI(pl.LightningModule, pl.LightningDataModule, subclass_mode_model=True,
                     subclass_mode_data=True, args=args, seed_everything_default=0,
                     save_config_kwargs={"overwrite": True})
    except SystemExit as exc:  # --help, --print_config and argument errors exit
        code = exc.code
        return code if isinstance(code, int) else (0 if code is None else 1)
    return 0


if __name__ == "__main__":
    sys.exit(main())
