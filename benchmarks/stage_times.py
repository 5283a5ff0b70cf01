"""Wall time and peak RSS of each pipeline stage, measured by running `dvc repro` one stage at a time.

    python -m benchmarks.stage_times                  # stages DVC finds changed (the rest take ~1 s: skipped)
    python -m benchmarks.stage_times --force          # every stage from scratch: the full-run table
    python -m benchmarks.stage_times --target report  # what `make repro` runs (report and the stages it needs)
    python -m benchmarks.stage_times --stages synthesize train@v2
    python -m benchmarks.stage_times --table          # latest measured run of every stage, from the log

Stages run in dependency order; each one's peak RSS is that of its largest
process (os.wait4); where nvidia-smi exists, peak GPU memory in use is polled
too. Rows are appended to reports/stage_times.jsonl with the
date and host (and whether the stage ran or DVC skipped it), so measurements
from several runs can be tabulated together; the Markdown table of the stages
that ran is printed, and docs/stage_times.md is rewritten with the latest
measured run of every stage (the per-stage table docs/results.md links to),
totalled separately for `make repro` (report and everything upstream of it) and
for what `make experiments` adds.
"""

import argparse
import datetime as dt
import json
import os
import platform
import shutil
import subprocess
import sys
import threading
import time
from pathlib import Path

from kosparse.io import atomic_path

DEFAULT_TARGET = "report"  # what `make repro` asks DVC for (Makefile)


def stage_order(target: str | None = None) -> list[str]:
    """Every stage in dependency order, or only those `dvc repro <target>` runs (target and its upstream)."""
    import networkx as nx
    from dvc.repo import Repo

    with Repo(".") as repo:
        graph = repo.index.graph
        if target:
            (node,) = (s for s in graph.nodes if s.name == target)
            graph = graph.subgraph({node, *nx.descendants(graph, node)})  # edges point from a stage to its deps
        return [stage.name for stage in reversed(list(nx.topological_sort(graph))) if stage.name != "dvc.yaml"]


def changed(stage: str) -> bool:
    out = subprocess.run(
        [sys.executable, "-m", "dvc", "status", "--json", stage], capture_output=True, text=True, check=True
    ).stdout
    return bool(json.loads(out or "{}"))


class GpuMemoryPoller:
    """Peak GPU memory in use while a stage runs, polled from nvidia-smi (device-wide, every 0.5 s)."""

    def __init__(self):
        self.peak_mib, self._stop = 0.0, threading.Event()
        self._thread = threading.Thread(target=self._poll, daemon=True) if shutil.which("nvidia-smi") else None

    def _poll(self) -> None:
        query = ["nvidia-smi", "--query-gpu=memory.used", "--format=csv,noheader,nounits"]
        while not self._stop.wait(0.5):
            out = subprocess.run(query, capture_output=True, text=True, check=False).stdout
            self.peak_mib = max([self.peak_mib, *(float(v) for v in out.split() if v.strip())])

    def __enter__(self):
        if self._thread:
            self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        if self._thread:
            self._thread.join()


def run_stage(stage: str, force: bool) -> dict:
    ran = force or changed(stage)
    cmd = [sys.executable, "-m", "dvc", "repro", "--single-item", *(["--force"] if force else []), stage]
    started = time.perf_counter()
    with GpuMemoryPoller() as gpu:
        proc = subprocess.Popen(cmd)
        _, status, usage = os.wait4(proc.pid, 0)
    row = {
        "stage": stage,
        "ran": ran,
        "wall_s": round(time.perf_counter() - started, 1),
        "peak_rss_gb": round(usage.ru_maxrss / 1024**2, 2),  # Linux reports KiB
        "ok": os.waitstatus_to_exitcode(status) == 0,
    }
    if gpu._thread:
        row["peak_gpu_gb"] = round(gpu.peak_mib / 1024, 2)
    return row


def _gb(value: float | None) -> str:
    return "—" if value is None else f"{value:.2f} GB"


