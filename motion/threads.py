"""How many threads torch's intra-op pool gets.

torch sizes its pool from the machine's cores. Inside a container with a CPU quota, a
narrowed affinity mask or a neighbour that keeps a core busy, that is too many: the
toolkit's models are small, each operation is split into pieces that must all finish
before the next one starts, and one piece whose thread waits for a busy core stalls the
rest (on a busy 2-core machine, 2 threads ran 5-30x slower than 1).

:func:`choose_threads` decides, in this order: the number asked for (``--threads``), then
``$MOTION_THREADS``, then the cores this process may really use (the affinity mask and a
cgroup CPU quota, v2 ``cpu.max`` or v1 ``cpu.cfs_quota_us``) capped at
:data:`MAX_AUTO_THREADS` and reduced to the cores that sat idle over the last 0.1 s
(:func:`idle_cores`, from ``/proc/stat``): a neighbour that keeps a core busy costs a thread.
No torch import here: :func:`apply_threads` imports it only when called.

The Python API (:func:`motion.generate`) decides the same way for each call
(:func:`threads_for_call`) and puts torch's pool back afterwards, but keeps a pool size its
caller chose: one set with ``torch.set_num_threads`` (a size other than the one torch starts
with, :func:`torch_default_threads`) or through ``$OMP_NUM_THREADS`` / ``$MKL_NUM_THREADS``.
"""

from __future__ import annotations

import math
import os
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from motion.errors import MotionError

ENV = "MOTION_THREADS"
#: Most threads chosen automatically: the models are small; past this, splitting costs more than it gains.
MAX_AUTO_THREADS = 4
#: Seconds over which idle cores are measured (``/proc/stat`` ticks at 100 Hz: 10 per core).
IDLE_SAMPLE_S = 0.1
#: cgroup files holding the CPU quota (v2 first, then v1).
CGROUP_ROOT = Path("/sys/fs/cgroup")


class ThreadsError(MotionError, ValueError):
    """``--threads`` / ``$MOTION_THREADS`` is not a whole number of at least 1."""


def parse_threads(text: str, source: str = ENV) -> int:
    """``text`` as a thread count (a whole number of at least 1), or :class:`ThreadsError`."""
    try:
        value = int(str(text).strip())
    except ValueError:
        raise ThreadsError(f"{source} must be a whole number of threads (1 or more), got {text!r}") from None
    if value < 1:
        raise ThreadsError(f"{source} must be 1 or more, got {value}")
    return value


def _cgroup_quota(root: Path = CGROUP_ROOT) -> float | None:
    """CPUs allowed by this process's cgroup quota (e.g. 1.5), or ``None`` without a quota."""
    try:
        rel = ""
        for line in Path("/proc/self/cgroup").read_text().splitlines():
            parts = line.split(":", 2)
            if len(parts) == 3 and (parts[0] == "0" or "cpu" in parts[1].split(",")):
                rel = parts[2].lstrip("/")
                break
    except OSError:
        rel = ""
    for base in ([root / rel, root] if rel else [root]):
        try:  # v2: "max 100000" or "150000 100000"
            quota, period = (base / "cpu.max").read_text().split()[:2]
            if quota != "max" and float(period) > 0:
                return float(quota) / float(period)
            return None
        except (OSError, ValueError):
            pass
        for v1 in (base / "cpu", base / "cpu,cpuacct", base):
            try:
                quota_us = float((v1 / "cpu.cfs_quota_us").read_text())
                period_us = float((v1 / "cpu.cfs_period_us").read_text())
            except (OSError, ValueError):
                continue
            return quota_us / period_us if quota_us > 0 and period_us > 0 else None
    return None


def available_cores() -> float:
    """CPUs this process may run on: the affinity mask, lowered by a cgroup quota."""
    try:
        cores = float(len(os.sched_getaffinity(0)))
    except (AttributeError, OSError):
        cores = float(os.cpu_count() or 1)
    quota = _cgroup_quota()
    return min(cores, quota) if quota else cores


def _cpu_times(cpus: set[int]) -> tuple[float, float]:
    """(idle, total) jiffies of ``cpus`` from ``/proc/stat``."""
    idle = total = 0.0
    with open("/proc/stat", encoding="ascii") as f:
        for line in f:
            name, _, rest = line.partition(" ")
            if not name.startswith("cpu") or name == "cpu" or int(name[3:]) not in cpus:
                continue
            fields = [float(x) for x in rest.split()]
            idle += fields[3] + (fields[4] if len(fields) > 4 else 0.0)  # idle + iowait
            total += sum(fields[:8])  # guest time is already in user
    return idle, total


