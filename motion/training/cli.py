"""``motion fit``: LightningCLI over the training stages.

    motion fit --config configs/body/speech_encoder.yaml
    motion fit --config configs/body/motion_vae.yaml --trainer.max_epochs 50
    motion fit --config configs/body/latent_diffusion.yaml --print_config
    motion fit --config configs/body/motion_vae.yaml --ckpt_path runs/motion_vae/.../last.ckpt
    motion fit --config configs/face/flint.yaml                # the face stages: configs/face
    motion fit --config configs/demo/motion_vae.yaml           # the shipped demo weights' settings

Any field can be overridden on the command line (``--model.init_args.lr 1e-4``, or the short
form ``--model.lr 1e-4``); ``--trainer configs/trainer/ddp.yaml`` swaps a whole group. The
run folder (the logger's version folder) receives the resolved ``config.yaml``, checkpoints
and the plain export (:class:`motion.training.callbacks.ExportWeights`). Multi-GPU and
multi-node training is Lightning DDP: ``--trainer.strategy ddp --trainer.devices N
--trainer.num_nodes M``, no code change.
"""

from __future__ import annotations

import pickle
import sys
import zipfile
from pathlib import Path

SUBCOMMANDS = ("fit", "validate", "test", "predict")


def _option(args: list[str], name: str) -> str | None:
    """The value of ``--name VALUE`` / ``--name=VALUE`` in ``args`` (the last one), or ``None``."""
    value = None
    for i, arg in enumerate(args):
        if arg == name and i + 1 < len(args):
            value = args[i + 1]
        elif arg.startswith(name + "="):
            value = arg.split("=", 1)[1]
    return value


def checkpoint_problem(ckpt: str | None) -> str | None:
    """Why ``--ckpt_path`` cannot be resumed from (one sentence), or ``None``.

    Lightning writes checkpoints as zip archives (``torch.save``); a truncated one has lost
    its central directory at the end, so the check is cheap and runs before any setup.
    """
    if ckpt is None or ckpt in ("last", "best", "hpc", "registry"):
        return None
    path = Path(ckpt)
    if not path.exists():
        return f"checkpoint {path} not found"
    if not path.is_file():
        return f"checkpoint {path} is not a file"
    if path.stat().st_size == 0:
        return f"checkpoint {path} is empty (0 bytes)"
    if not zipfile.is_zipfile(path):
        return f"checkpoint {path} is truncated or not a checkpoint (no complete torch zip archive)"
    return None


def main(argv: list[str] | None = None) -> int:
    """Run LightningCLI on ``argv`` (default ``sys.argv[1:]``); returns the exit status.

    ``argv`` may start with a LightningCLI subcommand (fit, validate, test, predict);
    otherwise ``fit`` is assumed, so ``motion fit ARGS`` can pass ``ARGS`` straight in.
    """
    args = list(sys.argv[1:] if argv is None else argv)
    if not args or args[0] not in SUBCOMMANDS:
        args = ["fit", *args]
    ckpt = _option(args, "--ckpt_path")
    problem = checkpoint_problem(ckpt)
    if problem:
        print(f"motion fit: error: {problem}", file=sys.stderr)
        return 1
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
    except OSError as exc:  # a missing corpus, config or folder: the message names it
        print(f"motion fit: error: {exc}", file=sys.stderr)
        return 1
    except (pickle.UnpicklingError, EOFError) as exc:
        where = f"checkpoint {ckpt}" if ckpt else "a file it reads"
        print(f"motion fit: error: {where} cannot be loaded: {str(exc).splitlines()[0]}", file=sys.stderr)
        return 1
    except RuntimeError as exc:
        if ckpt is None or "PytorchStreamReader" not in str(exc):
            raise
        print(f"motion fit: error: checkpoint {ckpt} is corrupt: {str(exc).splitlines()[0]}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
