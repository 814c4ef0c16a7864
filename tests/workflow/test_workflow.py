"""The workflow end to end on config/test.yaml: lint, dry runs, reruns, resume, reproducibility."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time

import awkward as ak
import numpy as np
import pyarrow.parquet as pq
import pytest
import uproot

from phenoflow.io.parquet import read_events, read_metadata
from tests.workflow.helpers import TEST, copy_workflow, env, planned_jobs, smk, write_override

pytestmark = pytest.mark.workflow

SHARDS = ["ttbar_had/shard0", "ttbar_had/shard1", "qcd_dijet/shard0", "zmumu_ee/shard0"]
JETS = ["ttbar_had/shard0", "ttbar_had/shard1", "qcd_dijet/shard0"]


def clone(src, dst):
    # copy2 keeps mtimes, so Snakemake sees the copy as up to date
    shutil.copytree(src, dst, symlinks=True)
    return dst


def mtimes(wd, pattern):
    return {p.relative_to(wd): p.stat().st_mtime_ns for p in sorted(wd.glob(pattern))}


def test_lint(tmp_path):
    wd = copy_workflow(tmp_path / "wf")
    proc = smk(wd, "--lint", cores=1)
    assert "Congratulations" in proc.stdout + proc.stderr


@pytest.mark.parametrize(("configfile", "n_generate"), [(None, 33), ("config/paper.yaml", 1210)])
def test_dry_run(tmp_path, configfile, n_generate):
    wd = copy_workflow(tmp_path / "wf")
    args = ["-n"] + (["--configfile", configfile] if configfile else [])
    jobs = planned_jobs(smk(wd, *args))
    assert jobs["generate_events"] == n_generate
    assert jobs["convert_to_root"] == n_generate
    assert jobs["validate_events"] == 14
    assert jobs["multiscale_dataset"] == 1
    assert jobs["train_multiscale"] == 5  # and the boosted trees:
    assert jobs["train_multiscale_bdt"] == 1
    assert jobs["write_lhe"] == {None: 4, "config/paper.yaml": 40}[configfile]
    assert jobs["multimodal_dataset"] == 4
    # 8 models on 4 tasks, and the lambda scan (3 lambdas x 3 halves) per scanned task
    assert jobs["train_multimodal"] == {None: 32 + 9, "config/paper.yaml": 32 + 27}[configfile]
    assert jobs["cluster_jets"] == {None: 8, "config/paper.yaml": 800}[configfile]
    assert jobs["make_dataset"] == 1
    assert jobs["train_event_variable"] == 3
    assert jobs["make_summary"] == 1
    assert jobs["scan_function"] == 3
    assert jobs["scan_smote_study"] == 1
    assert jobs["scan_zprime"] == 1
    assert jobs["integrate_ladder"] == 3
    assert jobs["check_drell_yan"] == 1


def test_tiny_outputs(tiny):
    for shard in SHARDS:
        assert (tiny / f"results/events/{shard}.parquet").is_file()
        assert (tiny / f"results/events/{shard}.root").is_file()
        assert (tiny / f"results/logs/events/{shard}.parquet.log").is_file()
        assert (tiny / f"results/benchmarks/events/{shard}.parquet.tsv").is_file()
    assert len(read_events(tiny / "results/events/ttbar_had/shard1.parquet")) == 20
    meta = read_metadata(tiny / "results/events/ttbar_had/shard1.parquet")
    assert meta["shard"] == 1
    assert meta["n_events"] == 20
    assert len(meta["config_hash"]) == 16
    metrics = json.loads((tiny / "results/events/metrics.json").read_text())["metrics"]
    assert metrics["sigma_zmumu_ee"]["unit"] == "pb"
    assert metrics["n_events_ttbar_had"]["value"] == 40
    summary = (tiny / "results/summary.md").read_text()
    assert "sigma_ttbar_had" in summary
    assert "sigma_zmumu_ee" in summary
    assert (tiny / "results/events/figures/ttbar_had_validation.png").stat().st_size > 10_000
    log = (tiny / "results/logs/events/ttbar_had/shard0.parquet.log").read_text()
    assert "20/20 events" in log


def test_second_run_has_nothing_to_do(tiny):
    assert planned_jobs(smk(tiny, *TEST, "-n")) == {}


def test_downstream_param_change_reruns_only_downstream(tiny, tmp_path):
    wd = clone(tiny, tmp_path / "wf")
    before = mtimes(wd, "results/events/*/shard*.*")
    extra = write_override(wd, "bins.yaml", {"validation": {"bins": 7}})
    args = (*TEST, extra)
    assert planned_jobs(smk(wd, *args, "-n")) == {
        "validate_events": 11,
        "summarize_events": 1,
        "make_summary": 1,
        "all": 1,
    }
    smk(wd, *args)
    assert mtimes(wd, "results/events/*/shard*.*") == before
    stats = json.loads((wd / "results/events/zmumu_ee/stats.json").read_text())
    assert len(stats["multiplicity"]["counts"]) == 7


def test_lib_change_reruns_only_its_stage(tiny, tmp_path):
    wd = clone(tiny, tmp_path / "wf")
    plot = wd / "lib/phenoflow/plotting/events.py"
    plot.write_text(plot.read_text() + "\n# a change in the plotting code\n")
    jobs = planned_jobs(smk(wd, *TEST, "-n"))
    assert jobs == {"validate_events": 11, "summarize_events": 1, "make_summary": 1, "all": 1}


def test_n_events_change_reruns_generation(tiny, tmp_path):
    wd = clone(tiny, tmp_path / "wf")
    extra = write_override(wd, "more.yaml", {"processes": {"zmumu_ee": {"events_per_shard": 30}}})
    jobs = planned_jobs(smk(wd, *TEST, extra, "-n"))
    # only the Z shard and what depends on it
    assert jobs == {
        "generate_events": 1,
        "convert_to_root": 1,
        "validate_events": 1,
        "summarize_events": 1,
        "make_summary": 1,
        "all": 1,
    }
    smk(wd, *TEST, extra)
    assert len(read_events(wd / "results/events/zmumu_ee/shard0.parquet")) == 30


# what the second run of test_same_config_gives_identical_outputs builds: the data
# products it compares (the Slurm test compares every output, models included, byte for byte)
COMPARED = [
    *(f"results/events/{s}.{ext}" for s in SHARDS for ext in ("parquet", "root")),
    *(f"results/jets/{s}.parquet" for s in JETS),
    "results/datasets/top_tagging/card.json",
    "results/integration/drell_yan/check.json",
    "results/scan/cosine_2d_5_7/points.parquet",
    "results/events/metrics.json",
    "results/jets/metrics.json",
    "results/multimodal/higgs/dataset/card.json",
]


def test_same_config_gives_identical_outputs(tiny, tmp_path):
    wd = copy_workflow(tmp_path / "wf")
    smk(wd, *TEST, "--", *COMPARED)
    for shard in SHARDS:
        a = (tiny / f"results/events/{shard}.parquet").read_bytes()
        b = (wd / f"results/events/{shard}.parquet").read_bytes()
        assert a == b, f"{shard}.parquet differs between two runs"
        with (
            uproot.open(tiny / f"results/events/{shard}.root") as fa,
            uproot.open(wd / f"results/events/{shard}.root") as fb,
        ):
            assert ak.to_list(fa["events"].arrays()) == ak.to_list(fb["events"].arrays())
            assert str(fa["phenoflow_metadata"]) == str(fb["phenoflow_metadata"])
    for shard in JETS:
        a = (tiny / f"results/jets/{shard}.parquet").read_bytes()
        assert a == (wd / f"results/jets/{shard}.parquet").read_bytes(), f"jets {shard} differ"
    for name in ("train/features.npy", "test/images.npy", "card.json"):
        a = (tiny / "results/datasets/top_tagging" / name).read_bytes()
        assert a == (wd / "results/datasets/top_tagging" / name).read_bytes(), (
            f"dataset {name} differs"
        )
    # (results/summary.md also holds training wall times, which differ between runs)
    for name in ("events.parquet", "events_zoomed.parquet"):
        a = (tiny / "results/integration/drell_yan" / name).read_bytes()
        assert a == (wd / "results/integration/drell_yan" / name).read_bytes(), name
    a = (tiny / "results/scan/cosine_2d_5_7/points.parquet").read_bytes()
    assert a == (wd / "results/scan/cosine_2d_5_7/points.parquet").read_bytes(), "scan differs"
    for name in ("results/events/metrics.json", "results/jets/metrics.json"):
        assert (tiny / name).read_text() == (wd / name).read_text()
    for name in ("train/kinematics.npy", "test/image_riemann.npy", "card.json"):
        a = (tiny / "results/multimodal/higgs/dataset" / name).read_bytes()
        assert a == (wd / "results/multimodal/higgs/dataset" / name).read_bytes(), name


def test_killed_run_resumes_without_regenerating(tmp_path):
    wd = copy_workflow(tmp_path / "wf")
    extra = write_override(
        wd,
        "slow.yaml",
        {
            "run": {"processes": ["ttbar_had"]},
            "processes": {"ttbar_had": {"shards": 4, "events_per_shard": 120}},
            "eventvars": {"topologies": []},
            "scan": {"objectives": [], "smote": {"seeds": []}},
            "integration": {"integrands": []},
        },
    )
    cmd = [sys.executable, "-m", "snakemake", "--cores", "1", *TEST, extra]
    proc = subprocess.Popen(
        cmd,
        cwd=wd,
        env=env(),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    shards = wd / "results/events/ttbar_had"
    deadline = time.time() + 300
    while len(list(shards.glob("shard*.parquet"))) < 2:
        assert proc.poll() is None, "the run ended before it could be killed"
        assert time.time() < deadline
        time.sleep(0.05)
    killed_at = time.time_ns()
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
    done = {
        p: t
        for p, t in mtimes(wd, "results/events/ttbar_had/shard*.parquet").items()
        if t < killed_at - 500_000_000
    }
    assert done, "no shard had finished before the kill"
    assert len(list(shards.glob("shard*.parquet"))) < 4
    # a SIGKILL leaves Snakemake's lock behind: unlock, then rerun (README, "resume")
    smk(wd, *TEST, extra, "--unlock")
    smk(wd, *TEST, extra)
    after = mtimes(wd, "results/events/ttbar_had/shard*.parquet")
    assert len(after) == 4
    for path, t in done.items():
        assert after[path] == t, f"{path} was regenerated after the resume"
    assert not list(shards.glob("*.tmp"))


def test_tiny_jets_and_dataset(tiny):
    card = json.loads((tiny / "results/datasets/top_tagging/card.json").read_text())
    n_jets = {p: card["processes"][p]["n_jets"] for p in ("ttbar_had", "qcd_dijet")}
    assert sum(s["n_jets"] for s in card["splits"].values()) == sum(n_jets.values())
    train = np.load(tiny / "results/datasets/top_tagging/train/features.npy")
    assert train.shape[1:] == (128, 13)
    assert np.load(tiny / "results/datasets/top_tagging/train/images.npy").shape[1:] == (1, 40, 40)
    metrics = json.loads((tiny / "results/jets/metrics.json").read_text())["metrics"]
    assert "sd_mass_peak_top" in metrics
    assert "| ttbar_had |" in (tiny / "results/jets/efficiencies.md").read_text()
    for fig in ("distributions", "mean_images"):
        assert (tiny / f"results/jets/figures/{fig}.png").stat().st_size > 10_000
    assert "## Jets" in (tiny / "results/summary.md").read_text()


def test_jets_param_change_reruns_only_jets(tiny, tmp_path):
    wd = clone(tiny, tmp_path / "wf")
    extra = write_override(wd, "img.yaml", {"jets": {"image": {"size": 20}}})
    # the jets, and everything trained on them, but no generation or event-variable job
    assert planned_jobs(smk(wd, *TEST, extra, "-n")) == {
        "cluster_jets": 3,
        "summarize_jets": 1,
        "make_dataset": 1,
        "train_tagger": 3,
        "train_bdt": 1,
        "evaluate_taggers": 1,
        "make_summary": 1,
        "all": 1,
    }


def test_tiny_eventvars(tiny):
    ev = json.loads((tiny / "results/eventvars/two_body/evaluation.json").read_text())
    assert ev["reference"] == "m_bc"
    assert 0 < ev["kendall_tau"] <= 1
    assert (tiny / "results/eventvars/models/two_body.pt").stat().st_size > 10_000
    assert (tiny / "results/eventvars/figures/two_body.png").stat().st_size > 10_000
    metrics = json.loads((tiny / "results/eventvars/metrics.json").read_text())["metrics"]
    assert {"kendall_tau_two_body", "training_time_two_body", "training_rate_two_body"} <= set(
        metrics
    )


def test_tiny_tagging(tiny):
    base = tiny / "results/tagging/top_tagging"
    metrics = json.loads((base / "metrics.json").read_text())["metrics"]
    for key in ("mixer_ca", "part", "deepsets", "bdt"):
        assert 0 <= metrics[f"auc_{key}"]["value"] <= 1
    assert metrics["parameters_mixer_ca"]["value"] == 85_825
    assert "inference_mixer_ca_cpu_batch1024" in metrics
    assert (base / "figures/roc.png").stat().st_size > 10_000
    assert "| mixer_ca |" in (base / "table.md").read_text()
    # checkpoints stay beside the models, so a killed training resumes
    assert (base / "checkpoints/mixer_ca_seed0.ckpt").is_file()


def test_tiny_scan(tiny):
    table = pq.read_table(tiny / "results/scan/cosine_2d_5_7/points.parquet")
    assert {"method", "x0", "x1", "value", "in_target", "iteration", "origin"} <= set(
        table.column_names
    )
    methods = table.column("method").to_numpy(zero_copy_only=False)
    # every method on the same budget, never more
    for method in ("ml_regressor", "random", "mcmc"):
        assert 0 < np.count_nonzero(methods == method) <= 1500
    metrics = json.loads((tiny / "results/scan/metrics.json").read_text())["metrics"]
    assert metrics["cosine_2d_5_7_ml_regressor_cells_found"]["value"] >= 1
    assert "smote_seeds_fewer_calls" in metrics
    for fig in ("cosine_2d_5_7", "smote"):
        assert (tiny / f"results/scan/figures/{fig}.png").stat().st_size > 10_000
    assert "MLscanner" in (tiny / "results/summary.md").read_text()


def test_tiny_integration(tiny):
    base = tiny / "results/integration"
    ladder = json.loads((base / "fine_tuning_2d/ladder.json").read_text())
    assert {r["method"] for r in ladder["rows"]} == {"lestrat", "vegas", "plain"}
    assert all(r["n_calls"] <= r["n_calls_budget"] for r in ladder["rows"])
    pulls = json.loads((base / "drell_yan/pulls.json").read_text())
    assert len(pulls["lestrat"]["pulls"]) == 2
    check = json.loads((base / "drell_yan/check.json").read_text())
    assert check["pythia"][0]["window_gev"] == [60.0, 120.0]
    assert 0 < check["with_cuts"]["lestrat"]["unweighting_efficiency"] <= 1
    events = pq.read_table(base / "drell_yan/events.parquet")
    assert events.column_names == ["m", "y", "cos_theta", "weight"]
    assert events.num_rows == 2000
    metrics = json.loads((base / "metrics.json").read_text())["metrics"]
    assert "fine_tuning_2d_lestrat_estimate" in metrics
    assert "drell_yan_vs_pythia_60_120" in metrics
    for fig in ("comparison", "strata_fine_tuning_2d", "drell_yan"):
        assert (base / f"figures/{fig}.png").stat().st_size > 10_000
    assert "| lestrat |" in (base / "table.md").read_text()


def test_tiny_multimodal(tiny):
    base = tiny / "results/multimodal"
    card = json.loads((base / "higgs/dataset/card.json").read_text())
    assert card["processes"]["h_bb"]["label"] == 1
    assert card["processes"]["qcd_bb"]["cut_flow"]["events"] == 2000
    for split in ("train", "val", "test"):
        assert min(card["splits"][split].values()) > 0, card["splits"]
        images = np.load(base / f"higgs/dataset/{split}/image_riemann.npy")
        assert images.shape[1:] == (16, 16)
    metrics = json.loads((base / "metrics.json").read_text())["metrics"]
    for key in ("kinematics", "image_plain", "image_riemann", "attention", "attention_l2image"):
        assert 0 <= metrics[f"auc_higgs_{key}"]["value"] <= 1
    share = metrics["attention_image_share_higgs_attention_signal"]["value"]
    assert 0 <= share <= 1
    for fig in ("roc", "auc_vs_lambda", "attention_shares", "mean_images", "auc_vs_pt_bb"):
        assert (base / f"figures/{fig}.png").stat().st_size > 10_000
    assert "| attention_l2image |" in (base / "table.md").read_text()
    # one checkpoint per model and seed stays beside the models
    assert (base / "higgs/checkpoints/attention_seed1.ckpt").is_file()
    # the LHE path: s8_bb is showered from its own Les Houches file
    assert (tiny / "results/lhe/s8_bb/shard0.lhe").is_file()
    assert len(read_events(tiny / "results/events/s8_bb/shard0.parquet")) == 60


def test_tiny_multiscale(tiny):
    base = tiny / "results/multiscale"
    card = json.loads((base / "dataset/card.json").read_text())
    assert set(card["processes"]) == {
        "hh4b_m700", "hh4b_m1000", "hh4b_m1500", "qcd_fatjets", "ttbar_fatjets"
    }  # fmt: skip
    assert card["processes"]["hh4b_m1000"]["cut_flow"]["events"] == 80
    train = np.load(base / "dataset/train/jet1_features.npy")
    assert train.shape[1:] == (8, 13)
    masses = set(np.load(base / "dataset/train/mass.npy").tolist())
    assert masses <= {700.0, 1000.0, 1500.0}
    metrics = json.loads((base / "metrics.json").read_text())["metrics"]
    for key in ("multiscale", "concat", "part", "kinematics_mlp", "bdt", "multiscale_param"):
        assert 0 <= metrics[f"auc_{key}"]["value"] <= 1
    assert "cut_based_eff_s" in metrics
    for fig in ("roc", "rejection", "cross_attention", "inputs"):
        assert (base / f"figures/{fig}.png").stat().st_size > 10_000
    assert "| multiscale |" in (base / "table.md").read_text()
    assert (base / "checkpoints/multiscale_seed0.ckpt").is_file()
