"""A GGUF model in process through llama-cpp-python."""

from __future__ import annotations

import time
from collections.abc import Iterator

from kosparse.errors import KosparseError
from kosparse.llm.base import Backend, Messages, Reply, Sampling, model_fingerprint, parse_reply
from kosparse.models import resolve


class LlamaCppBackend(Backend):
    def __init__(
        self,
        model_id: str,
        n_ctx: int,
        n_threads: int,
        n_gpu_layers: int | str,
        n_batch: int,
        retries: int,
        grammar: str = "fallback",
        parallel: int = 1,
    ):
        from llama_cpp import Llama

        if grammar not in ("fallback", "always"):
            raise KosparseError(f"llm.llama_cpp.grammar = {grammar!r}: choose fallback or always")
        if not isinstance(parallel, int) or parallel < 1:
            raise KosparseError(f"llm.llama_cpp.parallel = {parallel!r}: a whole number ≥ 1")
        if parallel > 1 and grammar == "always":
            raise KosparseError("llm.llama_cpp.parallel > 1 answers freely first: it needs grammar: fallback")
        self.grammar, self.parallel = grammar, parallel
        self.chunk_size = parallel if parallel > 1 else None

        path = resolve(model_id)
        layers = {"all": -1, "none": 0}.get(n_gpu_layers, n_gpu_layers)
        self.model_id, self.fingerprint, self.retries = model_id, model_fingerprint(model_id, "llama_cpp"), retries
        self.llm = Llama(
            model_path=str(path),
            n_ctx=n_ctx,
            n_threads=n_threads or None,
            n_threads_batch=n_threads or None,
            n_gpu_layers=layers,
            n_batch=n_batch,
            verbose=False,
        )
        self._prompt = [0, 0.0]  # tokens evaluated, seconds (the reused prefix costs nothing)
        self._decode = [0, 0.0]
        self.decoder = None
        if parallel > 1:
            from kosparse.llm.llama_parallel import ParallelDecoder

            self.decoder = ParallelDecoder(self.llm, parallel, n_ctx)

    def complete(self, prompts: list[Messages], schema: dict, sampling: Sampling) -> Iterator[tuple[int, Reply]]:
        """Chunks of `parallel` prompts: the first attempt decoded together, retries one by one under the grammar."""
        for start in range(0, len(prompts), self.parallel):
            fits = []
            for index, messages in enumerate(prompts[start : start + self.parallel], start):
                length = sum(len(self.llm.tokenize(m["content"].encode("utf-8"), add_bos=False)) for m in messages)
                if length + sampling.max_tokens + 16 * len(messages) > self.llm.n_ctx():  # 16: chat-template overhead
                    yield index, Reply(None, "context_overflow", prompt_tokens=length)
                else:
                    fits.append((index, messages))
            if self.decoder is None:
                for index, messages in fits:
                    yield index, self._attempts(messages, schema, sampling, 0, Reply(None))
                continue
            answers = self.decoder.generate(
                [self.decoder.tokens(m) for _, m in fits],
                sampling.temperature,
                sampling.top_p,
                sampling.max_tokens,
                sampling.seed,
            )
            for (index, messages), answer in zip(fits, answers, strict=True):
                data, error = parse_reply(answer.text, schema)
                if error and answer.truncated:
                    error = "truncated"
                self._prompt[0] += answer.prompt_evaluated
                self._prompt[1] += answer.prompt_seconds
                self._decode[0] += answer.completion_tokens
                self._decode[1] += answer.decode_seconds
                reply = Reply(data, error, answer.prompt_tokens, answer.completion_tokens,
                              answer.prompt_seconds + answer.decode_seconds, answer.prompt_evaluated,
                              answer.prompt_seconds, answer.decode_seconds)  # fmt: skip
                yield index, reply if data is not None else self._attempts(messages, schema, sampling, 1, reply)

    def _attempts(self, messages: Messages, schema: dict, sampling: Sampling, first: int, reply: Reply) -> Reply:
        """Attempts `first` … `retries` through create_chat_completion, adding their costs to `reply`."""
        constrained = {"response_format": {"type": "json_object", "schema": schema}}
        for attempt in range(first, self.retries + 1):
            started = time.perf_counter()
            self._perf_reset()
            # llama-cpp-python applies the grammar to the whole vocabulary before top-k, which costs
            # ~20-60% of decode speed; "fallback" asks freely first and constrains only a retry.
            use_grammar = self.grammar == "always" or attempt > 0
            out = self.llm.create_chat_completion(
                messages=messages,
                **(constrained if use_grammar else {}),
                temperature=sampling.temperature,
                top_p=sampling.top_p,
                max_tokens=sampling.max_tokens,
                seed=sampling.seed + attempt,
            )
            evaluated, prompt_seconds, decode_seconds = self._perf_add()
            choice = out["choices"][0]
            data, error = parse_reply(choice["message"].get("content"), schema)
            if error and choice.get("finish_reason") == "length":
                error = "truncated"
            usage = out["usage"]
            reply = Reply(
                data,
                error,
                reply.prompt_tokens + usage["prompt_tokens"],
                reply.completion_tokens + usage["completion_tokens"],
                reply.seconds + time.perf_counter() - started,
                reply.prompt_evaluated + evaluated,
                reply.prompt_seconds + prompt_seconds,
                reply.decode_seconds + decode_seconds,
            )
            if data is not None:
                break
        return reply

    def _perf_reset(self) -> None:
        import llama_cpp

        llama_cpp.llama_perf_context_reset(self.llm.ctx)

    def _perf_add(self) -> tuple[int, float, float]:
        import llama_cpp

        perf = llama_cpp.llama_perf_context(self.llm.ctx)
        self._prompt[0] += perf.n_p_eval
        self._prompt[1] += perf.t_p_eval_ms / 1000
        self._decode[0] += perf.n_eval
        self._decode[1] += perf.t_eval_ms / 1000
        return perf.n_p_eval, perf.t_p_eval_ms / 1000, perf.t_eval_ms / 1000

    def speed(self) -> dict:
        return {
            "prompt_tps": round(self._prompt[0] / self._prompt[1], 2) if self._prompt[1] else None,
            "decode_tps": round(self._decode[0] / self._decode[1], 2) if self._decode[1] else None,
            "prompt_tokens_evaluated": self._prompt[0],  # the rest came from the reused KV-cache prefix
        }
