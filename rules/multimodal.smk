# Kinematics + radiation (multi-modal) classification: per task a dataset of selected
# b bbar events, one training job per model key (every seed), an evaluation, and the
# stage's metrics, table and figures.


rule multimodal_dataset:
    input:
        events=get_multimodal_event_files,
    output:
        card="results/multimodal/{task}/dataset/card.json",
    log:
        "results/logs/multimodal/{task}/dataset.log",
    benchmark:
        "results/benchmarks/multimodal/{task}/dataset.tsv"
    params:
        spec=get_multimodal_dataset_spec,
        code=adapter_hash("multimodal_dataset"),
    conda:
        "../envs/phenoflow.yaml"
    threads: 1
    resources:
        mem_mb=8000,
        runtime=60,
    script:
        "../workflow_scripts/multimodal_dataset.py"


rule train_multimodal:
    input:
        dataset="results/multimodal/{task}/dataset/card.json",
    output:
        model="results/multimodal/{task}/models/{key}.pt",
        history="results/multimodal/{task}/history/{key}.json",
    log:
        "results/logs/multimodal/{task}/{key}.log",
    benchmark:
        "results/benchmarks/multimodal/{task}/{key}.tsv"
    wildcard_constraints:
        key=MULTIMODAL_KEY_PATTERN,
    params:
        spec=get_train_multimodal_spec,
        code=adapter_hash("train_multimodal"),
    conda:
        "../envs/phenoflow.yaml"
    threads: 1
    resources:
        gpu=1,
        mem_mb=16000,
        runtime=240,
    script:
        "../workflow_scripts/train_multimodal.py"


rule evaluate_multimodal:
    input:
        dataset="results/multimodal/{task}/dataset/card.json",
        models=get_multimodal_models,
    output:
        evaluation="results/multimodal/{task}/evaluation.json",
        images="results/multimodal/{task}/mean_images.npz",
    log:
        "results/logs/multimodal/{task}/evaluate.log",
    benchmark:
        "results/benchmarks/multimodal/{task}/evaluate.tsv"
    params:
        spec=get_evaluate_multimodal_spec,
        code=adapter_hash("evaluate_multimodal"),
    conda:
        "../envs/phenoflow.yaml"
    threads: 1
    resources:
        mem_mb=8000,
        runtime=60,
    script:
        "../workflow_scripts/evaluate_multimodal.py"


rule summarize_multimodal:
    input:
        evaluations=get_multimodal_evaluations,
        images=get_multimodal_images,
        cards=get_multimodal_cards,
    output:
        metrics="results/multimodal/metrics.json",
        table="results/multimodal/table.md",
        roc=report(
            "results/multimodal/figures/roc.png",
            category="Multi-modal",
            caption="report/multimodal_roc.rst",
        ),
        auc_vs_lambda=report(
            "results/multimodal/figures/auc_vs_lambda.png",
            category="Multi-modal",
            caption="report/multimodal_auc_vs_lambda.rst",
        ),
        attention=report(
            "results/multimodal/figures/attention_shares.png",
            category="Multi-modal",
            caption="report/multimodal_attention.rst",
        ),
        mean_images=report(
            "results/multimodal/figures/mean_images.png",
            category="Multi-modal",
            caption="report/multimodal_mean_images.rst",
        ),
        auc_vs_pt_bb=report(
            "results/multimodal/figures/auc_vs_pt_bb.png",
            category="Multi-modal",
            caption="report/multimodal_auc_vs_pt_bb.rst",
        ),
    log:
        "results/logs/multimodal/summary.log",
    benchmark:
        "results/benchmarks/multimodal/summary.tsv"
    params:
        spec=get_multimodal_summary_spec,
        code=adapter_hash("summarize_multimodal"),
    conda:
        "../envs/phenoflow.yaml"
    threads: 1
    script:
        "../workflow_scripts/summarize_multimodal.py"
