# Pythia 8 event generation, one seeded job per shard; LHE processes shower the
# Les Houches file that write_lhe makes for the same shard.


rule write_lhe:
    output:
        lhe="results/lhe/{process}/shard{shard}.lhe",
    log:
        "results/logs/lhe/{process}/shard{shard}.lhe.log",
    benchmark:
        "results/benchmarks/lhe/{process}/shard{shard}.lhe.tsv"
    wildcard_constraints:
        process=_alternatives(LHE_PROCESSES),
    params:
        spec=get_write_lhe_spec,
        code=adapter_hash("write_lhe"),
    conda:
        "../envs/phenoflow.yaml"
    threads: 1
    resources:
        mem_mb=1000,
        runtime=30,
    script:
        "../workflow_scripts/write_lhe.py"


rule generate_events:
    input:
        unpack(get_generate_input),
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
