"""Stage 18: OpenSearch artifacts for a trained variant (SPARSE_ENCODING + SPARSE_TOKENIZE zips, bodies, card).

    python -m scripts.18_export v1 --params params.yaml --model models/served/v1 --collect-dir data/collect \
        --encoded data/encoded/v1 \
        --eval-metrics metrics/eval_v1.json --train-metrics metrics/train_v1.json \
        --out models/opensearch/v1 --metrics metrics/export_v1.json

The folder is written only when the zipped trace reproduces the model's
document vectors and the zipped tokenizer + idf.json its query vectors.
"""

import argparse
import logging
from pathlib import Path

from kosparse.cli import run
from kosparse.errors import KosparseError
from kosparse.evaluation.encodings import load_encodings
from kosparse.evaluation.retrieval import document_text
from kosparse.export import artifacts, cards, emulation, loading, pruning
from kosparse.io import atomic_path, dumps, load_params, read_json, read_jsonl, write_json

log = logging.getLogger("18_export")

EVAL_SPLITS = ("validation", "test")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("variant")
    parser.add_argument("--params", default="params.yaml")
    parser.add_argument("--model", default=None, help="SparseEncoder folder (default models/<variant>)")
    parser.add_argument("--collect-dir", default="data/collect")
    parser.add_argument("--encoded", default=None, help="default data/encoded/<variant>")
    parser.add_argument("--eval-metrics", default=None, help="default metrics/eval_<variant>.json")
    parser.add_argument("--train-metrics", default=None, help="default metrics/train_<variant>.json")
    parser.add_argument("--out", default=None, help="artifact folder (default models/opensearch/<variant>)")
    parser.add_argument("--metrics", default=None, help="summary JSON (default metrics/export_<variant>.json)")
    args = parser.parse_args()
    variant_name = args.variant
    model_dir = args.model or f"models/{variant_name}"
    out = args.out or f"models/opensearch/{variant_name}"
    params = load_params(args.params)
    cfg, eval_cfg = params["export"], params["evaluate"]

    # 1. Check settings and read every input before the model is touched.
    for setting in [cfg["prune"], *cfg["prune_table"]]:
        pruning.check_prune(setting)
    eval_metrics = read_json(args.eval_metrics or f"metrics/eval_{variant_name}.json")
    if variant_name not in eval_metrics:
        raise KosparseError(f"{args.eval_metrics}: no results for {variant_name} (run evaluate@{variant_name})")
    train_summary = read_json(args.train_metrics or f"metrics/train_{variant_name}.json")
    collect = Path(args.collect_dir)
    documents = read_jsonl(collect / "documents.jsonl")
    pairs = {split: read_jsonl(collect / f"pairs_{split}.jsonl") for split in EVAL_SPLITS}

    # 2. The trained variant, refused if OpenSearch could not serve it as trained.
    variant = loading.load_variant(model_dir)
    report = variant.idf_report

    # 3. Zips and registration bodies.
    names = artifacts.model_names(cfg["name_prefix"], variant_name)
    zips = artifacts.build_zips(variant, names, documents[0]["text"])
    bodies = artifacts.registration_bodies(variant, names, str(cfg["version"]), zips)

    # 4. Parity: the zipped files, run as OpenSearch runs them, against the SparseEncoder.
    step = max(1, len(documents) // cfg["parity_documents"])
    sample = [d["text"] for d in documents[::step][: cfg["parity_documents"]]]
    parity = {
        "documents": emulation.document_parity(variant, zips[artifacts.DOCUMENT_ZIP], sample),
        "queries": emulation.query_parity(
            variant, zips[artifacts.TOKENIZER_ZIP], [p["query"] for split in EVAL_SPLITS for p in pairs[split]]
        ),
    }
    log.info("parity: %s", parity)
    doc_parity = parity["documents"]
    if doc_parity["max_abs_diff"] > cfg["parity_tolerance"] or doc_parity["active_dims_mismatches"]:
        raise KosparseError(f"{model_dir}: the traced document encoder does not reproduce the model: {doc_parity}")
    if parity["queries"]["mismatches"]:
        raise KosparseError(f"{model_dir}: the query tokenizer zip does not reproduce the model: {parity['queries']}")

    # 5. Pruning at ingest: every setting applied to the stored document vectors.
    encoded = load_encodings(args.encoded or f"data/encoded/{variant_name}", model_dir)
    text_of = document_text(eval_cfg["index_title"])
    prune_table = pruning.pruning_table(
        variant, documents, pairs, cfg["prune_table"], eval_cfg["top_k"], encoded, text_of
    )
    for row in prune_table:
        log.info("prune %s: %s", row["prune"], row)

    # 6. The folder, all or nothing, and the metrics.
    files = {**zips, **{name: dumps(body).encode("utf-8") for name, body in bodies.items()}}
    hybrid = eval_metrics.get("hybrid", {})  # evaluate's weight for the neural_sparse side, tuned on validation
    man = cards.manifest(
        variant_name, variant, names, str(cfg["version"]), cfg["prune"], files, hybrid.get("sparse_weight", 0.7)
    )
    sources = params["collect"]["sources"]
    data = {
        source: {
            "documents": sum(d["source"] == source for d in documents),
            "machine_translated": sources[source]["machine_translated"],
            "licence": cfg["data_licences"].get(source, "not recorded (add it to export.data_licences)"),
        }
        for source in sorted({d["source"] for d in documents})
    }
    card = cards.model_card(variant_name, man, data, params["train"], train_summary, eval_metrics, parity, prune_table)
    files[artifacts.MANIFEST] = dumps(man).encode("utf-8")
    files[artifacts.MODEL_CARD] = card.encode("utf-8")
    with atomic_path(out, is_dir=True) as tmp:
        for name, data_bytes in files.items():
            (tmp / name).write_bytes(data_bytes)
    write_json(
        args.metrics or f"metrics/export_{variant_name}.json",
        {
            "variant": variant_name,
            "models": names,
            "files": man["files"],
            "idf": {"keys": report["keys"], "decode_collisions": len(report["collisions"])},
            "parity": parity,
            "prune_ingest": pruning.prune_label(cfg["prune"]),
            "prune": prune_table,
        },
    )
    log.info("%s: %s", out, {name: f"{info['bytes']:,} bytes" for name, info in man["files"].items()})


if __name__ == "__main__":
    run(main)
