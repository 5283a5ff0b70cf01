"""A Hugging Face causal LM, batched with left padding and its chat template."""

from __future__ import annotations

import time
from collections.abc import Iterator

from kosparse.device import torch_device
from kosparse.llm.base import Backend, Messages, Reply, Sampling, model_fingerprint, parse_reply
from kosparse.models import resolve


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
