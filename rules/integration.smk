# ML-stratified ("Lebesgue") integration (LeStrat-Net, arXiv:2412.13982) against VEGAS.


rule integrate_ladder:
    output:
        ladder="results/integration/{integrand}/ladder.json",
    log:
        "results/logs/integration/{integrand}/ladder.log",
    benchmark:
        "results/benchmarks/integration/{integrand}/ladder.tsv"
    wildcard_constraints:
        integrand=_alternatives(config["integration"]["integrands"]),
    params:
        spec=get_ladder_spec,
        code=adapter_hash("integrate_ladder"),
    conda:
        "../envs/phenoflow.yaml"
    threads: 1
    resources:
        mem_mb=4000,
        runtime=60,
    script:
        "../workflow_scripts/integrate_ladder.py"


rule integrate_pulls:
    output:
        pulls="results/integration/{integrand}/pulls.json",
    log:
        "results/logs/integration/{integrand}/pulls.log",
    benchmark:
        "results/benchmarks/integration/{integrand}/pulls.tsv"
    wildcard_constraints:
        integrand=_alternatives(config["integration"]["integrands"]),
    params:
        spec=get_pulls_spec,
        code=adapter_hash("integrate_pulls"),
    conda:
        "../envs/phenoflow.yaml"
    threads: 1
    resources:
        mem_mb=4000,
        runtime=60,
    script:
        "../workflow_scripts/integrate_pulls.py"


rule draw_strata:
    output:
        figure=report(
            "results/integration/figures/strata_fine_tuning_2d.png",
            category="Integration",
            caption="report/integration_strata.rst",
        ),
    log:
        "results/logs/integration/strata.log",
    benchmark:
        "results/benchmarks/integration/strata.tsv"
    params:
        spec=get_strata_spec,
        code=adapter_hash("draw_strata"),
    conda:
        "../envs/phenoflow.yaml"
    threads: 1
    resources:
        mem_mb=4000,
        runtime=60,
    script:
        "../workflow_scripts/draw_strata.py"


rule check_drell_yan:
    output:
        check="results/integration/drell_yan/check.json",
        events="results/integration/drell_yan/events.parquet",
        zoomed="results/integration/drell_yan/events_zoomed.parquet",
        figure=report(
            "results/integration/figures/drell_yan.png",
            category="Integration",
            caption="report/integration_drell_yan.rst",
        ),
    log:
        "results/logs/integration/drell_yan/check.log",
    benchmark:
        "results/benchmarks/integration/drell_yan/check.tsv"
    params:
        spec=get_drell_yan_check_spec,
        code=adapter_hash("check_drell_yan"),
    conda:
        "../envs/phenoflow.yaml"
    threads: 1
    resources:
        mem_mb=4000,
        runtime=60,
    script:
        "../workflow_scripts/check_drell_yan.py"


rule summarize_integration:
    input:
        ladders=expand(
            "results/integration/{integrand}/ladder.json",
            integrand=config["integration"]["integrands"],
        ),
        pulls=expand(
            "results/integration/{integrand}/pulls.json",
            integrand=config["integration"]["integrands"],
        ),
        drell_yan=get_drell_yan_check_input,
    output:
        metrics="results/integration/metrics.json",
        table="results/integration/table.md",
        figure=report(
            "results/integration/figures/comparison.png",
            category="Integration",
            caption="report/integration_comparison.rst",
        ),
    log:
        "results/logs/integration/metrics.log",
    benchmark:
        "results/benchmarks/integration/metrics.tsv"
    params:
        code=adapter_hash("summarize_integration"),
    conda:
        "../envs/phenoflow.yaml"
    threads: 1
    script:
        "../workflow_scripts/summarize_integration.py"
