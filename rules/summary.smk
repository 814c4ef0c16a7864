# results/summary.md: the paper tables, from every analysis' metrics.json; and
# results/run_info.json (config files, date, machine) for docs/results.md.


rule make_summary:
    input:
        metrics=get_metrics_files,
    output:
        summary="results/summary.md",
        run_info="results/run_info.json",
    log:
        "results/logs/summary.log",
    benchmark:
        "results/benchmarks/summary.tsv"
    params:
        configfiles=get_configfiles(),
        code=adapter_hash("make_summary"),
    conda:
        "../envs/phenoflow.yaml"
    threads: 1
    script:
        "../workflow_scripts/make_summary.py"
