"""Wall time and peak RSS of each pipeline stage, measured by running `dvc repro` one stage at a time.

    python -m benchmarks.stage_times                  # stages DVC finds changed (the rest take ~1 s: skipped)
    python -m benchmarks.stage_times --force          # every stage from scratch: the full-run table
    python -m benchmarks.stage_times --stages synthesize train@v2

Stages run in dependency order; each one's peak RSS is that of its largest
process (os.wait4). Rows are appended to reports/stage_times.jsonl with the
date and host, so measurements from several runs can be tabulated together;
the Markdown table of this run is printed.
"""

import argparse
import datetime as dt
import json
import os
import platform
import subprocess
import sys
import time
from pathlib import Path


def stage_order() -> list[str]:
    import networkx as nx
    from dvc.repo import Repo

    with Repo(".") as repo:
        graph = repo.index.graph
        return [stage.name for stage in reversed(list(nx.topological_sort(graph))) if stage.name != "dvc.yaml"]


def run_stage(stage: str, force: bool) -> dict:
    cmd = [sys.executable, "-m", "dvc", "repro", "--single-item", *(["--force"] if force else []), stage]
    started = time.perf_counter()
    proc = subprocess.Popen(cmd)
    _, status, usage = os.wait4(proc.pid, 0)
    return {
        "stage": stage,
        "wall_s": round(time.perf_counter() - started, 1),
        "peak_rss_gb": round(usage.ru_maxrss / 1024**2, 2),  # Linux reports KiB
        "ok": os.waitstatus_to_exitcode(status) == 0,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--stages", nargs="*", help="these stages only (default: all, in dependency order)")
    parser.add_argument("--force", action="store_true", help="re-run stages even when DVC finds them unchanged")
    parser.add_argument("--log", default="reports/stage_times.jsonl")
    args = parser.parse_args()
    order = stage_order()
    stages = [s for s in order if s in set(args.stages)] if args.stages else order
    context = {"date": dt.datetime.now().isoformat(timespec="seconds"), "host": platform.node(), "cpus": os.cpu_count()}
    rows = []
    for stage in stages:
        row = {**run_stage(stage, args.force), **context}
        rows.append(row)
        with open(args.log, "a", encoding="utf-8") as f:
            f.write(json.dumps(row, ensure_ascii=False, sort_keys=True) + "\n")
        if not row["ok"]:
            sys.exit(f"stage {stage} failed; times so far are in {args.log}")
    print("| stage | wall | peak RSS |\n|---|---|---|")
    for row in rows:
        print(f"| {row['stage']} | {row['wall_s'] / 60:.1f} min | {row['peak_rss_gb']:.2f} GB |")
    total = sum(r["wall_s"] for r in rows)
    print(f"| **total** | **{total / 60:.1f} min** | **{max(r['peak_rss_gb'] for r in rows):.2f} GB** |")


if __name__ == "__main__":
    Path("reports").mkdir(exist_ok=True)
    main()
