"""One interface to local LLMs: many chat prompts in, schema-valid JSON objects out.

Backends (params `llm.backend`):
- `llama_cpp`: a GGUF file in process through llama-cpp-python; the JSON schema
  becomes a grammar, and llama.cpp reuses the KV cache of the longest common
  prompt prefix, so a fixed system + few-shot prefix is evaluated once.
- `openai`: any OpenAI-compatible server (llama.cpp server, vLLM, Ollama,
  SGLang); a list of base URLs is a pool served by N concurrent requests each.
- `transformers`: a Hugging Face causal LM, batched with left padding and the
  model's chat template; the schema is enforced by validate-and-retry.

Every backend yields `(index, Reply)` as answers finish, so the caller can
persist each one before the next arrives; a reply is schema-valid data or a
named rejection, never raw text to execute.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import re
import resource
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass

import jsonschema

from kosparse.device import torch_device
from kosparse.errors import KosparseError
from kosparse.io import sha256_file
from kosparse.models import resolve

log = logging.getLogger(__name__)

Messages = list[dict[str, str]]

# Reasoning models put their thinking before the answer; it must never reach the data.
_THINK = re.compile(r"<think>.*?</think>", re.DOTALL)
_HARMONY_FINAL = re.compile(r"<\|channel\|>final<\|message\|>(.*?)(?:<\|end\|>|<\|return\|>|$)", re.DOTALL)


@dataclass(frozen=True)
class Sampling:
    temperature: float
    top_p: float
    max_tokens: int
    seed: int


@dataclass
class Reply:
    data: dict | None  # schema-valid object, or None with `error` set
    error: str | None = None  # counted rejection: empty, invalid_json, schema, timeout, truncated, context_overflow
    prompt_tokens: int = 0
    completion_tokens: int = 0
    seconds: float = 0.0
    # llama.cpp's own split, so tokens/s can be reported from cached answers too (0 where unknown)
    prompt_evaluated: int = 0  # prompt tokens actually computed (the rest came from the KV-cache prefix)
    prompt_seconds: float = 0.0
    decode_seconds: float = 0.0

    def to_record(self) -> dict:
        return {
            "data": self.data,
            "error": self.error,
            "prompt_tokens": self.prompt_tokens,
            "completion_tokens": self.completion_tokens,
            "seconds": round(self.seconds, 3),
            "prompt_evaluated": self.prompt_evaluated,
            "prompt_seconds": round(self.prompt_seconds, 3),
            "decode_seconds": round(self.decode_seconds, 3),
        }


def parse_reply(text: str | None, schema: dict) -> tuple[dict | None, str | None]:
    """The JSON object in a model's answer, validated against `schema`; else (None, reason)."""
    if text is None or not text.strip():
        return None, "empty"
    final = _HARMONY_FINAL.search(text)
    text = _THINK.sub("", final.group(1) if final else text).strip()
    start = text.find("{")
    if start < 0:
        return None, "invalid_json"
    try:
        data, _ = json.JSONDecoder().raw_decode(text[start:])
    except json.JSONDecodeError:
        return None, "invalid_json"
    try:
        jsonschema.validate(data, schema)
    except jsonschema.ValidationError:
        return None, "schema"
    return data, None


