"""Benchmark: the LLM layer's decode speed against raw llama.cpp on the same model and threads.

- raw: llama.cpp's own token loop (llama-cpp-python `generate`, no grammar, no
  chat template) continuing the same prompts;
- kosparse: `LlamaCppBackend.complete` with the doc2query template and its JSON
  schema grammar, as 05_synthesize runs it.
Target: kosparse decode tokens/s ≥ 90% of raw. Also reports how much of the
prompt llama.cpp re-evaluated (the shared few-shot prefix should be reused).

    python -m benchmarks.llm_speed [--docs 8]
"""

import argparse
import random

import llama_cpp

from kosparse import prompts
from kosparse.cli import run
from kosparse.io import load_params, read_jsonl
from kosparse.llm import LlamaCppBackend, Sampling


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
    parser.add_argument("--docs", type=int, default=8)
    args = parser.parse_args()
    params = load_params(args.params)
    cfg, c = params["llm"], params["llm"]["llama_cpp"]
    documents = random.Random(0).sample(read_jsonl(args.documents), args.docs)
    texts = [d["text"][: params["synthesize"]["max_doc_chars"]] for d in documents]

    schema = prompts.DOC2QUERY.schema(3, params["synthesize"]["query_chars"][1])
    messages = [prompts.doc2query_messages(t, 3) for t in texts]
    sampling = Sampling(0.0, 1.0, cfg["max_tokens"], params["seed"])
    print(f"model: {cfg['model']}  threads: {c['n_threads']}  prompts: {len(texts)}")
    for grammar in (c["grammar"], "always"):
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


if __name__ == "__main__":
    run(main)
