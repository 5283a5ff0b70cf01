"""Any OpenAI-compatible server (llama.cpp server, vLLM, Ollama, SGLang), a pool of base URLs."""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor, as_completed

from kosparse.errors import KosparseError
from kosparse.llm.base import Backend, Messages, Reply, Sampling, parse_reply


class OpenAIBackend(Backend):
    """A pool of OpenAI-compatible servers; the API key comes from the environment variable named in params."""

    def __init__(
        self,
        model_id: str,
        base_urls: list[str],
        api_key_env: str,
        concurrency: int,
        timeout_s: float,
        max_retries: int,
        response_format: str,
        retries: int,
    ):
        from openai import OpenAI

        if not base_urls:
            raise KosparseError("llm.openai.base_urls is empty: name at least one server")
        key = os.environ.get(api_key_env, "") if api_key_env else ""
        self.model_id, self.fingerprint, self.retries = model_id, model_id, retries
        self.format, self.base_urls = response_format, base_urls
        # The client retries connection errors and 5xx with exponential backoff itself.
        self.clients = [
            OpenAI(base_url=url, api_key=key or "no-key", timeout=timeout_s, max_retries=max_retries)
            for url in base_urls
        ]
        self.workers = max(1, concurrency) * len(self.clients)
        self._tokens = [0, 0, 0.0]  # prompt, completion, seconds of wall time per request

    def _response_format(self, schema: dict) -> dict | None:
        if self.format == "json_schema":  # vLLM, llama.cpp server, SGLang, Ollama
            return {"type": "json_schema", "json_schema": {"name": "reply", "schema": schema, "strict": True}}
        if self.format == "json_object":  # llama-cpp-python's server takes the schema here
            return {"type": "json_object", "schema": schema}
        return None

    def _one(self, index: int, messages: Messages, schema: dict, sampling: Sampling) -> Reply:
        import openai

        client = self.clients[index % len(self.clients)]
        reply = Reply(None)
        for attempt in range(self.retries + 1):
            started = time.perf_counter()
            kwargs = {"response_format": rf} if (rf := self._response_format(schema)) else {}
            try:
                out = client.chat.completions.create(
                    model=self.model_id,
                    messages=messages,
                    temperature=sampling.temperature,
                    top_p=sampling.top_p,
                    max_tokens=sampling.max_tokens,
                    seed=sampling.seed + attempt,
                    **kwargs,
                )
            except openai.APITimeoutError:
                reply = Reply(None, "timeout", seconds=reply.seconds + time.perf_counter() - started)
                continue
            except openai.APIConnectionError as e:
                raise KosparseError(f"LLM server {client.base_url} unreachable after its retries: {e}") from None
            choice = out.choices[0]
            # reasoning_content (vLLM, llama.cpp --reasoning-format) is never read: only the answer is data.
            data, error = parse_reply(choice.message.content, schema)
            if error and choice.finish_reason == "length":
                error = "truncated"
            usage = out.usage
            reply = Reply(
                data,
                error,
                reply.prompt_tokens + (usage.prompt_tokens if usage else 0),
                reply.completion_tokens + (usage.completion_tokens if usage else 0),
                reply.seconds + time.perf_counter() - started,
            )
            if data is not None:
                break
        return reply

    def complete(self, prompts: list[Messages], schema: dict, sampling: Sampling) -> Iterator[tuple[int, Reply]]:
        with ThreadPoolExecutor(self.workers) as pool:
            futures = {pool.submit(self._one, i, m, schema, sampling): i for i, m in enumerate(prompts)}
            try:
                for future in as_completed(futures):
                    reply = future.result()
                    self._tokens[0] += reply.prompt_tokens
                    self._tokens[1] += reply.completion_tokens
                    self._tokens[2] += reply.seconds
                    yield futures[future], reply
            finally:
                for future in futures:
                    future.cancel()

    def speed(self) -> dict:
        # A server reports no prompt/decode split: this is completion tokens per request-second.
        return {
            "prompt_tps": None,
            "decode_tps": round(self._tokens[1] / self._tokens[2], 2) if self._tokens[2] else None,
        }
