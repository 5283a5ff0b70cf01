"""Stage 07: the base and enhanced dictionaries measured against the gold lexicons.

    python -m scripts.07_synonyms_eval --params params.yaml --base data/synonyms/base.json \
        --enhanced data/synonyms/enhanced.json --documents data/collect/documents.jsonl \
        --gold-dir ../shared/datasets --out metrics/synonyms.json

Gold (MUSE ko-en 0-5000, CC-KEDICT, the tech glossaries) only measures: no
stage that builds a dictionary reads it.
"""

import argparse
import logging

from kosparse.cli import run
from kosparse.io import load_params, read_json, read_jsonl, write_json
from kosparse.synonyms.dictionary import groups_of, source_counts
from kosparse.synonyms.evaluation import precision, recall, samples
from kosparse.synonyms.lexicons import load_gold, merged

log = logging.getLogger("07_synonyms_eval")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--params", default="params.yaml")
    parser.add_argument("--base", default="data/synonyms/base.json")
    parser.add_argument("--enhanced", default="data/synonyms/enhanced.json")
    parser.add_argument("--documents", default="data/collect/documents.jsonl")
    parser.add_argument("--gold-dir", default="../shared/datasets")
    parser.add_argument("--out", default="metrics/synonyms.json")
    args = parser.parse_args()
    params = load_params(args.params)

    # 1. Gold: all three lexicons merged for precision; the tech glossaries alone for recall.
    gold = load_gold(args.gold_dir)
    all_gold = merged(gold)
    corpus = "\n".join(d["text"] for d in read_jsonl(args.documents))

    # 2. Each dictionary: size, sources, precision on gold-covered pairs, tech-term recall.
    report = {}
    for name, path in (("base", args.base), ("enhanced", args.enhanced)):
        pairs = read_json(path)["pairs"]
        report[name] = {
            "pairs": len(pairs),
            "groups": len(groups_of(pairs)),
            "pairs_per_source": source_counts(pairs),
            "precision": precision(pairs, all_gold),
            "tech_recall": recall(pairs, gold["tech"], corpus),
        }
    report["enhanced_over_base"] = round(report["enhanced"]["pairs"] / max(1, report["base"]["pairs"]), 3)
    report["gold_sizes"] = {name: len(table) for name, table in gold.items()}
    report["samples"] = samples(read_json(args.enhanced)["pairs"], 20, params["seed"])
    write_json(args.out, report)
    for name in ("base", "enhanced"):
        log.info(
            "%s: %d pairs, precision %s on %d gold-covered, tech recall %s",
            name, report[name]["pairs"], report[name]["precision"]["precision"],
            report[name]["precision"]["gold_covered"], report[name]["tech_recall"]["recall"],
        )  # fmt: skip


if __name__ == "__main__":
    run(main)
