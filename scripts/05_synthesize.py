"""Stage 05: synthetic Korean query–document pairs from a local LLM, filtered and counted.

    python -m scripts.05_synthesize --params params.yaml --collect-dir data/collect \
        --out-dir data/synthetic --metrics metrics/synthesize.json --times metrics/times/synthesize.json

Answers are cached outside the DVC outputs ($KOSPARSE_CACHE/llm, default
~/.cache/kosparse/llm), one line per LLM call, so an interrupted run resumes and
a larger `num_docs` reuses earlier answers. The model is loaded only when some
answer is missing.
"""

import argparse
import logging
import time
from collections import Counter
from pathlib import Path

from kosparse.cli import run
from kosparse.data.analyzers import KiwiAnalyzer
from kosparse.evaluation.retrieval import BM25Retriever
from kosparse.io import atomic_path, load_params, read_jsonl, write_json, write_jsonl
from kosparse.llm.answer_cache import cached_answers
from kosparse.llm.base import Sampling
from kosparse.llm.prompts import TEMPLATES
from kosparse.llm.synthesis import dedup_key, expand, pair_record, plan_tasks, round_trip, summarise, text_rules
from kosparse.memory import peak_memory
from kosparse.models import cache_root

log = logging.getLogger("05_synthesize")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--params", default="params.yaml")
    parser.add_argument("--collect-dir", default="data/collect")
    parser.add_argument("--out-dir", default="data/synthetic")
    parser.add_argument("--metrics", default="metrics/synthesize.json")
    parser.add_argument("--times", default="metrics/times/synthesize.json", help="speeds and wall time")
    parser.add_argument("--cache", default=None, help="answer cache file (default $KOSPARSE_CACHE/llm/answers.jsonl)")
    args = parser.parse_args()
    params = load_params(args.params)
    llm_cfg, cfg = params["llm"], params["synthesize"]
    started = time.perf_counter()

    # 1. Documents and real training pairs; the plan of LLM requests.
    collect = Path(args.collect_dir)
    documents = read_jsonl(collect / "documents.jsonl")
    train_pairs = read_jsonl(collect / "pairs_train.jsonl")
    tasks = plan_tasks(documents, train_pairs, cfg, params["seed"])
    sampling = Sampling(llm_cfg["temperature"], llm_cfg["top_p"], llm_cfg["max_tokens"], params["seed"])
    log.info("%d LLM requests planned (%s)", len(tasks), dict(Counter(t.kind for t in tasks)))

    # 2. Answers: from the cache, else from the model (loaded only if needed), each cached as it arrives.
    cache = Path(args.cache) if args.cache else cache_root() / "llm" / "answers.jsonl"
    requests = [(TEMPLATES[t.kind].version, t.schema, t.messages) for t in tasks]
    records, fresh, speed = cached_answers(llm_cfg, requests, sampling, cache)

    # 3. Candidates from schema-valid answers; the text rules, then the BM25 (Kiwi) round trip.
    candidates = [
        cand
        for index, (task, record) in enumerate(zip(tasks, records, strict=True))
        if record["data"] is not None
        for cand in expand(index, task, record["data"])
    ]
    seen = {dedup_key(p["query"]) for split in ("train", "validation", "test") for p in _pairs(collect, split)}
    kept, rejected = text_rules(candidates, cfg, seen)
    bm25 = params["evaluate"]["bm25"]
    analyzer = KiwiAnalyzer(params["evaluate"]["kiwi_keep_tags"])
    accepted, failed = round_trip(
        kept, documents, cfg["round_trip_k"], lambda: BM25Retriever("bm25_kiwi", analyzer, **bm25)
    )
    rejected += failed

    # 4. Outputs: accepted pairs, rejected candidates with their rule, and the counts.
    out = Path(args.out_dir)
    with atomic_path(out, is_dir=True) as tmp:
        write_jsonl(
            tmp / "pairs.jsonl", (pair_record(c, llm_cfg["model"], TEMPLATES[c.kind].version) for c in accepted)
        )
        write_jsonl(
            tmp / "rejected.jsonl",
            ({**pair_record(c, llm_cfg["model"], TEMPLATES[c.kind].version), "rule": r} for c, r in rejected),
        )
    llm_seconds = sum(r["seconds"] for r in records)
    metrics = {
        "model": llm_cfg["model"],
        "backend": llm_cfg["backend"],
        "generators": summarise(tasks, records, accepted, rejected),
        "requested": sum(t.expected for t in tasks),
        "accepted": len(accepted),
        "acceptance_rate": round(len(accepted) / max(1, sum(t.expected for t in tasks)), 4),
        "llm_requests": len(tasks),
        "prompt_tokens": sum(r["prompt_tokens"] for r in records),
        "completion_tokens": sum(r["completion_tokens"] for r in records),
    }
    # Speeds and wall time vary from run to run: their own file, which no stage depends on (compare reads
    # the counts above), so a re-run that accepts the same pairs re-runs nothing downstream.
    times = {
        "llm_requests_fresh": fresh,
        "llm_seconds": round(llm_seconds, 1),
        **tokens_per_second(records, speed),
        "accepted_pairs_per_hour": round(len(accepted) / (llm_seconds / 3600), 1) if llm_seconds else None,
        "wall_seconds": round(time.perf_counter() - started, 1),
        **peak_memory(),
    }
    write_json(args.times, times)
    write_json(args.metrics, metrics)
    log.info(
        "accepted %d of %d requested (%.1f%%)", len(accepted), metrics["requested"], 100 * metrics["acceptance_rate"]
    )


def tokens_per_second(records: list[dict], speed: dict) -> dict:
    """Prompt and decode tokens/s over every answer used (cached ones too), where the backend split them."""
    timed = [r for r in records if r.get("decode_seconds")]
    prompt_s, decode_s = sum(r["prompt_seconds"] for r in timed), sum(r["decode_seconds"] for r in timed)
    return {
        "prompt_tokens_per_s": round(sum(r["prompt_evaluated"] for r in timed) / prompt_s, 2) if prompt_s else None,
        "decode_tokens_per_s": round(sum(r["completion_tokens"] for r in timed) / decode_s, 2)
        if decode_s
        else speed.get("decode_tps"),
        "prompt_tokens_reused": sum(r["prompt_tokens"] - r["prompt_evaluated"] for r in timed),
    }


def _pairs(collect: Path, split: str) -> list[dict]:
    path = collect / f"pairs_{split}.jsonl"
    return read_jsonl(path) if path.exists() else []


if __name__ == "__main__":
    run(main)
