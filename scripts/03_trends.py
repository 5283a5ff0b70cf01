"""Stage 03: trend keywords from dated documents, with bounded IDF boost factors.

    python -m scripts.03_trends --params params.yaml --documents data/collect/documents.jsonl \
        --out data/trends/trends.json --metrics metrics/trends.json

Sources without dates give an empty result and one log line saying so; no
document is ever given a date it does not have.
"""

import argparse
import logging

from kiwipiepy import Kiwi

from kosparse.cli import run
from kosparse.data.trends import document_date, terms_per_document, trending
from kosparse.io import load_params, read_jsonl, write_json

log = logging.getLogger("03_trends")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--params", default="params.yaml")
    parser.add_argument("--documents", default="data/collect/documents.jsonl")
    parser.add_argument("--out", default="data/trends/trends.json")
    parser.add_argument("--metrics", default="metrics/trends.json")
    args = parser.parse_args()
    cfg = load_params(args.params)["trends"]

    # 1. Dates as the sources give them (a malformed date stops the stage, naming the document).
    documents = read_jsonl(args.documents)
    dates = [document_date(doc, args.documents) for doc in documents]
    dated = [i for i, d in enumerate(dates) if d is not None]

    # 2. Content terms of the dated documents only (Kiwi is the slow part; undated ones cannot trend).
    term_sets = [set() for _ in documents]
    if dated:
        analysed = terms_per_document(Kiwi(num_workers=2), [documents[i]["text"] for i in dated])
        for i, terms in zip(dated, analysed, strict=True):
            term_sets[i] = terms
    result = trending(dates, term_sets, cfg)
    if result["status"] == "no_dates":
        log.info("no document has a date (%d documents): no trend keywords, empty result", len(documents))
    write_json(args.out, result)

    write_json(
        args.metrics,
        {
            "status": result["status"],
            "documents": result["documents"],
            "trending_terms": len(result["terms"]),
            "top_terms": [t["term"] for t in result["terms"][:20]],
            "max_boost": max((t["boost"] for t in result["terms"]), default=None),
        },
    )


if __name__ == "__main__":
    run(main)
