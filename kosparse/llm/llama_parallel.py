"""Several chat prompts decoded together by llama.cpp: one forward pass per step for every open answer.

Why: on a CPU, decoding one sequence is bound by memory bandwidth (every step
reads all the weights for one token), so a step that carries 4-8 tokens costs
little more than one. llama-cpp-python's `Llama` decodes one sequence; its
low-level API (batches with sequence ids, per-sequence samplers) does the rest,
which is what llama.cpp's own `llama-parallel` example does. Prompts of one
template share their system turn and few-shot examples: that prefix is
evaluated once per chunk and copied to every sequence's KV cells.

Each chunk starts from an empty KV cache, so its answers depend only on the
chunk's prompts and the sampling, not on what ran before: `answer_cache` gives
the backend fixed chunks, and a resumed run regenerates the same answers.
"""

from __future__ import annotations

import ctypes
import time
from dataclasses import dataclass

import llama_cpp
from llama_cpp import llama_chat_format

from kosparse.errors import KosparseError

Messages = list[dict[str, str]]


@dataclass
class Answer:
    text: str
    prompt_tokens: int
    completion_tokens: int
    truncated: bool  # stopped at max_tokens, not at an end-of-generation token
    prompt_evaluated: int  # its own suffix (the shared prefix is counted once, on the chunk's first answer)
    prompt_seconds: float  # the chunk's prefill time, shared evenly
    decode_seconds: float  # the chunk's decode time, shared evenly


