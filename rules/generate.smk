# Pythia 8 event generation, one seeded job per shard.


rule generate_events:
    output:
        events="results/events/{process}/shard{shard}.parquet",
    log:
        "results/logs/events/{process}/shard{shard}.parquet.log",
    benchmark:
        "results/benchmarks/events/{process}/shard{shard}.parquet.tsv"
    wildcard_constraints:
        process=_alternatives(GENERATED),
    params:
        spec=get_generate_spec,
        code=adapter_hash("generate_events"),
    conda:
        "../envs/phenoflow.yaml"
    threads: 1
    resources:
        mem_mb=3000,
        runtime=180,
    script:
        "../workflow_scripts/generate_events.py"
