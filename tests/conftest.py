"""Fixtures shared by several test modules."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest


@pytest.fixture(scope="module")
def one_thread() -> Iterator[None]:
    """Tiny models run fastest on one torch thread (and do not fight other jobs for cores);
    a module opts in with ``pytestmark = pytest.mark.usefixtures("one_thread")``."""
    import torch

    n = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(n)


@pytest.fixture(scope="session")
def body_model() -> Any:
    """The SMPL-X body model (the stand-in unless ``$MOTION_MODELS_DIR`` names real files)."""
    from motion.bodymodels import load_body_model

    return load_body_model()
