"""The encoder's tokenizer: its vocabulary is the sparse vectors' dimensions.

Either a pretrained Hugging Face tokenizer (id or local path), or a WordPiece
tokenizer trained from scratch on the documents. The scratch normaliser keeps
Hangul syllables whole: bert-uncased's normaliser strips accents through NFD,
which splits 모델 into jamo, so it is NFC + lower-case here instead.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from pathlib import Path

from tokenizers import Tokenizer, decoders, models, normalizers, pre_tokenizers, processors, trainers
from transformers import AutoTokenizer, PreTrainedTokenizerFast

from kosparse.errors import KosparseError

SPECIAL_TOKENS = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]


def train_wordpiece(
    texts: Iterable[str], vocab_size: int, min_frequency: int, max_length: int
) -> PreTrainedTokenizerFast:
    if vocab_size <= len(SPECIAL_TOKENS):
        raise KosparseError(
            f"tokenizer.vocab_size = {vocab_size}: must exceed the {len(SPECIAL_TOKENS)} special tokens"
        )
    tok = Tokenizer(models.WordPiece(unk_token="[UNK]", max_input_chars_per_word=100))
    tok.normalizer = normalizers.Sequence(
        [
            normalizers.NFC(),
            normalizers.BertNormalizer(clean_text=True, handle_chinese_chars=True, strip_accents=False, lowercase=True),
        ]
    )
    tok.pre_tokenizer = pre_tokenizers.BertPreTokenizer()
    tok.decoder = decoders.WordPiece(prefix="##")
    trainer = trainers.WordPieceTrainer(
        vocab_size=vocab_size, min_frequency=min_frequency, special_tokens=SPECIAL_TOKENS, show_progress=False
    )
    tok.train_from_iterator(texts, trainer=trainer)
    cls_id, sep_id = tok.token_to_id("[CLS]"), tok.token_to_id("[SEP]")
    tok.post_processor = processors.TemplateProcessing(
        single="[CLS] $A [SEP]",
        pair="[CLS] $A [SEP] $B:1 [SEP]:1",
        special_tokens=[("[CLS]", cls_id), ("[SEP]", sep_id)],
    )
    # The generic fast class, not BertTokenizerFast: transformers rebuilds a Bert
    # tokenizer's normaliser from its flags on load and would drop the NFC step.
    return PreTrainedTokenizerFast(
        tokenizer_object=tok,
        model_max_length=max_length,
        unk_token="[UNK]",
        pad_token="[PAD]",
        cls_token="[CLS]",
        sep_token="[SEP]",
        mask_token="[MASK]",
    )


def load_pretrained(name_or_path: str) -> PreTrainedTokenizerFast:
    try:
        tok = AutoTokenizer.from_pretrained(name_or_path)
    except Exception as e:  # hub unreachable, bad id, missing files: one message for all
        raise KosparseError(
            f"tokenizer.name = {name_or_path!r}: could not load it ({type(e).__name__}: {e}); "
            "give a local folder path, or use 'scratch' offline"
        ) from None
    if not tok.is_fast:
        raise KosparseError(f"tokenizer {name_or_path!r} has no fast (tokenizer.json) version; OpenSearch needs one")
    return tok


def save_tokenizer(tok: PreTrainedTokenizerFast, out_dir: str | Path, max_length: int) -> None:
    """Save with truncation written into tokenizer.json: OpenSearch reads it from there."""
    tok.model_max_length = max_length
    tok.backend_tokenizer.enable_truncation(max_length)
    tok.save_pretrained(str(out_dir))
    truncation = json.loads((Path(out_dir) / "tokenizer.json").read_text(encoding="utf-8")).get("truncation")
    if not truncation or truncation.get("max_length") != max_length:
        raise KosparseError(f"{out_dir}/tokenizer.json: truncation to {max_length} was not saved")


def load_tokenizer(path: str | Path) -> PreTrainedTokenizerFast:
    path = Path(path)
    if not (path / "tokenizer.json").is_file():
        raise KosparseError(f"{path}: no tokenizer.json (run the idf stage, or point at a fast tokenizer folder)")
    return AutoTokenizer.from_pretrained(str(path))
