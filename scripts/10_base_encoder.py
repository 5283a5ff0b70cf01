"""Stage 10: the base masked-LM for the sparse document encoder (shared by v1 and v2).

    python -m scripts.10_base_encoder --documents data/collect/documents.jsonl \
        --tokenizer-dir data/tokenizer --out models/base --metrics metrics/base.json

`base.name: scratch` pretrains a small BERT on the documents within
`base.budget_tokens`; a Hugging Face id or local path is used as is.
"""

import argparse
import logging
import tempfile
import time

import torch
from transformers import set_seed

from kosparse.cli import run
from kosparse.io import atomic_path, load_params, read_jsonl, write_json
from kosparse.model.base_encoder import check_vocab, load_pretrained_mlm, mlm_chunks, mlm_loss, new_bert, pretrain
from kosparse.model.tokenizer import load_tokenizer

log = logging.getLogger("10_base_encoder")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--params", default="params.yaml")
    parser.add_argument("--documents", default="data/collect/documents.jsonl")
    parser.add_argument("--tokenizer-dir", default="data/tokenizer")
    parser.add_argument("--out", default="models/base")
    parser.add_argument("--metrics", default="metrics/base.json")
    args = parser.parse_args()
    params = load_params(args.params)
    cfg, seed = params["base"], params["seed"]
    set_seed(seed)
    torch.set_num_threads(max(1, torch.get_num_threads()))

    # 1. Masked-LM blocks from the documents; every `heldout_every`-th document is held out.
    tok = load_tokenizer(args.tokenizer_dir)
    texts = [d["text"] for d in read_jsonl(args.documents)]
    every = cfg["heldout_every"]
    train_chunks = mlm_chunks(tok, [t for i, t in enumerate(texts) if i % every], cfg["seq_len"])
    heldout = mlm_chunks(tok, texts[::every], cfg["seq_len"])
    log.info(
        "%d training blocks (%d tokens), %d held-out blocks",
        len(train_chunks),
        len(train_chunks) * cfg["seq_len"],
        len(heldout),
    )

    # 2. The model: a new small BERT, or a pretrained masked-LM used as is.
    if cfg["name"] == "scratch":
        model = new_bert(tok, cfg["layers"], cfg["hidden"], cfg["heads"], params["tokenizer"]["max_length"])
    else:
        model = load_pretrained_mlm(cfg["name"], tok)
    check_vocab(model.config.vocab_size, len(tok), args.out)
    before = mlm_loss(model, heldout, tok, seed)
    log.info("held-out MLM loss before: %.3f", before)

    # 3. Pretrain within the token budget (scratch only), then measure again.
    start = time.perf_counter()
    training = {}
    if cfg["name"] == "scratch":
        with tempfile.TemporaryDirectory(prefix="kosparse-mlm-") as scratch_dir:
            training = pretrain(model, tok, train_chunks, scratch_dir, cfg, seed)
    after = mlm_loss(model, heldout, tok, seed)
    log.info("held-out MLM loss after: %.3f (%.0f s)", after, time.perf_counter() - start)

    # 4. Save a standard Hugging Face folder (model + tokenizer), atomically.
    with atomic_path(args.out, is_dir=True) as tmp:
        model.save_pretrained(tmp)
        tok.save_pretrained(tmp)
    write_json(args.metrics, {
        "name": cfg["name"],
        "parameters": sum(p.numel() for p in model.parameters()),
        "heldout_blocks": len(heldout),
        "mlm_loss_before": round(before, 4),
        "mlm_loss_after": round(after, 4),
        **training,
    })  # fmt: skip


if __name__ == "__main__":
    run(main)
