"""Stage 21 (opt-in, `make experiments`): the adaptation pair and distillation against their baselines.

    python -m scripts.21_experiments --params params.yaml --bm25 metrics/bm25.json \
        --variants v1 v1_distill v1_adapt v2_adapt --exported v1 v1_distill \
        --metrics-dir metrics --per-query-dir data/eval --mix metrics/mix_v2_adapt.json \
        --teacher-scores data/teacher/v1.jsonl --out metrics/experiments.json --report docs/experiments.md
"""

import argparse
from pathlib import Path

from kosparse.cli import run
from kosparse.errors import KosparseError
from kosparse.evaluation.compare import comparison, floor_sentence, hybrid_runs, intervals, variant_name
from kosparse.evaluation.experiments import adaptation_sentence, distillation_sentence, experiments_markdown
from kosparse.io import atomic_path, load_params, read_json, read_jsonl, write_json


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--params", default="params.yaml")
    parser.add_argument("--bm25", default="metrics/bm25.json")
    parser.add_argument("--variants", nargs="+", required=True, help="evaluated and trained variants (v1: reference)")
    parser.add_argument("--exported", nargs="+", required=True, help="exported variants (export_<v>.json)")
    parser.add_argument("--metrics-dir", default="metrics", help="holds the eval_, train_ and export_ files")
    parser.add_argument("--per-query-dir", default="data/eval", help="per-query nDCG@10 (bm25.json, <v>.json)")
    parser.add_argument("--mix", default="metrics/mix_v2_adapt.json", help="v2_adapt's training data")
    parser.add_argument("--teacher-scores", default="data/teacher/v1.jsonl", help="teacher_scores' triples")
    parser.add_argument("--out", default="metrics/experiments.json")
    parser.add_argument("--report", default="docs/experiments.md")
    args = parser.parse_args()
    params = load_params(args.params)
    metrics, per_query_dir = Path(args.metrics_dir), Path(args.per_query_dir)

    # 1. Every variant's evaluation and per-query runs, with BM25's, into one table and its paired intervals.
    evals = {}
    for variant in args.variants:
        path = metrics / f"eval_{variant}.json"
        evals[variant] = read_json(path)
        if variant_name(evals[variant]) != variant:
            raise KosparseError(f"{path}: holds {variant_name(evals[variant])!r}, not {variant!r}")
    hybrids = hybrid_runs(evals)
    table = comparison({**read_json(args.bm25), **hybrids}, evals)
    per_query = {name: runs for name in ("bm25", *args.variants)
                 for name, runs in read_json(per_query_dir / f"{name}.json").items()}  # fmt: skip
    deltas = intervals(per_query)

    # 2. The two verdicts: each variant against its baseline, decided by the intervals.
    distill = params["distill"]
    adapt_mix = read_json(args.mix)
    summary = {
        "test": table,
        "intervals": deltas,
        "floor": floor_sentence(deltas, args.variants),
        "adaptation": adaptation_sentence(deltas, params["mix"]["v2_adapt"]["real_sources"],
                                          params["experiments"]["adaptation_target"], adapt_mix["synthetic_used"]),
        "distillation": {"loss": distill["loss"], "teacher": distill["teacher"],
                         "triples": len(read_jsonl(args.teacher_scores)),
                         "verdict": distillation_sentence(deltas, distill["loss"], distill["teacher"])},
    }  # fmt: skip

    # 3. experiments.json for `dvc metrics`, experiments.md for people (with the training and export metrics).
    write_json(args.out, summary)
    trains = {v: read_json(metrics / f"train_{v}.json") for v in args.variants}
    exports = {v: read_json(metrics / f"export_{v}.json") for v in args.exported}
    with atomic_path(args.report) as tmp:
        tmp.write_text(experiments_markdown(summary, evals, exports, trains, adapt_mix), encoding="utf-8")


if __name__ == "__main__":
    run(main)