def markdown(rows: list[dict], total_label: str = "total") -> str:
    lines = ["| stage | wall | peak RSS | peak GPU memory | measured |", "|---|---|---|---|---|"]
    lines += [
        f"| {r['stage']} | {r['wall_s'] / 60:.1f} min | {r['peak_rss_gb']:.2f} GB | "
        f"{_gb(r.get('peak_gpu_gb'))} | {r['date'][:16]} |"
        for r in rows
    ]
    total = sum(r["wall_s"] for r in rows)
    lines.append(
        f"| **{total_label}** | **{total / 60:.0f} min** | **{max(r['peak_rss_gb'] for r in rows):.2f} GB** | |"
    )
    return "\n".join(lines)


def latest_rows(log: str, order: list[str]) -> list[dict]:
    """The latest successful run of every stage in the log, in pipeline order."""
    latest = {}
    for line in Path(log).read_text(encoding="utf-8").splitlines():
        row = json.loads(line)
        if row["ran"] and row["ok"]:
            latest[row["stage"]] = row
    return [latest[s] for s in order if s in latest]


def write_doc(path: str, rows: list[dict], default_run: set[str]) -> None:
    """The latest run of each stage: first the stages `make repro` runs, then those `make experiments` adds."""
    core = [r for r in rows if r["stage"] in default_run]
    extra = [r for r in rows if r["stage"] not in default_run]
    text = (
        "<!-- Generated by `python -m benchmarks.stage_times` from reports/stage_times.jsonl. Do not edit. -->\n\n"
        "# Time and memory per stage\n\n"
        "The latest measured run of each stage (the `measured` column says when; hosts: "
        + ", ".join(sorted({f"{r['host']} ({r['cpus']} CPUs)" for r in rows}))
        + "). A stage's time includes DVC's own overhead. Stages are listed in the order they run.\n\n"
        "## `make repro` (the default run: `report` and every stage it needs)\n\n"
        + markdown(core, "make repro")
        + "\n"
        + ("\n## `make experiments` adds (the adaptation pair, distillation)\n\n"
           + markdown(extra, "make experiments adds") + "\n" if extra else "")
    )  # fmt: skip
    with atomic_path(path) as tmp:
        tmp.write_text(text, encoding="utf-8")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--stages", nargs="*", help="these stages only (default: all, in dependency order)")
    parser.add_argument("--target", help="only the stages `dvc repro TARGET` runs (e.g. report: `make repro`'s)")
    parser.add_argument("--force", action="store_true", help="re-run stages even when DVC finds them unchanged")
    parser.add_argument("--log", default="reports/stage_times.jsonl")
    parser.add_argument("--table", action="store_true", help="only print the latest run of every stage in the log")
    parser.add_argument("--doc", default="docs/stage_times.md", help="where the latest-run table is written")
    args = parser.parse_args()
    order, default_run = stage_order(), set(stage_order(DEFAULT_TARGET))
    if args.table:
        latest = latest_rows(args.log, order)
        print(markdown(latest))
        write_doc(args.doc, latest, default_run)
        return
    stages = stage_order(args.target) if args.target else order
    stages = [s for s in stages if s in set(args.stages)] if args.stages else stages
    context = {"date": dt.datetime.now().isoformat(timespec="seconds"), "host": platform.node(), "cpus": os.cpu_count()}
    rows = []
    for stage in stages:
        row = {**run_stage(stage, args.force), **context}
        rows.append(row)
        with open(args.log, "a", encoding="utf-8") as f:
            f.write(json.dumps(row, ensure_ascii=False, sort_keys=True) + "\n")
        if not row["ok"]:
            sys.exit(f"stage {stage} failed; times so far are in {args.log}")
    print(markdown([r for r in rows if r["ran"]]))
    write_doc(args.doc, latest_rows(args.log, order), default_run)


if __name__ == "__main__":
    Path("reports").mkdir(exist_ok=True)
    main()
