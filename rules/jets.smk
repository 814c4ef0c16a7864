# Jets stage: fat jets, subjets, features, substructure and images per shard;
# figures and metrics of all jets.


rule cluster_jets:
    input:
        events="results/events/{process}/shard{shard}.parquet",
    output:
        jets="results/jets/{process}/shard{shard}.parquet",
    log:
        "results/logs/jets/{process}/shard{shard}.log",
    benchmark:
        "results/benchmarks/jets/{process}/shard{shard}.tsv"
    wildcard_constraints:
        process=_alternatives(JET_PROCESSES),
    params:
        spec=get_cluster_spec,
        code=adapter_hash("cluster_jets"),
    conda:
        "../envs/phenoflow.yaml"
    threads: 1
    resources:
        mem_mb=4000,
        runtime=120,
    script:
        "../workflow_scripts/cluster_jets.py"


rule summarize_jets:
    input:
        jets=get_all_jet_files,
    output:
        metrics="results/jets/metrics.json",
        summary="results/jets/summary.json",
        efficiencies="results/jets/efficiencies.md",
        distributions=report(
            "results/jets/figures/distributions.png",
            category="Jets",
            caption="report/jets_distributions.rst",
        ),
        images=report(
            "results/jets/figures/mean_images.png",
            category="Jets",
            caption="report/jets_images.rst",
        ),
    log:
        "results/logs/jets/summary.log",
    benchmark:
        "results/benchmarks/jets/summary.tsv"
    params:
        spec=get_jets_summary_spec,
        code=adapter_hash("summarize_jets"),
    conda:
        "../envs/phenoflow.yaml"
    threads: 1
    resources:
        mem_mb=3000,
    script:
        "../workflow_scripts/summarize_jets.py"


rule make_dataset:
    input:
        jets=get_dataset_jet_files,
    output:
        train=directory("results/datasets/{task}/train"),
        val=directory("results/datasets/{task}/val"),
        test=directory("results/datasets/{task}/test"),
        card="results/datasets/{task}/card.json",
        card_md="results/datasets/{task}/card.md",
    log:
        "results/logs/datasets/{task}.log",
    benchmark:
        "results/benchmarks/datasets/{task}.tsv"
    wildcard_constraints:
        task=_alternatives(list(config["datasets"])),
    params:
        spec=get_dataset_spec,
        code=adapter_hash("make_dataset"),
    conda:
        "../envs/phenoflow.yaml"
    threads: 1
    resources:
        mem_mb=16000,
        runtime=60,
    script:
        "../workflow_scripts/make_dataset.py"
