"""Seed sweep: train, serve and evaluate variants with several training seeds; test nDCG@10 mean ± sd.

A delta between two single runs mixes the effect with seed noise. This runs
the pipeline's own stage scripts (train → query_idf → encode → evaluate) for each
variant and seed, with a copy of params.yaml whose `seed` is replaced, into
reports/<name>/ (outside DVC's outputs: the committed models stay as they
are). The data a variant trains on (`dvc.yaml`'s train item) and its
dictionary (its query_idf item) are the pipeline's, so run `make repro`
first. The seed params.yaml already holds is the pipeline's own run: its
metrics (metrics/eval_<variant>.json, data/eval/<variant>.json) are read, not
re-made, since training is deterministic on one host. Per new run ≈ 15 min of
one 2-core CPU in the default profile (120 training steps).

`--set key=value` changes the recipe of every run (e.g. a longer schedule);
the pipeline's own run is then not reused.

    python -m benchmarks.seed_sweep --variants v1 v2            # params' seed, 1, 2
    make sweep
    make adapt-long      # the adaptation pair at 540 steps (≈ 2 epochs of v2_adapt's pairs)

Writes reports/<name>.md (a table per variant and test set with mean ± sd,
then each variant's paired difference from the first, seed by seed, and
within each seed a 95% paired-bootstrap interval over the test queries) and
keeps each new run's metrics in reports/<name>/<variant>_s<seed>/.
"""

import argparse
import logging
import statistics
import subprocess
import sys
from pathlib import Path

import yaml

from kosparse.cli import run
from kosparse.errors import KosparseError
from kosparse.evaluation.compare import interval_points, interval_word, paired_interval
from kosparse.io import atomic_path, load_params, read_json
from kosparse.profiles import apply_profile

log = logging.getLogger("seed_sweep")


def stage_items(dvc_yaml: Path) -> tuple[dict, dict]:
    """dvc.yaml's train items (pairs, negatives) and query_idf items (synonyms) by variant."""
    stages = yaml.safe_load(dvc_yaml.read_text(encoding="utf-8"))["stages"]
    return stages["train"]["foreach"], stages["query_idf"]["foreach"]


def _mean_sd(values: list[float]) -> str:
    if len(values) < 2:  # one run: no spread to report
        return f"{values[0]:.4f}"
    return f"{statistics.mean(values):.4f} ± {statistics.stdev(values):.4f}"


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


def interval_markdown(per_query: dict[str, dict[int, dict]]) -> str:
    """Each later variant minus the first within each seed: test nDCG@10 points with a 95% paired interval."""
    baseline, *others = per_query
    lines = ["| difference | seed | test set | points [95% interval] |", "|---|---|---|---|"]
    for variant in others:
        for seed in sorted(set(per_query[variant]) & set(per_query[baseline])):
            runs, base = per_query[variant][seed], per_query[baseline][seed]
            for dataset in sorted(set(runs) & set(base)):
                interval = paired_interval(base[dataset]["test"], runs[dataset]["test"])
                lines.append(f"| {variant} − {baseline} | {seed} | {dataset} | "
                             f"{interval_points(interval)} {interval_word(interval)} |")  # fmt: skip
    return "\n".join(lines) + "\n"


def with_overrides(params: dict, assignments: list[str]) -> dict:
    """params with each `dotted.key=value` (value read as YAML) merged as a profile is: only keys params has."""
    for assignment in assignments:
        key, sep, value = assignment.partition("=")
        change = yaml.safe_load(value)
        for part in reversed(key.split(".")):
            change = {part: change}
        refused = KosparseError(f"--set {assignment!r}: expected key=value with a key params.yaml has")
        if not sep:
            raise refused
        try:
            params = apply_profile(params, change)
        except KosparseError as err:
            raise refused from err
    return params


