"""Job logs: everything lands in the rule's log file; Slurm jobs say where they ran."""

from __future__ import annotations

import logging

from phenoflow.logutil import job_logging, slurm_job_line


def test_slurm_job_line_names_job_partition_and_gpus():
    env = {
        "SLURM_JOB_ID": "42",
        "SLURMD_NODENAME": "gpu07",
        "SLURM_JOB_PARTITION": "gpu",
        "SLURM_JOB_GPUS": "0",
    }
    assert slurm_job_line(env) == "slurm job 42 on node gpu07, partition gpu, gpus 0"
    assert slurm_job_line({"SLURM_JOB_ID": "7"}).endswith("gpus none")


def test_job_log_records_the_slurm_job(tmp_path, monkeypatch):
    monkeypatch.setenv("SLURM_JOB_ID", "1234")
    monkeypatch.setenv("SLURM_JOB_PARTITION", "cpu")
    log = tmp_path / "logs" / "job.log"
    with job_logging(log):
        logging.getLogger("phenoflow.test").info("hello")
    text = log.read_text()
    assert "slurm job 1234 on node" in text
    assert "partition cpu, gpus none" in text
    assert text.index("slurm job") < text.index("hello")


def test_job_log_without_slurm_has_no_slurm_line(tmp_path, monkeypatch):
    monkeypatch.delenv("SLURM_JOB_ID", raising=False)
    log = tmp_path / "job.log"
    with job_logging(log):
        logging.getLogger("phenoflow.test").info("hello")
    assert "slurm job" not in log.read_text()
