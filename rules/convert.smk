# ROOT <-> Parquet: every shard as a TTree, and external ROOT files imported.


rule convert_to_root:
    input:
        events="results/events/{process}/shard{shard}.parquet",
    output:
        root="results/events/{process}/shard{shard}.root",
    log:
        "results/logs/events/{process}/shard{shard}.root.log",
    benchmark:
        "results/benchmarks/events/{process}/shard{shard}.root.tsv"
    params:
        code=adapter_hash("convert_to_root"),
    conda:
        "../envs/phenoflow.yaml"
    threads: 1
    resources:
        mem_mb=3000,
        runtime=60,
    script:
        "../workflow_scripts/convert_to_root.py"


rule import_root:
    input:
        root=get_import_source,
    output:
        events="results/events/{process}/shard{shard}.parquet",
    log:
        "results/logs/events/{process}/shard{shard}.parquet.log",
    benchmark:
        "results/benchmarks/events/{process}/shard{shard}.parquet.tsv"
    wildcard_constraints:
        process=_alternatives(IMPORTED),
    params:
        spec=get_import_spec,
        code=adapter_hash("import_root"),
    conda:
        "../envs/phenoflow.yaml"
    threads: 1
    resources:
        mem_mb=3000,
        runtime=60,
    script:
        "../workflow_scripts/import_root.py"
