"""Stage 11: docs/results.md, the results page, generated from the metric files (no number typed by hand).

    python -m scripts.11_report --compare metrics/compare.json \
        --variants v1 v2 v1_distill --metrics-dir metrics --out docs/results.md
"""

import argparse
from pathlib import Path

from kosparse.cli import run
from kosparse.io import atomic_path, read_json
from kosparse.report import results_markdown


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--compare", default="metrics/compare.json")
    parser.add_argument("--variants", nargs="+", default=["v1", "v2", "v1_distill"])
    parser.add_argument("--metrics-dir", default="metrics", help="holds eval_, train_ and export_<variant>.json")
    parser.add_argument("--synthesize", default="metrics/synthesize.json")
    parser.add_argument("--out", default="docs/results.md")
    args = parser.parse_args()
    metrics = Path(args.metrics_dir)

    # 1. Every variant's evaluation, training and export metrics.
    evals = {v: read_json(metrics / f"eval_{v}.json") for v in args.variants}
    trains = {v: read_json(metrics / f"train_{v}.json") for v in args.variants}
    exports = {v: read_json(metrics / f"export_{v}.json") for v in args.variants}

    # 2. One Markdown page.
    text = results_markdown(read_json(args.compare), evals, exports, trains, read_json(args.synthesize))
    with atomic_path(args.out) as tmp:
        Path(tmp).write_text(text, encoding="utf-8")


if __name__ == "__main__":
    run(main)
