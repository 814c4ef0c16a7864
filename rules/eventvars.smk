# Deep-learned event variables: train one EVN per topology, evaluate it.


rule train_event_variable:
    output:
        model="results/eventvars/models/{topology}.pt",
        history="results/eventvars/{topology}/training.json",
    log:
        "results/logs/eventvars/{topology}/train.log",
    benchmark:
        "results/benchmarks/eventvars/{topology}/train.tsv"
    wildcard_constraints:
        topology="|".join(config["eventvars"]["topologies"]) or "(?!x)x",
    params:
        spec=get_train_event_variable_spec,
        code=adapter_hash("train_event_variable"),
    conda:
        "../envs/phenoflow.yaml"
    threads: 2
    resources:
        gpu=1,
        mem_mb=16000,
        runtime=120,
    script:
        "../workflow_scripts/train_event_variable.py"


rule evaluate_event_variable:
    input:
        model="results/eventvars/models/{topology}.pt",
        history="results/eventvars/{topology}/training.json",
    output:
        evaluation="results/eventvars/{topology}/evaluation.json",
        figure=report(
            "results/eventvars/figures/{topology}.png",
            category="Event variables",
            caption="report/eventvars.rst",
        ),
        training=report(
            "results/eventvars/figures/{topology}_training.png",
            category="Event variables",
            caption="report/eventvars_training.rst",
        ),
    log:
        "results/logs/eventvars/{topology}/evaluate.log",
    benchmark:
        "results/benchmarks/eventvars/{topology}/evaluate.tsv"
    params:
        spec=get_evaluate_event_variable_spec,
        code=adapter_hash("evaluate_event_variable"),
    conda:
        "../envs/phenoflow.yaml"
    threads: 2
    resources:
        mem_mb=4000,
        runtime=60,
    script:
        "../workflow_scripts/evaluate_event_variable.py"


rule summarize_eventvars:
    input:
        evaluations=expand(
            "results/eventvars/{topology}/evaluation.json",
            topology=config["eventvars"]["topologies"],
        ),
        histories=expand(
            "results/eventvars/{topology}/training.json",
            topology=config["eventvars"]["topologies"],
        ),
    output:
        metrics="results/eventvars/metrics.json",
    log:
        "results/logs/eventvars/metrics.log",
    benchmark:
        "results/benchmarks/eventvars/metrics.tsv"
    params:
        code=adapter_hash("summarize_eventvars"),
    conda:
        "../envs/phenoflow.yaml"
    threads: 1
    script:
        "../workflow_scripts/summarize_eventvars.py"