def peak_memory() -> dict:
    """Peak RSS of this process, and GPU memory where a GPU is in use."""
    report = {"peak_rss_gb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20, 2)}
    try:
        import torch

        if torch.cuda.is_available():
            report["gpu_allocated_gb"] = round(torch.cuda.max_memory_allocated() / 2**30, 2)
            report["gpu_reserved_gb"] = round(torch.cuda.max_memory_reserved() / 2**30, 2)
    except ImportError:
        pass
    try:  # llama.cpp allocates outside torch: ask the driver
        import pynvml

        pynvml.nvmlInit()
        info = pynvml.nvmlDeviceGetMemoryInfo(pynvml.nvmlDeviceGetHandleByIndex(0))
        report["gpu_used_gb_nvml"] = round(info.used / 2**30, 2)
    except Exception:  # no NVML library or no GPU: nothing to report
        pass
    return report


def model_fingerprint(model_id: str, backend: str) -> str:
    """Model id plus a digest of its weights: the answer cache must not mix two files under one id."""
    if backend == "openai":  # the server owns the weights; its model name is all we can know
        return model_id
    path = resolve(model_id)
    if path.is_file():
        digest = sha256_file(path)
    else:  # a model folder: hashing tens of GB per run is too slow, names and sizes tell versions apart
        files = sorted(
            p for p in path.rglob("*") if p.is_file() and p.suffix in {".json", ".safetensors", ".gguf", ".bin"}
        )
        listing = [(str(p.relative_to(path)), p.stat().st_size) for p in files]
        digest = hashlib.sha256(json.dumps(listing).encode()).hexdigest()
    return f"{model_id}@{digest[:16]}"


class Backend:
    """What every backend offers; `fingerprint` keys the answer cache (model id + weights hash)."""

    model_id: str
    fingerprint: str
    # None: any list of prompts. n: an answer depends on the other prompts of its chunk of n (a batch decoded
    # together), so a caller that must resume identically hands over the same chunks every time.
    chunk_size: int | None = None

    def complete(self, prompts: list[Messages], schema: dict, sampling: Sampling) -> Iterator[tuple[int, Reply]]:
        raise NotImplementedError

    def speed(self) -> dict:
        """Prompt and decode tokens/s measured so far (keys prompt_tps, decode_tps)."""
        return {}


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
            from kosparse.llama_parallel import ParallelDecoder

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


class TransformersBackend(Backend):
    """A causal LM through transformers: left-padded batches and the model's own chat template."""

    def __init__(
        self,
        model_id: str,
        gguf_file: str | None,
        dtype: str,
        device_map: str | None,
        max_memory: dict | None,
        batch_size: int,
        retries: int,
    ):
        import torch
        from transformers import AutoModelForCausalLM, AutoTokenizer

        path = resolve(model_id)
        if path.is_file():  # a single GGUF file: transformers loads it from its folder
            path, gguf_file = path.parent, path.name
        self.model_id, self.retries, self.batch_size = model_id, retries, batch_size
        self.chunk_size = batch_size  # padding makes an answer depend on the other prompts of its batch
        self.fingerprint = model_fingerprint(model_id, "transformers")
        extra = {"gguf_file": gguf_file} if gguf_file else {}
        self.tokenizer = AutoTokenizer.from_pretrained(path, padding_side="left", **extra)
        if self.tokenizer.pad_token is None:
            self.tokenizer.pad_token = self.tokenizer.eos_token
        self.model = AutoModelForCausalLM.from_pretrained(
            path, dtype=getattr(torch, dtype), device_map=device_map, max_memory=max_memory, **extra
        )
        if device_map is None:  # no placement asked for: the project's device (a GPU when there is one)
            self.model.to(torch_device())
        self.model.eval()
        self._prompt_tokens = 0
        self._decode = [0, 0.0]

    def _generate(self, batch: list[Messages], sampling: Sampling, seed: int) -> list[tuple[str, int, int, bool]]:
        import torch

        texts = [self.tokenizer.apply_chat_template(m, tokenize=False, add_generation_prompt=True) for m in batch]
        encoded = self.tokenizer(texts, return_tensors="pt", padding=True).to(self.model.device)
        torch.manual_seed(seed)
        sample = sampling.temperature > 0
        with torch.inference_mode():
            out = self.model.generate(
                **encoded,
                max_new_tokens=sampling.max_tokens,
                do_sample=sample,
                temperature=sampling.temperature if sample else None,
                top_p=sampling.top_p if sample else None,
                pad_token_id=self.tokenizer.pad_token_id,
            )
        new = out[:, encoded["input_ids"].shape[1] :]
        results = []
        for row, mask in zip(new, encoded["attention_mask"], strict=True):
            length = int((row != self.tokenizer.pad_token_id).sum())
            text = self.tokenizer.decode(row, skip_special_tokens=True)
            results.append((text, int(mask.sum()), length, length >= sampling.max_tokens))
        return results

    def complete(self, prompts: list[Messages], schema: dict, sampling: Sampling) -> Iterator[tuple[int, Reply]]:
        for start in range(0, len(prompts), self.batch_size):
            indices = list(range(start, min(start + self.batch_size, len(prompts))))
            replies = {i: Reply(None) for i in indices}
            pending = indices
            for attempt in range(self.retries + 1):
                if not pending:
                    break
                started = time.perf_counter()
                outputs = self._generate([prompts[i] for i in pending], sampling, sampling.seed + attempt)
                seconds = time.perf_counter() - started
                self._prompt_tokens += sum(o[1] for o in outputs)
                self._decode[0] += sum(o[2] for o in outputs)
                self._decode[1] += seconds
                for i, (text, n_prompt, n_new, hit_limit) in zip(pending, outputs, strict=True):
                    data, error = parse_reply(text, schema)
                    if error and hit_limit:
                        error = "truncated"
                    previous = replies[i]
                    replies[i] = Reply(
                        data,
                        error,
                        previous.prompt_tokens + n_prompt,
                        previous.completion_tokens + n_new,
                        previous.seconds + seconds / len(pending),
                    )
                pending = [i for i in pending if replies[i].data is None]
            yield from replies.items()

    def speed(self) -> dict:
        # generate() times prefill and decode together: new tokens over the whole time is a lower bound.
        return {
            "prompt_tps": None,
            "decode_tps": round(self._decode[0] / self._decode[1], 2) if self._decode[1] else None,
            "prompt_tokens_evaluated": self._prompt_tokens,  # no prefix reuse across batches
        }


def load_backend(cfg: dict) -> Backend:
    """The backend `llm.backend` names, built from its section of params."""
    kind, retries = cfg["backend"], cfg.get("retries", 1)
    if kind == "llama_cpp":
        c = cfg["llama_cpp"]
        return LlamaCppBackend(
            cfg["model"],
            c["n_ctx"],
            c["n_threads"],
            c["n_gpu_layers"],
            c["n_batch"],
            retries,
            c["grammar"],
            c.get("parallel", 1),
        )
    if kind == "openai":
        c = cfg["openai"]
        return OpenAIBackend(
            cfg["model"],
            c["base_urls"],
            c.get("api_key_env", ""),
            c["concurrency"],
            c["timeout_s"],
            c["max_retries"],
            c["response_format"],
            retries,
        )
    if kind == "transformers":
        c = cfg["transformers"]
        return TransformersBackend(
            cfg["model"],
            c.get("gguf_file"),
            c["dtype"],
            c.get("device_map"),
            c.get("max_memory"),
            c["batch_size"],
            retries,
        )
    raise KosparseError(f"llm.backend = {kind!r}: choose llama_cpp, openai or transformers")
