"""Benchmark: the LLM layer's speed — against raw llama.cpp, and doc2query throughput by parallel sequences.

1. Decode speed, one sequence: raw llama.cpp's own token loop (llama-cpp-python
   `generate`, no grammar, no chat template) against `LlamaCppBackend.complete`
   with the doc2query template and its schema, as 05_synthesize runs it.
   Target: kosparse decode tokens/s ≥ 90% of raw; also how much of the prompt
   was re-evaluated (the shared few-shot prefix should be reused).
2. Throughput: the same doc2query prompts answered with `parallel` = 1, 8, 16, 32
   sequences decoded together (params' sampling, grammar fallback); where the
   time goes (prefill vs decode) and schema-valid queries per hour of LLM time.
   The filters after the LLM (text rules, BM25 round trip) take seconds for a
   whole run; the accepted pairs per LLM-hour of a real run are in
   metrics/times/synthesize.json.

    python -m benchmarks.llm_speed [--docs 32] [--parallel 1 8 16 32] [--skip-raw]

The throughput table is also written to reports/llm_speed.md (docs/llm.md links it).
"""

import argparse
import datetime as dt
import os
import random
import time

import llama_cpp

from kosparse.cli import run
from kosparse.io import atomic_path, load_params, read_jsonl
from kosparse.llm import prompts
from kosparse.llm.base import Sampling
from kosparse.llm.llama_cpp import LlamaCppBackend


def raw_decode_tps(llm: llama_cpp.Llama, texts: list[str], tokens: int) -> float:
    """Decode tokens/s of llama.cpp's bare sampling loop (greedy) over `texts`."""
    n_eval, seconds = 0, 0.0
    for text in texts:
        llama_cpp.llama_perf_context_reset(llm.ctx)
        prompt = llm.tokenize(text.encode("utf-8"))
        for count, _ in enumerate(llm.generate(prompt, temp=0.0, reset=True), 1):
            if count >= tokens:
                break
        perf = llama_cpp.llama_perf_context(llm.ctx)
        n_eval, seconds = n_eval + perf.n_eval, seconds + perf.t_eval_ms / 1000
    return n_eval / seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--params", default="params.yaml")
    parser.add_argument("--documents", default="data/collect/documents.jsonl")
    parser.add_argument("--docs", type=int, default=32)
    parser.add_argument("--parallel", type=int, nargs="+", default=[1, 8, 16, 32], help="sequences decoded together")
    parser.add_argument("--skip-raw", action="store_true", help="only the throughput part")
    parser.add_argument("--out", default="reports/llm_speed.md", help="where the throughput table is written")
    args = parser.parse_args()
    params = load_params(args.params)
    cfg, c = params["llm"], params["llm"]["llama_cpp"]
    documents = random.Random(0).sample(read_jsonl(args.documents), args.docs)
    texts = [d["text"][: params["synthesize"]["max_doc_chars"]] for d in documents]

    per_doc = params["synthesize"]["doc2query"]["per_doc"]
    schema = prompts.DOC2QUERY.schema(per_doc, params["synthesize"]["query_chars"][1])
    messages = [prompts.doc2query_messages(t, per_doc) for t in texts]
    sampling = Sampling(0.0, 1.0, cfg["max_tokens"], params["seed"])
    print(f"model: {cfg['model']}  threads: {c['n_threads']}  prompts: {len(texts)}")
    # 1. One sequence: our loop against llama.cpp's own, with and without the grammar.
    for grammar in () if args.skip_raw else ("fallback", "always"):
        backend = LlamaCppBackend(
            cfg["model"], c["n_ctx"], c["n_threads"], c["n_gpu_layers"], c["n_batch"], cfg["retries"], grammar
        )
        replies = [reply for _, reply in backend.complete(messages, schema, sampling)]
        ours = backend.speed()
        mean_new = sum(r.completion_tokens for r in replies) / len(replies)
        # Same model object and threads, as many tokens per prompt as the JSON answers took.
        raw = raw_decode_tps(backend.llm, texts, max(8, round(mean_new)))
        prompt_total = sum(r.prompt_tokens for r in replies)
        evaluated = ours["prompt_tokens_evaluated"]
        valid = sum(r.data is not None for r in replies)
        print(f"grammar={grammar}: decode tok/s raw llama.cpp {raw:.2f}, kosparse {ours['decode_tps']:.2f} "
              f"→ {ours['decode_tps'] / raw:.1%} (target ≥ 90%); {valid}/{len(replies)} schema-valid")  # fmt: skip
        print(f"  prompt tok/s {ours['prompt_tps']:.1f}; evaluated {evaluated} of {prompt_total} prompt tokens "
              f"({1 - evaluated / prompt_total:.0%} reused from the KV cache)")  # fmt: skip
        del backend

    # 2. Throughput with params' sampling: what 05_synthesize would get per LLM-hour.
    sampled = Sampling(cfg["temperature"], cfg["top_p"], cfg["max_tokens"], params["seed"])
    table = [
        f"doc2query throughput, `{cfg['model']}`, {c['n_threads']} threads, {len(texts)} documents × {per_doc} "
        f"queries, {dt.date.today()} on {os.cpu_count()} CPUs (`python -m benchmarks.llm_speed`):",
        "",
        "| parallel | wall s | prefill s | decode s | valid answers | queries | queries per hour |",
        "|---|---|---|---|---|---|---|",
    ]
    for parallel in args.parallel:
        backend = LlamaCppBackend(
            cfg["model"], c["n_ctx"], c["n_threads"], c["n_gpu_layers"], c["n_batch"], cfg["retries"], "fallback",
            parallel,
        )  # fmt: skip
        started = time.perf_counter()
        replies = [reply for _, reply in backend.complete(messages, schema, sampled)]
        wall = time.perf_counter() - started
        valid = [r for r in replies if r.data is not None]
        queries = sum(len(r.data["queries"]) for r in valid)
        prefill, decode = sum(r.prompt_seconds for r in replies), sum(r.decode_seconds for r in replies)
        table.append(f"| {parallel} | {wall:.1f} | {prefill:.1f} | {decode:.1f} | {len(valid)}/{len(replies)} | "
                     f"{queries} | {queries / wall * 3600:,.0f} |")  # fmt: skip
        print(table[-1])
        del backend
    with atomic_path(args.out) as tmp:
        tmp.write_text("\n".join(table) + "\n", encoding="utf-8")


if __name__ == "__main__":
    run(main)
