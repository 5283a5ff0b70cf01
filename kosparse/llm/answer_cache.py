"""Append-only cache of LLM answers, the reason generation resumes without losing or repeating work.

Each answer is one JSON line keyed by everything that determines it (model
fingerprint, the backend's decoding settings, prompt-template version,
sampling, schema, the prompt itself). A line is flushed and fsynced before the
next call starts, so a SIGKILL loses at most the answer in flight; a torn last
line is cut off on the next open.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
from dataclasses import asdict
from pathlib import Path

from tqdm import tqdm

from kosparse.llm.backends import decoding_settings, load_backend
from kosparse.llm.base import Messages, Sampling, model_fingerprint

log = logging.getLogger(__name__)


def answer_key(
    fingerprint: str, decoding: dict, template_version: str, sampling: Sampling, schema: dict, messages: Messages
) -> str:
    blob = json.dumps(
        {
            "model": fingerprint,
            "decoding": decoding,
            "template": template_version,
            "sampling": asdict(sampling),
            "schema": schema,
            "messages": messages,
        },
        ensure_ascii=False,
        sort_keys=True,
    )
    return hashlib.sha256(blob.encode("utf-8")).hexdigest()


class AnswerCache:
    def __init__(self, path: str | Path):
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.answers: dict[str, dict] = {}
        if self.path.exists():
            self._load()
        self._file = open(self.path, "a", encoding="utf-8")

    def _load(self) -> None:
        raw = self.path.read_bytes()
        complete = raw[: raw.rfind(b"\n") + 1]
        if len(complete) < len(raw):  # killed mid-write: drop the torn tail
            log.warning("%s: dropping a torn last line (%d bytes)", self.path, len(raw) - len(complete))
            with open(self.path, "r+b") as f:
                f.truncate(len(complete))
        for line in complete.decode("utf-8").splitlines():
            record = json.loads(line)
            self.answers[record["key"]] = record

    def get(self, key: str) -> dict | None:
        return self.answers.get(key)

    def put(self, key: str, record: dict) -> None:
        record = {**record, "key": key}
        self._file.write(json.dumps(record, ensure_ascii=False, sort_keys=True) + "\n")
        self._file.flush()
        os.fsync(self._file.fileno())
        self.answers[key] = record

    def close(self) -> None:
        self._file.close()

    def __enter__(self) -> AnswerCache:
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def cached_answers(
    llm_cfg: dict, requests: list[tuple[str, dict, Messages]], sampling: Sampling, cache_path: str | Path
) -> tuple[list[dict], int, dict]:
    """One answer record per (template version, schema, messages) request, in request order.

    Cached answers are reused; the model is loaded only if some are missing, and each
    new answer is cached as it arrives. Returns (records, fresh answers, backend speed).
    """
    fingerprint, decoding = model_fingerprint(llm_cfg["model"], llm_cfg["backend"]), decoding_settings(llm_cfg)
    keys = [
        answer_key(fingerprint, decoding, version, sampling, schema, messages) for version, schema, messages in requests
    ]
    speed: dict = {}
    with AnswerCache(cache_path) as cache:
        missing = [i for i, key in enumerate(keys) if cache.get(key) is None]
        if missing:
            log.info(
                "%d answers cached, %d to generate with %s", len(keys) - len(missing), len(missing), llm_cfg["model"]
            )
            backend = load_backend(llm_cfg)
            by_schema: dict[str, list[int]] = {}
            for i in range(len(keys)):  # backends take one schema per call: group requests that share one
                by_schema.setdefault(json.dumps(requests[i][1], sort_keys=True), []).append(i)
            # A backend that decodes chunk_size prompts together gets chunks fixed by request order, not by
            # what is missing, so a resumed run sees the same chunks and gets the same answers.
            todo, size = set(missing), backend.chunk_size
            if size is None:
                chunks = [chunk for group in by_schema.values() if (chunk := [i for i in group if i in todo])]
            else:
                chunks = [
                    chunk
                    for group in by_schema.values()
                    for start in range(0, len(group), size)
                    if todo.intersection(chunk := group[start : start + size])
                ]
            with tqdm(total=len(missing), desc="llm", unit="request") as progress:
                for chunk in chunks:
                    replies = backend.complete([requests[i][2] for i in chunk], requests[chunk[0]][1], sampling)
                    for position, reply in replies:
                        if chunk[position] in todo:
                            cache.put(keys[chunk[position]], reply.to_record())
                            progress.update()
            speed = backend.speed()
        return [cache.answers[key] for key in keys], len(missing), speed
