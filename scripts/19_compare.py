"""Stage 19: compare BM25, v1, v2 and v2_expanded on the same real held-out queries.

    python -m scripts.19_compare --bm25 metrics/bm25.json \
        --eval metrics/eval_v1.json metrics/eval_v2.json metrics/eval_v2_expanded.json \
        --per-query data/eval/bm25.json data/eval/v1.json data/eval/v2.json data/eval/v2_expanded.json \
        --synthesize metrics/synthesize.json --mix metrics/mix_v2.json --synonyms metrics/synonyms.json \
        --codeswitch metrics/codeswitch.json --models models/served/v1 models/served/v2 \
        --encoded data/encoded/v1 data/encoded/v2 --collect-dir data/collect \
        --out metrics/compare.json --report reports/compare.md --plots-dir reports/compare_plots
"""

import argparse
import csv
from pathlib import Path

from kosparse.cli import run
from kosparse.errors import KosparseError
from kosparse.evaluation.compare import (
    acceptance_rows,
    codeswitch_table,
    column_order,
    compare_markdown,
    comparison,
    differing_queries,
    floor_sentence,
    hybrid_runs,
    intervals,
    retrieval_rows,
    variant_name,
    verdict,
)
from kosparse.evaluation.encodings import load_encodings
from kosparse.evaluation.retrieval import SparseRetriever, document_text, ranked_ids
from kosparse.io import atomic_path, load_params, read_json, read_jsonl, write_json
from kosparse.model.sparse_model import load_encoder


def write_csv(path: Path, rows: list[dict]) -> None:
    with atomic_path(path) as tmp, open(tmp, "w", encoding="utf-8", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=list(rows[0]), lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--params", default="params.yaml")
    parser.add_argument("--bm25", default="metrics/bm25.json")
    parser.add_argument("--per-query", nargs="+", default=[], help="per-query nDCG@10 files (stage evaluate*)")
    parser.add_argument("--eval", nargs="+", default=["metrics/eval_v1.json", "metrics/eval_v2.json"])
    parser.add_argument("--synthesize", default="metrics/synthesize.json")
    parser.add_argument("--mix", default="metrics/mix_v2.json", help="v2's training data (stage mix@v2)")
    parser.add_argument("--synonyms", default="metrics/synonyms.json")
    parser.add_argument("--codeswitch", default="metrics/codeswitch.json")
    parser.add_argument("--models", nargs=2, default=["models/served/v1", "models/served/v2"])
    parser.add_argument("--encoded", nargs=2, default=["data/encoded/v1", "data/encoded/v2"], help="stage encode's")
    parser.add_argument("--collect-dir", default="data/collect")
    parser.add_argument("--out", default="metrics/compare.json")
    parser.add_argument("--report", default="reports/compare.md")
    parser.add_argument("--plots-dir", default="reports/compare_plots", help="CSV data of the `dvc plots` bars")
    args = parser.parse_args()
    params = load_params(args.params)
    cfg = params["compare"]

    # 1. The same metric keys from every evaluation.
    models = {}
    for path in args.eval:
        result = read_json(path)
        name = variant_name(result)
        if name is None:
            raise KosparseError(f"{path}: no retriever results in it")
        models[name] = result
    hybrids = hybrid_runs(models)
    table = comparison({**read_json(args.bm25), **hybrids}, models)
    per_query = {name: runs for path in args.per_query for name, runs in read_json(path).items()}
    deltas = intervals(per_query)
    synthesize = read_json(args.synthesize)
    mix = read_json(args.mix)
    sentence = verdict(table, cfg["gain_threshold"], deltas)
    floor = floor_sentence(deltas, list(models))
    synonyms = read_json(args.synonyms)
    dictionaries = {
        name: {"pairs": synonyms[name]["pairs"], "precision": synonyms[name]["precision"]["precision"]}
        for name in ("base", "enhanced")
    }
    codeswitch = codeswitch_table(read_json(args.codeswitch))

    # 2. Sample queries where v1's and v2's first hit differ, on one test set (their stored document vectors).
    collect = Path(args.collect_dir)
    dataset = cfg["sample_dataset"]
    documents = [d for d in read_jsonl(collect / "documents.jsonl") if d["source"] == dataset]
    queries = [p for p in read_jsonl(collect / "pairs_test.jsonl") if p["source"] == dataset]
    text_of = document_text(params["evaluate"]["index_title"])
    v1, v2 = (
        ranked_ids(SparseRetriever(model, load_encoder(model), encoded=load_encodings(encoded, model)),
                   documents, queries, 3, text_of)
        for model, encoded in zip(args.models, args.encoded, strict=True)
    )  # fmt: skip
    samples = differing_queries(queries, v1, v2, cfg["sample_queries"])

    # 3. compare.json for `dvc metrics`, compare.md for people.
    summary = {
        "test": table,
        "intervals": deltas,
        "verdict": sentence,
        "floor": floor,
        "sparsity": {name: m.get("sparsity", {}).get("doc_active_dims_mean") for name, m in models.items()},
        "hybrid_sparse_weight": {name: m["hybrid"]["sparse_weight"] for name, m in models.items() if "hybrid" in m},
        "synthetic": {"model": synthesize["model"], "accepted": synthesize["accepted"],
                      "acceptance_rate": synthesize["acceptance_rate"], **mix},
        "first_hit_changed": {dataset: sum(a[:1] != b[:1] for a, b in zip(v1, v2, strict=True))},
        "dictionaries": dictionaries,
        "codeswitch_ndcg@10": codeswitch,
    }  # fmt: skip
    write_json(args.out, summary)
    order = column_order(list(models), list(hybrids))
    plots = Path(args.plots_dir)
    write_csv(plots / "retrieval.csv", retrieval_rows(table, order))
    write_csv(plots / "synthetic.csv", acceptance_rows(synthesize))
    text = {d["id"]: d["text"] for d in documents}
    with atomic_path(args.report) as tmp:
        tmp.write_text(compare_markdown(summary, models, synthesize, order, samples, text), encoding="utf-8")


if __name__ == "__main__":
    run(main)
