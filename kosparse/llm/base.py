"""What every LLM backend shares: messages, sampling, replies parsed against a schema, the model fingerprint."""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass

import jsonschema

from kosparse.io import sha256_file
from kosparse.models import resolve

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