def idle_cores(interval: float = IDLE_SAMPLE_S) -> float | None:
    """How many of this process's CPUs sat idle over the next ``interval`` seconds (``/proc/stat``),
    or ``None`` where that cannot be measured. A neighbour that keeps one core busy shows as one
    core fewer; this process itself is asleep meanwhile."""
    try:
        cpus = set(os.sched_getaffinity(0))
        idle0, total0 = _cpu_times(cpus)
        time.sleep(interval)
        idle1, total1 = _cpu_times(cpus)
    except (AttributeError, OSError, ValueError, IndexError):
        return None
    if total1 <= total0:
        return None
    return len(cpus) * (idle1 - idle0) / (total1 - total0)


def choose_threads(requested: int | None = None) -> int:
    """The intra-op thread count to use (see the module docstring).

    Args:
        requested: what the user asked for (``--threads``); ``None`` = decide.

    Raises:
        ThreadsError: ``$MOTION_THREADS`` is set to something that is not a count.
    """
    if requested is not None:
        return parse_threads(str(requested), "--threads")
    env = os.environ.get(ENV)
    if env:
        return parse_threads(env)
    cores = available_cores()
    idle = idle_cores()
    free = cores if idle is None else min(cores, idle)
    return max(1, min(MAX_AUTO_THREADS, math.floor(cores), math.floor(free + 0.5)))


def apply_threads(requested: int | None = None) -> int:
    """Set torch's intra-op pool to :func:`choose_threads` ``(requested)``; returns the count."""
    import torch

    n = choose_threads(requested)
    if torch.get_num_threads() != n:
        torch.set_num_threads(n)
    return n


#: What the last :func:`threads_for_call` decided: ``{"threads": N, "source": ...}`` (None before any).
_LAST_CHOICE: dict[str, Any] | None = None


def physical_cores() -> int:
    """Physical cores among the CPUs this process may run on (hyper-threads counted once), from
    ``/sys/devices/system/cpu/cpuN/topology``; the CPU count where that is unreadable."""
    try:
        cpus = sorted(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        return os.cpu_count() or 1
    cores = set()
    for cpu in cpus:
        topo = Path(f"/sys/devices/system/cpu/cpu{cpu}/topology")
        try:
            cores.add(((topo / "physical_package_id").read_text().strip(), (topo / "core_id").read_text().strip()))
        except OSError:
            return len(cpus)
    return max(1, len(cores))


def torch_default_threads() -> int | None:
    """The intra-op pool size torch starts with here (``$OMP_NUM_THREADS``, else ``$MKL_NUM_THREADS``,
    else the physical cores), or None when one of those variables is set: a size the user chose."""
    for var in ("OMP_NUM_THREADS", "MKL_NUM_THREADS"):
        if os.environ.get(var, "").strip():
            return None
    return physical_cores()


def caller_chose_threads() -> bool:
    """Whether torch's pool has a size the user chose (not the one torch starts with, or set
    through ``$OMP_NUM_THREADS`` / ``$MKL_NUM_THREADS``). Imports torch."""
    import torch

    default = torch_default_threads()
    return default is None or torch.get_num_threads() != default


@contextmanager
def threads_for_call(requested: int | None = None) -> Iterator[int]:
    """Size torch's pool for one API call and put it back afterwards; yields the count used.

    ``requested`` (the ``threads=`` argument) wins, then ``$MOTION_THREADS``; otherwise a pool
    size the caller chose (:func:`caller_chose_threads`) is kept, and only an untouched pool
    gets :func:`choose_threads`' automatic choice, as the command line does.

    Raises:
        ThreadsError: ``requested`` or ``$MOTION_THREADS`` is not a whole number of at least 1.
    """
    global _LAST_CHOICE
    import torch

    before = torch.get_num_threads()
    if requested is not None:
        n, source = parse_threads(str(requested), "threads"), "threads="
    elif os.environ.get(ENV):
        n, source = parse_threads(os.environ[ENV]), ENV
    elif caller_chose_threads():
        n, source = before, "caller"
    else:
        n, source = choose_threads(), "auto"
    _LAST_CHOICE = {"threads": n, "source": source}
    if n != before:
        torch.set_num_threads(n)
    try:
        yield n
    finally:
        if torch.get_num_threads() != before:
            torch.set_num_threads(before)


def last_choice() -> dict[str, Any] | None:
    """``{"threads": N, "source": "threads=" | "MOTION_THREADS" | "caller" | "auto"}`` of the last
    :func:`threads_for_call` in this process (None before any)."""
    return None if _LAST_CHOICE is None else dict(_LAST_CHOICE)
