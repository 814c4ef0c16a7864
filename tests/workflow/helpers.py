"""Run Snakemake on a private copy of the workflow."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[2]
IGNORE = shutil.ignore_patterns(
    ".venv",
    ".git",
    "results",
    ".snakemake",
    "__pycache__",
    "tests",
    ".pytest_cache",
    "*.egg-info",
    ".ruff_cache",
)

TEST = ("--configfile", "config/test.yaml")


def copy_workflow(dst: Path) -> Path:
    shutil.copytree(ROOT, dst, ignore=IGNORE)
    return dst


def env() -> dict[str, str]:
    e = dict(os.environ)
    e["PATH"] = str(Path(sys.executable).parent) + os.pathsep + e.get("PATH", "")
    return e


def smk(
    workdir: Path, *args: str, check: bool = True, cores: int = 2, timeout: int = 600
) -> subprocess.CompletedProcess:
    cmd = [sys.executable, "-m", "snakemake", "--cores", str(cores), *args]
    proc = subprocess.run(
        cmd, cwd=workdir, env=env(), capture_output=True, text=True, timeout=timeout
    )
    if check and proc.returncode != 0:
        raise AssertionError(
            f"{' '.join(cmd)} failed ({proc.returncode}):\n{proc.stdout}\n{proc.stderr}"
        )
    return proc


def planned_jobs(proc: subprocess.CompletedProcess) -> dict[str, int]:
    """Rule -> job count from a dry run's 'Job stats' table ({} if nothing to do)."""
    text = proc.stdout + proc.stderr
    if "Nothing to be done" in text:
        return {}
    table = text.split("Job stats:", 1)[1]
    jobs = {}
    for line in table.splitlines()[3:]:
        m = re.match(r"^(\w+)\s+(\d+)$", line.strip())
        if not m:
            break
        if m.group(1) != "total":
            jobs[m.group(1)] = int(m.group(2))
    return jobs


def write_override(workdir: Path, name: str, content: dict) -> str:
    path = workdir / "config" / name
    path.write_text(yaml.safe_dump(content))
    return f"config/{name}"
