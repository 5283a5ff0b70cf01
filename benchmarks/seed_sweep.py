"""Seed sweep: train, serve and evaluate variants with several training seeds; test nDCG@10 mean ± sd.

A delta between two single runs mixes the effect with seed noise. This runs
the pipeline's own stage scripts (train → query_idf → encode → evaluate) for each
variant and seed, with a copy of params.yaml whose `seed` is replaced, into
reports/seed_sweep/ (outside DVC's outputs: the committed models stay as
they are). The data a variant trains on (`dvc.yaml`'s train item) and its
dictionary (its query_idf item) are the pipeline's, so run `make repro`
first. Per run ≈ 20 min of one 2-core CPU in the default profile.

    python -m benchmarks.seed_sweep --variants v1 v2 --seeds 1 2 3
    make sweep

Writes reports/seed_sweep.md (a table per variant and test set, then
mean ± sd) and keeps each run's metrics in reports/seed_sweep/<variant>_s<seed>/.
"""

import argparse
import json
import statistics
import subprocess
import sys
from pathlib import Path

import yaml

from kosparse.cli import run
from kosparse.io import atomic_path


def stage_items(dvc_yaml: Path) -> tuple[dict, dict]:
    """dvc.yaml's train items (pairs, negatives) and query_idf items (synonyms) by variant."""
    stages = yaml.safe_load(dvc_yaml.read_text(encoding="utf-8"))["stages"]
    return stages["train"]["foreach"], stages["query_idf"]["foreach"]


def summary_markdown(results: dict[str, dict[int, dict]]) -> str:
    """Per variant and test set: each seed's nDCG@10, then mean ± sd (sample sd over the seeds)."""
    lines = ["| variant | test set | nDCG@10 by seed | mean ± sd |", "|---|---|---|---|"]
    for variant, by_seed in results.items():
        datasets = sorted({d for r in by_seed.values() for d in r})
        for dataset in datasets:
            scores = {seed: r[dataset]["test"]["ndcg@10"] for seed, r in sorted(by_seed.items()) if dataset in r}
            values = list(scores.values())
            spread = statistics.stdev(values) if len(values) > 1 else float("nan")
            cells = ", ".join(f"{s}: {v:.4f}" for s, v in scores.items())
            lines.append(f"| {variant} | {dataset} | {cells} | {statistics.mean(values):.4f} ± {spread:.4f} |")
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--params", default="params.yaml")
    parser.add_argument("--variants", nargs="+", default=["v1", "v2"])
    parser.add_argument("--seeds", type=int, nargs="+", default=[1, 2, 3])
    parser.add_argument("--out-dir", default="reports/seed_sweep")
    parser.add_argument("--report", default="reports/seed_sweep.md")
    args = parser.parse_args()
    if len(args.seeds) < 2:
        raise SystemExit("--seeds: at least two, or there is no spread to report")
    train_items, serve_items = stage_items(Path("dvc.yaml"))
    params = yaml.safe_load(Path(args.params).read_text(encoding="utf-8"))
    out = Path(args.out_dir)

    results: dict[str, dict[int, dict]] = {}
    for variant in args.variants:
        for seed in args.seeds:
            # 1. A params copy with this seed; every other setting is the pipeline's.
            run_dir = out / f"{variant}_s{seed}"
            run_dir.mkdir(parents=True, exist_ok=True)
            seeded = run_dir / "params.yaml"
            seeded.write_text(yaml.safe_dump({**params, "seed": seed}, allow_unicode=True), encoding="utf-8")
            metrics = run_dir / "eval.json"
            if not metrics.exists():  # a finished run is kept: an interrupted sweep resumes
                item = train_items[variant]
                # 2. The stage scripts, as dvc.yaml runs them.
                for cmd in (
                    ["scripts.12_train", variant, "--pairs", item["pairs"], "--negatives", item["negatives"],
                     "--out", str(run_dir / "model"), "--curves", str(run_dir / "curves"),
                     "--metrics", str(run_dir / "train.json")],
                    ["scripts.13_query_idf", variant, "--model", str(run_dir / "model"),
                     "--synonyms", serve_items[variant]["synonyms"], "--trends", "data/trends/trends.json",
                     "--out", str(run_dir / "served"), "--metrics", str(run_dir / "query_idf.json")],
                    ["scripts.15_encode", "--model", str(run_dir / "served"), "--out", str(run_dir / "encoded"),
                     "--metrics", str(run_dir / "encode.json")],
                    ["scripts.16_evaluate", "sparse", "--model", str(run_dir / "served"), "--name", variant,
                     "--encoded", str(run_dir / "encoded"), "--out", str(run_dir / "eval.partial.json")],
                ):  # fmt: skip
                    subprocess.run([sys.executable, "-m", *cmd, "--params", str(seeded)], check=True)
                (run_dir / "eval.partial.json").rename(metrics)
            results.setdefault(variant, {})[seed] = json.loads(metrics.read_text(encoding="utf-8"))[variant]

    # 3. The table, written whole.
    text = f"Seed sweep (`python -m benchmarks.seed_sweep`), seeds {args.seeds}:\n\n" + summary_markdown(results)
    with atomic_path(args.report) as tmp:
        tmp.write_text(text, encoding="utf-8")
    print(text)


if __name__ == "__main__":
    run(main)
