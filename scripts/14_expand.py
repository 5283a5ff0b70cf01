"""Stage 14: the collection with doc2query expansions, for a served variant evaluated on expanded documents.

    python -m scripts.14_expand --params params.yaml --collect-dir data/collect \
        --synthetic data/synthetic/pairs.jsonl --out-dir data/expanded --metrics metrics/expand.json

The evaluation queries and their splits are copied unchanged: only documents differ.
"""

import argparse
import logging
import shutil
from collections import Counter
from pathlib import Path

from kosparse.cli import run
from kosparse.data.expansion import expanded_documents
from kosparse.io import atomic_path, load_params, read_jsonl, write_json, write_jsonl

log = logging.getLogger("14_expand")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--params", default="params.yaml")
    parser.add_argument("--collect-dir", default="data/collect")
    parser.add_argument("--synthetic", default="data/synthetic/pairs.jsonl")
    parser.add_argument("--out-dir", default="data/expanded")
    parser.add_argument("--metrics", default="metrics/expand.json")
    args = parser.parse_args()
    kinds = load_params(args.params)["expand"]["kinds"]

    # 1. Documents with their accepted generated queries appended.
    collect = Path(args.collect_dir)
    documents = read_jsonl(collect / "documents.jsonl")
    synthetic = read_jsonl(args.synthetic)
    expanded = expanded_documents(documents, synthetic, kinds)
    changed = [new for old, new in zip(documents, expanded, strict=True) if new is not old]

    # 2. A collect-shaped folder, written whole or not at all.
    with atomic_path(args.out_dir, is_dir=True) as tmp:
        write_jsonl(tmp / "documents.jsonl", expanded)
        for pairs in sorted(collect.glob("pairs_*.jsonl")):
            shutil.copyfile(pairs, tmp / pairs.name)
    write_json(args.metrics, {
        "kinds": kinds,
        "documents": len(documents),
        "documents_expanded": len(changed),
        "expanded_by_source": dict(sorted(Counter(d["source"] for d in changed).items())),
        "queries_appended": sum(1 for row in synthetic if row["kind"] in kinds),
    })  # fmt: skip
    log.info("%d of %d documents expanded", len(changed), len(documents))


if __name__ == "__main__":
    run(main)
