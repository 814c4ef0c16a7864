"""The tiny workflow through a real one-node Slurm cluster and profiles/slurm.

The module fixture installs slurm-wlm and munge when missing (root and
apt-get needed; otherwise every test here is skipped and pytest -ra says
why), starts munged, slurmctld and slurmd on loopback, and stops the daemons
by process id.  It reuses the local run of config/test.yaml that the ``tiny``
fixture makes once per pytest run: a copy of that run has the outputs of one
job of every rule removed (REGENERATED), and Snakemake rebuilds them, and what depends on
them, with ``--workflow-profile profiles/slurm`` while one running generation
job is cancelled with ``scancel`` (the profile's ``retries`` must resubmit
it).  Every rule but ``import_root`` runs, the rest of the DAG is not
repeated, and every output is compared with the local run's.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from phenoflow.compare import compare_results, output_files
from tests.workflow.helpers import ROOT, TEST, copy_workflow, env, planned_jobs, smk
from tests.workflow.slurm_cluster import SlurmCluster, ensure_installed

pytestmark = [pytest.mark.workflow, pytest.mark.slurm]

# the Snakefile's `localrules:` block
LOCALRULES = set(
    re.findall(r"^\s+(\w+),$", (ROOT / "Snakefile").read_text().split("localrules:", 1)[1], re.M)
)
GPU_RULES = {
    "train_event_variable",
    "train_tagger",
    "evaluate_taggers",
    "train_multimodal",
    "train_multiscale",
    "evaluate_multiscale",
}
# removed from the copy of the local run: one job of every rule (and what depends on it)
# runs again, through Slurm; the targets below bound the rerun to what covers every rule
REGENERATED = (
    "results/events/zmumu_ee/shard0.parquet",
    "results/jets/qcd_dijet/shard0.parquet",
    "results/tagging/top_tagging/checkpoints",
    "results/eventvars/models/two_body.pt",
    "results/scan/cosine_2d_5_7/study.json",
    "results/scan/smote/study.json",
    "results/scan/zprime/study.json",
    "results/integration/drell_yan/ladder.json",
    "results/integration/drell_yan/pulls.json",
    "results/integration/drell_yan/check.json",
    "results/integration/figures/strata_fine_tuning_2d.png",
    "results/lhe/s8_bb/shard0.lhe",
    "results/multimodal/higgs/dataset/card.json",
    "results/multimodal/higgs/checkpoints",
    "results/multiscale/dataset/card.json",
    "results/multiscale/checkpoints",
)
# the removed files themselves (Snakemake does not look behind an existing output for a
# missing input), and what stands on them
TARGETS = (
    *(p for p in REGENERATED if p.rsplit("/", 1)[-1] != "checkpoints"),
    "results/events/zmumu_ee/shard0.root",
    "results/events/figures/zmumu_ee_validation.png",
    "results/summary.md",
)


@dataclass
class SlurmRun:
    workdir: Path
    proc: subprocess.CompletedProcess
    wall_s: float
    cancelled: list[str] = field(default_factory=list)

    @property
    def text(self) -> str:
        return self.proc.stdout + self.proc.stderr


def _cancel_one_running(cluster: SlurmCluster, rule: str, done: threading.Event, out: list):
    """scancel the first job of ``rule`` seen RUNNING (the scheduler kills it)."""
    while not done.is_set() and not out:
        q = subprocess.run(
            ["squeue", "-h", "-t", "RUNNING", "-o", "%i %k"],
            env=cluster.env,
            capture_output=True,
            text=True,
        ).stdout
        for line in q.splitlines():
            jobid, _, comment = line.partition(" ")
            if comment.startswith(f"rule_{rule}_"):
                subprocess.run(["scancel", jobid], env=cluster.env, check=True)
                out.append(jobid)
                return
        time.sleep(0.2)


def _copy_of_local_run(tiny: Path, dst: Path) -> Path:
    """The local run's workdir (outputs, Snakemake's metadata) minus REGENERATED."""
    wd = copy_workflow(dst)
    for name in ("results", ".snakemake"):
        shutil.copytree(
            tiny / name, wd / name, symlinks=True, ignore=shutil.ignore_patterns("slurm_logs")
        )
    for rel in REGENERATED:
        path = wd / rel
        if path.is_dir():
            shutil.rmtree(path)
        else:
            path.unlink()
    return wd


@pytest.fixture(scope="module")
def slurm_run(tmp_path_factory, tiny):
    reason = ensure_installed()
    if reason:
        pytest.skip(f"Slurm test skipped: {reason}")
    cluster = SlurmCluster(tmp_path_factory.mktemp("slurm"))
    cluster.start()
    try:
        wd = _copy_of_local_run(tiny, tmp_path_factory.mktemp("slurmwf") / "wf")
        cmd = [
            sys.executable, "-m", "snakemake", "--workflow-profile", "profiles/slurm", *TEST,
            # the test cluster has no Slurm accounting: poll with squeue, not sacct
            "--slurm-status-command", "squeue",
            "--default-resources", "slurm_account=test",
            "--slurm-keep-successful-logs",
            "--slurm-init-seconds-before-status-checks", "1",
            "--seconds-between-status-checks", "2",
            "--latency-wait", "5", "--jobs", "6", "--verbose",
            # the events -> jets -> dataset -> taggers chain is the longest path of the
            # DAG: start it first so that the toy stages fill the gaps, not the queue
            "--prioritize", "results/tagging/top_tagging/metrics.json",
            *TARGETS,
        ]  # fmt: skip
        done, cancelled = threading.Event(), []
        killer = threading.Thread(
            target=_cancel_one_running, args=(cluster, "generate_events", done, cancelled)
        )
        killer.start()
        t0 = time.perf_counter()
        try:
            proc = subprocess.run(
                cmd, cwd=wd, env={**env(), **cluster.env}, capture_output=True, text=True,
                timeout=600,
            )  # fmt: skip
        finally:
            done.set()
            killer.join()
        run = SlurmRun(wd, proc, time.perf_counter() - t0, cancelled)
        print(f"one job of every rule of the tiny workflow through Slurm: {run.wall_s:.0f} s")
        yield run
    finally:
        cluster.stop()


def _jobs(text: str) -> list[dict]:
    """Rule, local flag, log files and Snakemake job id of every job in a (verbose) run log."""
    jobs, cur = [], None
    for line in text.splitlines():
        m = re.match(r"^(local)?rule (\w+):$", line.strip())
        if m:
            cur = {"rule": m.group(2), "local": bool(m.group(1)), "log": [], "jobid": None}
            jobs.append(cur)
        elif cur is not None and line.strip().startswith("log: "):
            cur["log"] = [p.strip() for p in line.strip()[5:].split(",")]
        elif cur is not None and line.strip().startswith("jobid: "):
            cur["jobid"] = int(line.strip()[7:])
            cur = None
    return jobs


def _submitted(text: str) -> dict[int, list[str]]:
    out: dict[int, list[str]] = {}
    for job, sid in re.findall(r"Job (\d+) has been submitted with SLURM jobid (\d+)", text):
        out.setdefault(int(job), []).append(sid)
    return out


def test_workflow_completes_through_slurm(slurm_run):
    assert slurm_run.proc.returncode == 0, slurm_run.text[-5000:]
    assert "steps (100%) done" in slurm_run.text


def test_every_job_ran_as_a_slurm_job(slurm_run):
    jobs = [j for j in _jobs(slurm_run.text) if j["jobid"] is not None]
    submitted = _submitted(slurm_run.text)
    remote = [j for j in jobs if not j["local"]]
    assert {j["rule"] for j in remote} >= {"generate_events", "cluster_jets", "train_tagger"}
    for job in remote:
        ids = submitted.get(job["jobid"])
        assert ids, f"{job['rule']} (job {job['jobid']}) was never submitted to Slurm"
        for log in job["log"]:
            text = (slurm_run.workdir / log).read_text()
            found = re.findall(r"slurm job (\d+) on node", text)
            assert found, f"{log} has no Slurm job id"
            assert found[-1] in ids, f"{log}: job id {found[-1]} not among submitted {ids}"
            # the scheduler's own log of that job exists too
            assert list((slurm_run.workdir / ".snakemake/slurm_logs").rglob(f"{found[-1]}.log"))
    # local rules (gathering metrics) stay on the submit host, as the Snakefile says
    assert {j["rule"] for j in jobs if j["local"]} <= LOCALRULES | {"all"}


def test_every_rule_of_the_config_ran(slurm_run):
    # all that the config reaches: every rule but import_root (its own test, in test_bad_input)
    planned = planned_jobs(smk(slurm_run.workdir, *TEST, "-n", "--forceall"))
    ran = {j["rule"] for j in _jobs(slurm_run.text) if j["jobid"] is not None}
    assert set(planned) - {"all"} <= ran, f"never ran: {set(planned) - ran}"
    smk_files = (ROOT / "rules").glob("*.smk")
    rules = {r for p in smk_files for r in re.findall(r"^rule (\w+):", p.read_text(), re.M)}
    assert rules - ran == {"import_root"}


def test_training_jobs_were_given_a_gpu(slurm_run):
    seen = set()
    for job in _jobs(slurm_run.text):
        if job["rule"] in GPU_RULES and job["jobid"] is not None:
            for log in job["log"]:
                text = (slurm_run.workdir / log).read_text()
                assert re.search(r"partition gpu, gpus \d", text), f"{log}: no GPU allocation"
                seen.add(job["rule"])
    assert seen == GPU_RULES
    assert re.search(r"sbatch call: .*-p gpu .*--gpus=1", slurm_run.text)


def test_job_killed_by_the_scheduler_is_retried(slurm_run):
    assert slurm_run.cancelled, "no running generation job was seen to cancel"
    sid = slurm_run.cancelled[0]
    text = slurm_run.text
    assert re.search(rf"Error in rule generate_events:.*?external_jobid: {sid}", text, re.S), (
        f"cancelled Slurm job {sid} not reported as failed"
    )
    job = next(
        int(j)
        for j, s in re.findall(r"Job (\d+) has been submitted with SLURM jobid (\d+)", text)
        if s == sid
    )
    assert len(_submitted(text)[job]) >= 2, f"job {job} (Slurm {sid}) was not resubmitted"


def test_outputs_identical_to_local_run(slurm_run, tiny):
    # Parquet, NumPy, models and figures byte for byte, ROOT by content, JSON apart
    # from timings (phenoflow.compare); the regenerated files are the ones that matter
    regenerated = [slurm_run.workdir / rel for rel in REGENERATED]
    assert all(p.exists() for p in regenerated), "a removed output was not rebuilt"
    assert len(output_files(tiny / "results")) > 50
    assert compare_results(tiny / "results", slurm_run.workdir / "results") == []
