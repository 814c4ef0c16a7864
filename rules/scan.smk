# ML-guided parameter scans (MLscanner, arXiv:2207.09959) against random sampling and MCMC.


rule scan_function:
    output:
        points="results/scan/{objective}/points.parquet",
        study="results/scan/{objective}/study.json",
        figure=report(
            "results/scan/figures/{objective}.png",
            category="Parameter scans",
            caption="report/scan.rst",
        ),
    log:
        "results/logs/scan/{objective}.log",
    benchmark:
        "results/benchmarks/scan/{objective}.tsv"
    wildcard_constraints:
        objective="cosine_[0-9a-z_]+",
    params:
        spec=get_scan_function_spec,
        code=adapter_hash("scan_function"),
    conda:
        "../envs/phenoflow.yaml"
    threads: 1
    resources:
        mem_mb=2000,
        runtime=30,
    script:
        "../workflow_scripts/scan_function.py"


rule scan_smote_study:
    output:
        study="results/scan/smote/study.json",
        figure=report(
            "results/scan/figures/smote.png",
            category="Parameter scans",
            caption="report/scan_smote.rst",
        ),
    log:
        "results/logs/scan/smote.log",
    benchmark:
        "results/benchmarks/scan/smote.tsv"
    params:
        spec=get_smote_study_spec,
        code=adapter_hash("scan_smote_study"),
    conda:
        "../envs/phenoflow.yaml"
    threads: 1
    resources:
        mem_mb=2000,
        runtime=30,
    script:
        "../workflow_scripts/scan_smote_study.py"


rule scan_zprime:
    output:
        points="results/scan/zprime/points.parquet",
        study="results/scan/zprime/study.json",
        figure=report(
            "results/scan/figures/zprime.png",
            category="Parameter scans",
            caption="report/scan_zprime.rst",
        ),
    log:
        "results/logs/scan/zprime.log",
    benchmark:
        "results/benchmarks/scan/zprime.tsv"
    params:
        spec=get_zprime_scan_spec,
        code=adapter_hash("scan_zprime"),
    conda:
        "../envs/phenoflow.yaml"
    threads: 1
    resources:
        mem_mb=2000,
        runtime=30,
    script:
        "../workflow_scripts/scan_zprime.py"


rule summarize_scan:
    input:
        studies=get_scan_function_studies,
        smote=get_scan_smote_input,
        zprime=get_scan_zprime_input,
    output:
        metrics="results/scan/metrics.json",
    log:
        "results/logs/scan/metrics.log",
    benchmark:
        "results/benchmarks/scan/metrics.tsv"
    params:
        code=adapter_hash("summarize_scan"),
    conda:
        "../envs/phenoflow.yaml"
    threads: 1
    script:
        "../workflow_scripts/summarize_scan.py"
