# Validation figures of every event sample and the events metrics.


rule validate_events:
    input:
        shards=get_process_shards,
    output:
        stats="results/events/{process}/stats.json",
        figure=report(
            "results/events/figures/{process}_validation.png",
            category="Event generation",
            caption="report/validation.rst",
        ),
    log:
        "results/logs/events/{process}/validate.log",
    benchmark:
        "results/benchmarks/events/{process}/validate.tsv"
    params:
        spec=get_validate_spec,
        code=adapter_hash("validate_events"),
    conda:
        "../envs/phenoflow.yaml"
    threads: 1
    resources:
        mem_mb=3000,
        runtime=30,
    script:
        "../workflow_scripts/validate_events.py"


rule summarize_events:
    input:
        stats=get_validation_stats,
    output:
        metrics="results/events/metrics.json",
    log:
        "results/logs/events/metrics.log",
    benchmark:
        "results/benchmarks/events/metrics.tsv"
    params:
        code=adapter_hash("summarize_events"),
    conda:
        "../envs/phenoflow.yaml"
    threads: 1
    script:
        "../workflow_scripts/summarize_events.py"
