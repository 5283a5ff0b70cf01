"""Stage 20: docs/results.md, the results page, generated from the metric files (no number typed by hand).

    python -m scripts.20_report --compare metrics/compare.json \
        --variants v1 v2 v1_distill v1_adapt v2_adapt v2_expanded --trained v1 v2 v1_distill v1_adapt v2_adapt \
        --exported v1 v2 v1_distill --metrics-dir metrics --out docs/results.md
"""

import argparse

from kosparse.cli import run
from kosparse.evaluation.report import results_page
from kosparse.io import atomic_path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--compare", default="metrics/compare.json")
    parser.add_argument("--variants", nargs="+", required=True, help="evaluated variants (eval_<v>.json)")
    parser.add_argument("--trained", nargs="+", required=True, help="trained variants (train_<v>.json)")
    parser.add_argument("--exported", nargs="+", required=True, help="exported variants (export_<v>.json)")
    parser.add_argument("--metrics-dir", default="metrics", help="holds the eval_, train_ and export_ files")
    parser.add_argument("--synthesize", default="metrics/synthesize.json")
    parser.add_argument("--out", default="docs/results.md")
    args = parser.parse_args()

    # 1. The page, from every variant's evaluation, training and export metrics.
    text = results_page(args.compare, args.synthesize, args.metrics_dir, args.variants, args.trained, args.exported)

    # 2. Written whole or not at all.
    with atomic_path(args.out) as tmp:
        tmp.write_text(text, encoding="utf-8")


if __name__ == "__main__":
    run(main)
