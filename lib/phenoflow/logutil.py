"""Logging for workflow jobs: everything into the rule's log file.

``job_logging(path)`` sends Python logging to the log file and to the
terminal (and, under Slurm, which job, node, partition and GPUs it got), and redirects the process's own stdout/stderr file descriptors
(where Pythia's C++ code prints) into the log file too.  An exception
raised inside the block is logged in both places before it propagates.
"""

from __future__ import annotations

import contextlib
import logging
import os
import sys
from collections.abc import Iterator
from pathlib import Path

FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"


def slurm_job_line(environ: dict[str, str] | None = None) -> str:
    """Where a job runs under Slurm: job id, node, partition and the GPUs it was given."""
    env = os.environ if environ is None else environ
    gpus = env.get("SLURM_JOB_GPUS") or env.get("SLURM_STEP_GPUS") or "none"
    return (
        f"slurm job {env.get('SLURM_JOB_ID', '?')} on node {env.get('SLURMD_NODENAME', '?')}, "
        f"partition {env.get('SLURM_JOB_PARTITION', '?')}, gpus {gpus}"
    )


@contextlib.contextmanager
def job_logging(
    path: str | os.PathLike[str] | None, level: int = logging.INFO
) -> Iterator[logging.Logger]:
    root = logging.getLogger()
    root.setLevel(level)
    for h in list(root.handlers):
        root.removeHandler(h)
    if path is None:
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(logging.Formatter(FORMAT))
        root.addHandler(handler)
        yield root
        return
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    sys.stdout.flush()
    sys.stderr.flush()
    saved_out, saved_err = os.dup(1), os.dup(2)
    terminal = os.fdopen(os.dup(2), "w", buffering=1)
    logfile = open(path, "a", buffering=1)  # noqa: SIM115 - closed below
    os.dup2(logfile.fileno(), 1)
    os.dup2(logfile.fileno(), 2)
    for stream in (logfile, terminal):
        handler = logging.StreamHandler(stream)
        handler.setFormatter(logging.Formatter(FORMAT))
        root.addHandler(handler)
    if "SLURM_JOB_ID" in os.environ:
        root.info("%s", slurm_job_line())
    try:
        yield root
    except BaseException as exc:
        root.error("%s: %s", type(exc).__name__, exc)
        raise
    finally:
        sys.stdout.flush()
        sys.stderr.flush()
        os.dup2(saved_out, 1)
        os.dup2(saved_err, 2)
        os.close(saved_out)
        os.close(saved_err)
        for h in list(root.handlers):
            root.removeHandler(h)
        terminal.close()
        logfile.close()
