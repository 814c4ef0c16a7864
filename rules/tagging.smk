# Top tagging: train every tagger (per seed), the BDT baseline, evaluate side by side.


rule train_tagger:
    input:
        dataset="results/datasets/{task}/card.json",
    output:
        model="results/tagging/{task}/models/{key}_seed{seed}.pt",
        history="results/tagging/{task}/{key}/seed{seed}.json",
    log:
        "results/logs/tagging/{task}/{key}_seed{seed}.log",
    benchmark:
        "results/benchmarks/tagging/{task}/{key}_seed{seed}.tsv"
    wildcard_constraints:
        key=tagger_key_pattern(),
        seed=r"\d+",
    params:
        spec=get_train_tagger_spec,
        code=adapter_hash("train_tagger"),
    conda:
        "../envs/phenoflow.yaml"
    threads: 2
    resources:
        gpu=1,
        mem_mb=32000,
        runtime=480,
    script:
        "../workflow_scripts/train_tagger.py"


rule train_bdt:
    input:
        dataset="results/datasets/{task}/card.json",
    output:
        model="results/tagging/{task}/models/bdt.skops",
        history="results/tagging/{task}/bdt/training.json",
    log:
        "results/logs/tagging/{task}/bdt.log",
    benchmark:
        "results/benchmarks/tagging/{task}/bdt.tsv"
    params:
        spec=get_train_bdt_spec,
        code=adapter_hash("train_bdt"),
    conda:
        "../envs/phenoflow.yaml"
    threads: 1
    resources:
        mem_mb=8000,
        runtime=60,
    script:
        "../workflow_scripts/train_bdt.py"


rule evaluate_taggers:
    input:
        dataset="results/datasets/{task}/card.json",
        models=get_tagger_models,
        histories=get_tagger_histories,
        bdt="results/tagging/{task}/models/bdt.skops",
    output:
        metrics="results/tagging/{task}/metrics.json",
        table="results/tagging/{task}/table.md",
        roc=report(
            "results/tagging/{task}/figures/roc.png",
            category="Tagging",
            caption="report/tagging_roc.rst",
        ),
        attention=report(
            "results/tagging/{task}/figures/attention.png",
            category="Tagging",
            caption="report/tagging_attention.rst",
        ),
    log:
        "results/logs/tagging/{task}/evaluate.log",
    benchmark:
        "results/benchmarks/tagging/{task}/evaluate.tsv"
    params:
        spec=get_evaluate_taggers_spec,
        code=adapter_hash("evaluate_taggers"),
    conda:
        "../envs/phenoflow.yaml"
    threads: 2
    resources:
        gpu=1,
        mem_mb=32000,
        runtime=120,
    script:
        "../workflow_scripts/evaluate_taggers.py"
