# results/summary.md: the paper tables, from every analysis' metrics.json.


rule make_summary:
    input:
        metrics=get_metrics_files,
    output:
        summary="results/summary.md",
    log:
        "results/logs/summary.log",
    benchmark:
        "results/benchmarks/summary.tsv"
    params:
        code=adapter_hash("make_summary"),
    conda:
        "../envs/phenoflow.yaml"
    threads: 1
    script:
        "../workflow_scripts/make_summary.py"