class ParallelDecoder:
    """A second llama.cpp context on the same weights, with `parallel` sequences in one unified KV cache."""

    def __init__(self, llm: llama_cpp.Llama, parallel: int, n_ctx_per_sequence: int):
        if parallel < 2:
            raise KosparseError(f"llm.llama_cpp.parallel = {parallel}: the parallel decoder needs 2 or more")
        self.llm, self.parallel = llm, parallel
        params = llama_cpp.llama_context_default_params()
        for field in ("n_batch", "n_ubatch", "n_threads", "n_threads_batch"):
            setattr(params, field, getattr(llm.context_params, field))
        params.n_ctx = n_ctx_per_sequence * parallel
        params.n_seq_max = parallel
        params.kv_unified = True  # one cell pool: the shared prefix is stored once for all sequences
        self.ctx = llama_cpp.llama_init_from_model(llm.model, params)
        if self.ctx is None:
            raise KosparseError(f"llama.cpp could not create a {parallel}-sequence context of {params.n_ctx} tokens")
        self.memory = llama_cpp.llama_get_memory(self.ctx)
        self.vocab = llama_cpp.llama_model_get_vocab(llm.model)
        self.n_batch = params.n_batch
        self.batch = llama_cpp.llama_batch_init(max(self.n_batch, parallel), 0, 1)
        template = llm.metadata.get("tokenizer.chat_template")
        if not template:
            raise KosparseError(f"{llm.model_path}: no chat template in the GGUF metadata")
        eos, bos = llm.token_eos(), llm.token_bos()
        self.formatter = llama_chat_format.Jinja2ChatFormatter(
            template=template,
            eos_token=llama_cpp.llama_vocab_get_text(self.vocab, eos).decode("utf-8") if eos != -1 else "",
            bos_token=llama_cpp.llama_vocab_get_text(self.vocab, bos).decode("utf-8") if bos != -1 else "",
        )

    def close(self) -> None:
        if self.batch is not None:
            llama_cpp.llama_batch_free(self.batch)
            llama_cpp.llama_free(self.ctx)
            self.batch = self.ctx = None

    def tokens(self, messages: Messages) -> list[int]:
        """The prompt tokens the chat template gives, as `create_chat_completion` builds them."""
        result = self.formatter(messages=messages)
        return self.llm.tokenize(result.prompt.encode("utf-8"), add_bos=not result.added_special, special=True)

    def _decode(self, entries: list[tuple[int, int, int, bool]]) -> None:
        """One llama_decode of (token, position, sequence, wants logits) entries, in n_batch slices."""
        for start in range(0, len(entries), self.n_batch):
            part = entries[start : start + self.n_batch]
            for i, (token, pos, seq, logits) in enumerate(part):
                self.batch.token[i], self.batch.pos[i] = token, pos
                self.batch.n_seq_id[i], self.batch.seq_id[i][0] = 1, seq
                self.batch.logits[i] = logits
            self.batch.n_tokens = len(part)
            if (status := llama_cpp.llama_decode(self.ctx, self.batch)) != 0:
                raise KosparseError(f"llama_decode failed with status {status} (KV cache full?)")

    def _sampler(self, temperature: float, top_p: float, seed: int) -> ctypes.c_void_p:
        """llama-cpp-python's default chain for these settings: top-k 40, top-p, min-p 0.05, temperature."""
        chain = llama_cpp.llama_sampler_chain_init(llama_cpp.llama_sampler_chain_default_params())
        if temperature <= 0:
            llama_cpp.llama_sampler_chain_add(chain, llama_cpp.llama_sampler_init_greedy())
            return chain
        for sampler in (
            llama_cpp.llama_sampler_init_top_k(40),
            llama_cpp.llama_sampler_init_top_p(top_p, 1),
            llama_cpp.llama_sampler_init_min_p(0.05, 1),
            llama_cpp.llama_sampler_init_temp(temperature),
            llama_cpp.llama_sampler_init_dist(seed),
        ):
            llama_cpp.llama_sampler_chain_add(chain, sampler)
        return chain

    def generate(
        self, chunk: list[list[int]], temperature: float, top_p: float, max_tokens: int, seed: int
    ) -> list[Answer]:
        """Answers to up to `parallel` tokenised prompts, decoded side by side from an empty KV cache."""
        if not 0 < len(chunk) <= self.parallel:
            raise ValueError(f"a chunk holds 1 to {self.parallel} prompts, not {len(chunk)}")
        llama_cpp.llama_memory_clear(self.memory, True)
        started = time.perf_counter()
        # 1. The prefix every prompt shares (one token short of the shortest, so each keeps a suffix),
        #    evaluated once in sequence 0 and copied to the others; then every suffix in one batch.
        shared = 0
        limit = min(len(t) for t in chunk) - 1
        while shared < limit and all(t[shared] == chunk[0][shared] for t in chunk):
            shared += 1
        if shared:
            self._decode([(tok, pos, 0, False) for pos, tok in enumerate(chunk[0][:shared])])
            for seq in range(1, len(chunk)):
                llama_cpp.llama_memory_seq_cp(self.memory, 0, seq, 0, shared)
        self._decode([(t[pos], pos, seq, False) for seq, t in enumerate(chunk) for pos in range(shared, len(t) - 1)])
        # Each prompt's last token goes in one final call, so its logits row is its sequence number.
        self._decode([(t[-1], len(t) - 1, seq, True) for seq, t in enumerate(chunk)])
        prefilled = time.perf_counter()

        # 2. One token per open sequence per step until each ends or reaches max_tokens.
        samplers = [self._sampler(temperature, top_p, seed) for _ in chunk]
        try:
            out: list[list[int]] = [[] for _ in chunk]
            ended = [False] * len(chunk)
            positions = [len(t) for t in chunk]
            rows = {seq: seq for seq in range(len(chunk))}
            while True:
                step = []
                for seq, row in rows.items():
                    token = llama_cpp.llama_sampler_sample(samplers[seq], self.ctx, row)
                    if llama_cpp.llama_vocab_is_eog(self.vocab, token):
                        ended[seq] = True
                        continue
                    out[seq].append(token)
                    if len(out[seq]) < max_tokens:
                        step.append((token, positions[seq], seq, True))
                        positions[seq] += 1
                if not step:
                    break
                self._decode(step)
                rows = {seq: i for i, (_, _, seq, _) in enumerate(step)}
        finally:
            for sampler in samplers:
                llama_cpp.llama_sampler_free(sampler)
        finished = time.perf_counter()

        n = len(chunk)
        return [
            Answer(
                text=self.llm.detokenize(tokens).decode("utf-8", errors="replace"),
                prompt_tokens=len(prompt),
                completion_tokens=len(tokens),
                truncated=not ended[seq],
                prompt_evaluated=len(prompt) - shared + (shared if seq == 0 else 0),
                prompt_seconds=(prefilled - started) / n,
                decode_seconds=(finished - prefilled) / n,
            )
            for seq, (prompt, tokens) in enumerate(zip(chunk, out, strict=True))
        ]
