# Two fat jets at once (H -> hh -> 4b): the dataset of every mass point and background,
# one training job per model key (every seed), the boosted trees, and one evaluation
# with the stage's metrics, table and figures.


rule multiscale_dataset:
    input:
        events=get_multiscale_event_files,
    output:
        card="results/multiscale/dataset/card.json",
    log:
        "results/logs/multiscale/dataset.log",
    benchmark:
        "results/benchmarks/multiscale/dataset.tsv"
    params:
        spec=get_multiscale_dataset_spec,
        code=adapter_hash("multiscale_dataset"),
    conda:
        "../envs/phenoflow.yaml"
    threads: 1
    resources:
        mem_mb=16000,
        runtime=120,
    script:
        "../workflow_scripts/multiscale_dataset.py"


rule train_multiscale:
    input:
        dataset="results/multiscale/dataset/card.json",
    output:
        model="results/multiscale/models/{key}.pt",
        history="results/multiscale/history/{key}.json",
    log:
        "results/logs/multiscale/{key}.log",
    benchmark:
        "results/benchmarks/multiscale/{key}.tsv"
    wildcard_constraints:
        key=MULTISCALE_KEY_PATTERN,
    params:
        spec=get_train_multiscale_spec,
        code=adapter_hash("train_multiscale"),
    conda:
        "../envs/phenoflow.yaml"
    threads: 1
    resources:
        gpu=1,
        mem_mb=32000,
        runtime=480,
    script:
        "../workflow_scripts/train_multiscale.py"


rule train_multiscale_bdt:
    input:
        dataset="results/multiscale/dataset/card.json",
    output:
        model="results/multiscale/models/bdt.skops",
        history="results/multiscale/history/bdt.json",
    log:
        "results/logs/multiscale/bdt.log",
    benchmark:
        "results/benchmarks/multiscale/bdt.tsv"
    params:
        spec=get_train_multiscale_bdt_spec,
        code=adapter_hash("train_multiscale_bdt"),
    conda:
        "../envs/phenoflow.yaml"
    threads: 1
    resources:
        mem_mb=8000,
        runtime=60,
    script:
        "../workflow_scripts/train_multiscale_bdt.py"


rule evaluate_multiscale:
    input:
        dataset="results/multiscale/dataset/card.json",
        models=get_multiscale_models,
    output:
        evaluation="results/multiscale/evaluation.json",
        metrics="results/multiscale/metrics.json",
        table="results/multiscale/table.md",
        roc=report(
            "results/multiscale/figures/roc.png",
            category="Multi-scale",
            caption="report/multiscale_roc.rst",
        ),
        rejection=report(
            "results/multiscale/figures/rejection.png",
            category="Multi-scale",
            caption="report/multiscale_rejection.rst",
        ),
        attention=report(
            "results/multiscale/figures/cross_attention.png",
            category="Multi-scale",
            caption="report/multiscale_attention.rst",
        ),
        inputs=report(
            "results/multiscale/figures/inputs.png",
            category="Multi-scale",
            caption="report/multiscale_inputs.rst",
        ),
    log:
        "results/logs/multiscale/evaluate.log",
    benchmark:
        "results/benchmarks/multiscale/evaluate.tsv"
    params:
        spec=get_evaluate_multiscale_spec,
        code=adapter_hash("evaluate_multiscale"),
    conda:
        "../envs/phenoflow.yaml"
    threads: 1
    resources:
        gpu=1,
        mem_mb=16000,
        runtime=120,
    script:
        "../workflow_scripts/evaluate_multiscale.py"
