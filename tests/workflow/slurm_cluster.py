"""A throw-away single-node Slurm cluster on loopback, for the Slurm workflow test.

Starts munged, slurmctld and slurmd as root with state in a temporary
directory, declares one GPU gres (backed by /dev/null as a stand-in device
file) and two partitions (cpu, gpu); ``stop()`` kills the daemons by
process id and puts back whatever /etc/slurm held before.
Needs Debian's slurm-wlm and munge (installed by ``ensure_installed``).
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import time
from pathlib import Path

DAEMONS = ("slurmctld", "slurmd", "munged", "sbatch", "squeue")


def ensure_installed() -> str | None:
    """Install slurm-wlm and munge with apt-get when missing; a reason string if impossible."""
    if all(shutil.which(d) for d in DAEMONS):
        return None
    if os.geteuid() != 0 or not shutil.which("apt-get"):
        return "slurm-wlm/munge missing and cannot be installed (needs root and apt-get)"
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    for cmd in (
        ["apt-get", "update", "-qq"],
        ["apt-get", "install", "-y", "-qq", "slurm-wlm", "munge"],
    ):
        proc = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=600)
        if proc.returncode != 0:
            return f"{' '.join(cmd)} failed: {proc.stderr[-500:]}"
    return (
        None
        if all(shutil.which(d) for d in DAEMONS)
        else "slurm binaries still missing after install"
    )


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class SlurmCluster:
    def __init__(self, root: Path):
        self.root = root
        # the default path: Snakemake's Slurm plugin strips SLURM_* variables (SLURM_CONF too)
        # from the job environment, so srun inside a job only finds the config here
        self.conf = Path("/etc/slurm/slurm.conf")
        self._saved: dict[Path, bytes | None] = {}
        self.pids: dict[str, int] = {}
        self.env = {**os.environ, "SLURM_CONF": str(self.conf)}

    def _write_config(self) -> None:
        r = self.root
        self.conf.parent.mkdir(parents=True, exist_ok=True)
        for f in (self.conf, self.conf.with_name("gres.conf")):
            self._saved[f] = f.read_bytes() if f.exists() else None
        for d in ("state", "spool", "log", "munge"):
            (r / d).mkdir(parents=True, exist_ok=True)
        host = socket.gethostname()
        self.conf.write_text(
            f"""ClusterName=phenoflow
SlurmctldHost={host}(127.0.0.1)
SlurmctldPort={_free_port()}
SlurmdPort={_free_port()}
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
AuthInfo=socket={r}/munge/munge.socket
CredType=cred/munge
StateSaveLocation={r}/state
SlurmdSpoolDir={r}/spool
SlurmctldPidFile={r}/slurmctld.pid
SlurmdPidFile={r}/slurmd.pid
SlurmctldLogFile={r}/log/slurmctld.log
SlurmdLogFile={r}/log/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
MpiDefault=none
ReturnToService=2
SchedulerType=sched/backfill
SelectType=select/cons_tres
SelectTypeParameters=CR_CPU
AccountingStorageType=accounting_storage/none
JobAcctGatherType=jobacct_gather/none
JobCompType=jobcomp/none
GresTypes=gpu
InactiveLimit=0
KillWait=5
MinJobAge=300
SlurmctldTimeout=30
SlurmdTimeout=30
# the node advertises what the profile's GPU rules ask for (8 CPUs, 32 GB), more than
# the host may have; config_overrides keeps slurmd from draining it for that
SlurmdParameters=config_overrides
NodeName={host} NodeAddr=127.0.0.1 CPUs=16 RealMemory=64000 Gres=gpu:1 State=UNKNOWN
PartitionName=cpu Nodes={host} Default=YES MaxTime=INFINITE State=UP
PartitionName=gpu Nodes={host} MaxTime=INFINITE State=UP
"""
        )
        # a stand-in device file: Slurm counts GPUs by their device files
        self.conf.with_name("gres.conf").write_text(f"NodeName={host} Name=gpu File=/dev/null\n")

    def start(self, timeout: float = 60.0) -> None:
        self._write_config()
        r = self.root
        key = r / "munge" / "munge.key"
        key.write_bytes(os.urandom(1024))
        key.chmod(0o400)
        subprocess.run(
            ["munged", "--force", f"--key-file={key}", f"--socket={r}/munge/munge.socket",
             f"--pid-file={r}/munge/munged.pid", f"--log-file={r}/munge/munged.log", f"--seed-file={r}/munge/seed"],
            check=True, capture_output=True, text=True, timeout=30,
        )  # fmt: skip
        self.pids["munged"] = self._read_pid(r / "munge" / "munged.pid", timeout)
        for daemon in ("slurmctld", "slurmd"):  # each daemonises and writes its pid file
            subprocess.run(
                [daemon, "-f", str(self.conf)],
                check=True,
                env=self.env,
                capture_output=True,
                timeout=30,
            )
            self.pids[daemon] = self._read_pid(r / f"{daemon}.pid", timeout)
        deadline = time.time() + timeout
        while time.time() < deadline:
            out = subprocess.run(
                ["sinfo", "-h", "-o", "%T"], env=self.env, capture_output=True, text=True
            ).stdout
            if "idle" in out:
                return
            time.sleep(0.5)
        raise RuntimeError(f"slurm node never became idle; sinfo: {out!r}; see {r}/log")

    @staticmethod
    def _read_pid(path: Path, timeout: float) -> int:
        deadline = time.time() + timeout
        while time.time() < deadline:
            if path.exists() and path.read_text().strip():
                return int(path.read_text().split()[0])
            time.sleep(0.1)
        raise RuntimeError(f"no pid file {path}")

    def stop(self) -> None:
        for name in ("slurmd", "slurmctld", "munged"):
            pid = self.pids.pop(name, None)
            if pid is None:
                continue
            try:
                os.kill(pid, signal.SIGTERM)
            except ProcessLookupError:
                continue
            for _ in range(100):
                try:
                    os.kill(pid, 0)
                except ProcessLookupError:
                    break
                time.sleep(0.1)
            else:
                os.kill(pid, signal.SIGKILL)
        for f, old in self._saved.items():  # put back whatever config was there before
            if old is None:
                f.unlink(missing_ok=True)
            else:
                f.write_bytes(old)
        self._saved.clear()