def seeded_run(variant: str, params: dict, run_dir: Path, train_item: dict, serve_item: dict) -> Path:
    """Train, serve, encode and evaluate `variant` with `params` into run_dir; its eval.json (per_query.json beside).

    The stage scripts run as dvc.yaml runs them, on the pipeline's data. Each step is skipped once the file it
    writes last exists, so an interrupted run resumes at the step it was in (a killed encode does not retrain),
    and a run kept from before per-query files only re-evaluates.
    """
    train_json, query_idf_json, encode_json, metrics, per_query, partial = (
        run_dir / name
        for name in ("train.json", "query_idf.json", "encode.json", "eval.json", "per_query.json", "eval.partial.json")
    )
    seeded = run_dir / "params.yaml"
    recipe = yaml.safe_dump(params, allow_unicode=True)
    if seeded.exists() and seeded.read_text(encoding="utf-8") != recipe:
        raise KosparseError(f"{seeded}: made with other params; remove {run_dir} or choose another --name")
    run_dir.mkdir(parents=True, exist_ok=True)
    seeded.write_text(recipe, encoding="utf-8")
    steps = (  # each with the files it writes last
        ([train_json],
         ["scripts.12_train", variant, "--pairs", train_item["pairs"], "--negatives", train_item["negatives"],
          "--out", str(run_dir / "model"), "--curves", str(run_dir / "curves"), "--metrics", str(train_json)]),
        ([query_idf_json],
         ["scripts.13_query_idf", variant, "--model", str(run_dir / "model"),
          "--synonyms", serve_item["synonyms"], "--trends", "data/trends/trends.json",
          "--out", str(run_dir / "served"), "--metrics", str(query_idf_json)]),
        ([encode_json],
         ["scripts.15_encode", "--model", str(run_dir / "served"), "--out", str(run_dir / "encoded"),
          "--metrics", str(encode_json)]),
        ([metrics, per_query],
         ["scripts.16_evaluate", "sparse", "--model", str(run_dir / "served"), "--name", variant,
          "--encoded", str(run_dir / "encoded"), "--out", str(partial), "--per-query", str(per_query)]),
    )  # fmt: skip
    for written, cmd in steps:
        if not all(path.exists() for path in written):
            subprocess.run([sys.executable, "-m", *cmd, "--params", str(seeded)], check=True)
    if partial.exists():
        partial.replace(metrics)
    return metrics


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--params", default="params.yaml")
    parser.add_argument("--variants", nargs="+", default=["v1", "v2"])
    parser.add_argument("--seeds", type=int, nargs="+", help="default: params.yaml's seed (the pipeline's run), 1, 2")
    parser.add_argument("--set", dest="overrides", action="append", default=[], metavar="KEY=VALUE",
                        help="recipe change for every run, e.g. train.max_steps=540 (repeatable)")  # fmt: skip
    parser.add_argument("--name", default="seed_sweep", help="runs in reports/<name>/, tables in reports/<name>.md")
    args = parser.parse_args()
    train_items, serve_items = stage_items(Path("dvc.yaml"))
    params = load_params(args.params)
    recipe = with_overrides(params, args.overrides)
    own_run_reused = not args.overrides  # a changed recipe is not the pipeline's run
    seeds = args.seeds or list(dict.fromkeys([params["seed"], 1, 2]))
    out_dir = Path("reports") / args.name

    results: dict[str, dict[int, dict]] = {}
    per_query: dict[str, dict[int, dict]] = {}
    for variant in args.variants:
        for seed in seeds:
            if seed == params["seed"] and own_run_reused:  # 1. The pipeline's own run
                metrics, queries = Path(f"metrics/eval_{variant}.json"), Path(f"data/eval/{variant}.json")
            else:
                run_dir = out_dir / f"{variant}_s{seed}"
                metrics = seeded_run(variant, {**recipe, "seed": seed}, run_dir, train_items[variant],
                                     serve_items[variant])  # fmt: skip
                queries = run_dir / "per_query.json"
            results.setdefault(variant, {})[seed] = read_json(metrics)[variant]
            if queries.exists():
                per_query.setdefault(variant, {})[seed] = read_json(queries)[variant]
            else:  # the pipeline's run before `make repro` here (data/eval is a DVC output)
                log.warning("%s: missing, so no interval for %s seed %s", queries, variant, seed)

    # 2. The tables, written whole.
    own = f" (seed {params['seed']}: the pipeline's run)" if params["seed"] in seeds and own_run_reused else ""
    changed = f", recipe changed: `{' '.join(args.overrides)}`" if args.overrides else ""
    text = f"`python -m benchmarks.seed_sweep`, seeds {seeds}{own}{changed}. Test nDCG@10:\n\n"
    text += summary_markdown(results)
    if len(results) > 1:
        text += "\nPaired by seed:\n\n" + delta_markdown(results)
    if len(per_query) > 1:
        text += "\nWithin each seed, over the test queries:\n\n" + interval_markdown(per_query)
    with atomic_path(f"reports/{args.name}.md") as tmp:
        tmp.write_text(text, encoding="utf-8")
    print(text)


if __name__ == "__main__":
    run(main)
