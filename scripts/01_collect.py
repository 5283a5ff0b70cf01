"""Stage 01: collect documents and real query–passage pairs with leak-free splits.

python -m scripts.01_collect --params params.yaml --out-dir data/collect --metrics metrics/collect.json
"""

import argparse
import logging

from kosparse.cli import run
from kosparse.data.collect import (
    SPLITS,
    Collection,
    add_docs_source,
    add_qa_source,
    add_query_passages_source,
    check_no_leak,
)
from kosparse.data.sources import load_source
from kosparse.io import atomic_path, load_params, write_json, write_jsonl

log = logging.getLogger("01_collect")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--params", default="params.yaml")
    parser.add_argument("--out-dir", default="data/collect")
    parser.add_argument("--metrics", default="metrics/collect.json")
    args = parser.parse_args()
    cfg = load_params(args.params)["collect"]

    # 1. Load every declared source (mirror first unless collect.prefer_online) before writing anything.
    loaded = {
        name: load_source(name, src, cfg["mirror_dir"], cfg["prefer_online"]) for name, src in cfg["sources"].items()
    }

    # 2. Normalise, drop short texts, deduplicate documents, split pairs.
    col = Collection(min_doc_chars=cfg["min_doc_chars"], min_query_chars=cfg["min_query_chars"])
    for name, (records, _) in loaded.items():
        src = cfg["sources"][name]
        extra = {"machine_translated": bool(src.get("machine_translated", False))}
        split = {**cfg["split"], **src.get("split", {})}
        if src["kind"] == "qa":
            add_qa_source(col, name, records, split, extra)
        elif src["kind"] == "query_passages":
            add_query_passages_source(col, name, records, split, extra)
        else:
            add_docs_source(col, name, records, src.get("max_docs"))
        log.info("%s: %d documents, %s", name, col.stats[name]["documents_kept"], dict(col.stats[name]["pairs"]))

    # 3. Write the outputs atomically: the folder appears whole or not at all.
    with atomic_path(args.out_dir, is_dir=True) as tmp:
        write_jsonl(tmp / "documents.jsonl", col.documents)
        for split in SPLITS:
            write_jsonl(tmp / f"pairs_{split}.jsonl", col.pairs[split])

    metrics = col.metrics()
    metrics["leaked_positives"] = check_no_leak(col.pairs, col.documents)
    for name, (_, provenance) in loaded.items():
        metrics[name]["input"] = provenance
    write_json(args.metrics, metrics)
    log.info(
        "wrote %d documents and %s pairs to %s",
        len(col.documents),
        {s: len(p) for s, p in col.pairs.items()},
        args.out_dir,
    )


if __name__ == "__main__":
    run(main)
