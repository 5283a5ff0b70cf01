"""Seed sweep: train, serve and evaluate variants with several training seeds; test nDCG@10 mean ± sd.

A delta between two single runs mixes the effect with seed noise. This runs
the pipeline's own stage scripts (train → query_idf → encode → evaluate) for each
variant and seed, with a copy of params.yaml whose `seed` is replaced, into
reports/seed_sweep/ (outside DVC's outputs: the committed models stay as
they are). The data a variant trains on (`dvc.yaml`'s train item) and its
dictionary (its query_idf item) are the pipeline's, so run `make repro`
first. The seed params.yaml already holds is the pipeline's own run: its
metrics (metrics/eval_<variant>.json) are read, not re-made, since training
is deterministic on one host. Per new run ≈ 15 min of one 2-core CPU in the
default profile.

    python -m benchmarks.seed_sweep --variants v1 v2            # params' seed, 1, 2
    make sweep

Writes reports/seed_sweep.md (a table per variant and test set with mean ± sd,
then each variant's paired difference from the first, seed by seed) and keeps
each new run's metrics in reports/seed_sweep/<variant>_s<seed>/.
"""

import argparse
import statistics
import subprocess
import sys
from pathlib import Path

import yaml

from kosparse.cli import run
from kosparse.io import atomic_path, read_json


def stage_items(dvc_yaml: Path) -> tuple[dict, dict]:
    """dvc.yaml's train items (pairs, negatives) and query_idf items (synonyms) by variant."""
    stages = yaml.safe_load(dvc_yaml.read_text(encoding="utf-8"))["stages"]
    return stages["train"]["foreach"], stages["query_idf"]["foreach"]


def _mean_sd(values: list[float]) -> str:
    spread = statistics.stdev(values) if len(values) > 1 else float("nan")
    return f"{statistics.mean(values):.4f} ± {spread:.4f}"


def summary_markdown(results: dict[str, dict[int, dict]]) -> str:
    """Per variant and test set: each seed's nDCG@10, then mean ± sd (sample sd over the seeds)."""
    lines = ["| variant | test set | nDCG@10 by seed | mean ± sd |", "|---|---|---|---|"]
    for variant, by_seed in results.items():
        datasets = sorted({d for r in by_seed.values() for d in r})
        for dataset in datasets:
            scores = {seed: r[dataset]["test"]["ndcg@10"] for seed, r in sorted(by_seed.items()) if dataset in r}
            cells = ", ".join(f"{s}: {v:.4f}" for s, v in scores.items())
            lines.append(f"| {variant} | {dataset} | {cells} | {_mean_sd(list(scores.values()))} |")
    return "\n".join(lines) + "\n"


def delta_markdown(results: dict[str, dict[int, dict]]) -> str:
    """Each later variant minus the first, seed by seed (same seed, same test queries), then mean ± sd."""
    baseline, *others = results
    lines = ["| difference | test set | nDCG@10 difference by seed | mean ± sd |", "|---|---|---|---|"]
    for variant in others:
        pairs = {
            s: (results[variant][s], results[baseline][s])
            for s in sorted(set(results[variant]) & set(results[baseline]))
        }
        for dataset in sorted({d for variant_run, base in pairs.values() for d in variant_run if d in base}):
            deltas = {
                s: variant_run[dataset]["test"]["ndcg@10"] - base[dataset]["test"]["ndcg@10"]
                for s, (variant_run, base) in pairs.items()
                if dataset in variant_run and dataset in base
            }
            cells = ", ".join(f"{s}: {v:+.4f}" for s, v in deltas.items())
            lines.append(f"| {variant} − {baseline} | {dataset} | {cells} | {_mean_sd(list(deltas.values()))} |")
    return "\n".join(lines) + "\n"


def seeded_run(variant: str, params: dict, run_dir: Path, train_item: dict, serve_item: dict) -> Path:
    """Train, serve, encode and evaluate `variant` with `params` into run_dir; its eval.json.

    The stage scripts run as dvc.yaml runs them, on the pipeline's data; a finished run is kept, so an
    interrupted sweep resumes.
    """
    metrics = run_dir / "eval.json"
    if metrics.exists():
        return metrics
    run_dir.mkdir(parents=True, exist_ok=True)
    seeded = run_dir / "params.yaml"
    seeded.write_text(yaml.safe_dump(params, allow_unicode=True), encoding="utf-8")
    for cmd in (
        ["scripts.12_train", variant, "--pairs", train_item["pairs"], "--negatives", train_item["negatives"],
         "--out", str(run_dir / "model"), "--curves", str(run_dir / "curves"),
         "--metrics", str(run_dir / "train.json")],
        ["scripts.13_query_idf", variant, "--model", str(run_dir / "model"),
         "--synonyms", serve_item["synonyms"], "--trends", "data/trends/trends.json",
         "--out", str(run_dir / "served"), "--metrics", str(run_dir / "query_idf.json")],
        ["scripts.15_encode", "--model", str(run_dir / "served"), "--out", str(run_dir / "encoded"),
         "--metrics", str(run_dir / "encode.json")],
        ["scripts.16_evaluate", "sparse", "--model", str(run_dir / "served"), "--name", variant,
         "--encoded", str(run_dir / "encoded"), "--out", str(run_dir / "eval.partial.json")],
    ):  # fmt: skip
        subprocess.run([sys.executable, "-m", *cmd, "--params", str(seeded)], check=True)
    (run_dir / "eval.partial.json").rename(metrics)
    return metrics


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--params", default="params.yaml")
    parser.add_argument("--variants", nargs="+", default=["v1", "v2"])
    parser.add_argument("--seeds", type=int, nargs="+", help="default: params.yaml's seed (the pipeline's run), 1, 2")
    parser.add_argument("--out-dir", default="reports/seed_sweep")
    parser.add_argument("--report", default="reports/seed_sweep.md")
    args = parser.parse_args()
    train_items, serve_items = stage_items(Path("dvc.yaml"))
    params = yaml.safe_load(Path(args.params).read_text(encoding="utf-8"))
    seeds = args.seeds or list(dict.fromkeys([params["seed"], 1, 2]))
    if len(seeds) < 2:
        raise SystemExit("--seeds: at least two, or there is no spread to report")

    results: dict[str, dict[int, dict]] = {}
    for variant in args.variants:
        for seed in seeds:
            if seed == params["seed"]:  # 1. The pipeline's own run
                metrics = Path(f"metrics/eval_{variant}.json")
            else:
                run_dir = Path(args.out_dir) / f"{variant}_s{seed}"
                metrics = seeded_run(variant, {**params, "seed": seed}, run_dir, train_items[variant],
                                     serve_items[variant])  # fmt: skip
            results.setdefault(variant, {})[seed] = read_json(metrics)[variant]

    # 2. The tables, written whole.
    own = f" (seed {params['seed']}: the pipeline's run)" if params["seed"] in seeds else ""
    text = f"Seed sweep (`python -m benchmarks.seed_sweep`), seeds {seeds}{own}. Test nDCG@10:\n\n"
    text += summary_markdown(results)
    if len(results) > 1:
        text += "\nPaired by seed:\n\n" + delta_markdown(results)
    with atomic_path(args.report) as tmp:
        tmp.write_text(text, encoding="utf-8")
    print(text)


if __name__ == "__main__":
    run(main)
