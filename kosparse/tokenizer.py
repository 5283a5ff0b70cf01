"""The encoder's tokenizer: its vocabulary is the sparse vectors' dimensions.

Either a pretrained Hugging Face tokenizer (id or local path), or a WordPiece
tokenizer trained from scratch on the documents. The scratch normaliser keeps
Hangul syllables whole: bert-uncased's normaliser strips accents through NFD,
which splits 모델 into jamo, so it is NFC + lower-case here instead.
"""

from __future__ import annotations

import io
import json
from collections.abc import Iterable
from pathlib import Path

from tokenizers import Tokenizer, decoders, models, normalizers, pre_tokenizers, processors
from transformers import AutoTokenizer, PreTrainedTokenizerFast

from kosparse.errors import KosparseError

SPECIAL_TOKENS = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]


def _normalizer() -> normalizers.Normalizer:
    return normalizers.Sequence(
        [
            normalizers.NFC(),
            normalizers.BertNormalizer(clean_text=True, handle_chinese_chars=True, strip_accents=False, lowercase=True),
        ]
    )


def wordpiece_vocab(words_per_text: Iterable[str], vocab_size: int) -> list[str]:
    """A WordPiece vocabulary learned deterministically.

    The `tokenizers` WordPiece trainer breaks ties in hash-map order, so the
    same corpus gives a different vocabulary on every run, and nothing
    downstream could be byte-identical. SentencePiece's BPE trainer is
    deterministic; its pieces map onto WordPiece: a word-initial piece ("▁모델")
    becomes "모델", an inner piece ("습니다") becomes "##습니다". Every character
    is kept in both forms so no word ever becomes [UNK].
    """
    import sentencepiece as spm

    lines = list(words_per_text)
    chars = sorted(set("".join(lines)) - {" "})
    base = SPECIAL_TOKENS + chars + [f"##{c}" for c in chars]
    if len(base) >= vocab_size:
        raise KosparseError(
            f"tokenizer.vocab_size = {vocab_size}: the corpus has {len(chars)} distinct characters, "
            f"which need {len(base)} entries before any multi-character piece"
        )
    model = io.BytesIO()
    spm.SentencePieceTrainer.train(
        sentence_iterator=iter(lines), model_writer=model, model_type="bpe",
        vocab_size=vocab_size, hard_vocab_limit=False,
        character_coverage=1.0, normalization_rule_name="identity", split_digits=False,
        max_sentence_length=1 << 20, num_threads=2, bos_id=-1, eos_id=-1, unk_id=0, minloglevel=2,
    )  # fmt: skip
    processor = spm.SentencePieceProcessor(model_proto=model.getvalue())
    vocab, seen = list(base), set(base)
    for piece in (processor.id_to_piece(i) for i in range(processor.get_piece_size())):
        word_initial = piece.startswith("\u2581")
        text = piece[1:] if word_initial else piece
        token = text if word_initial else f"##{text}"
        if len(text) > 1 and token not in seen and len(vocab) < vocab_size:
            vocab.append(token)
            seen.add(token)
    return vocab


def train_wordpiece(texts: Iterable[str], vocab_size: int, max_length: int) -> PreTrainedTokenizerFast:
    """A BERT-style WordPiece tokenizer (NFC, lower-case, punctuation split) trained on `texts`."""
    if vocab_size <= len(SPECIAL_TOKENS):
        raise KosparseError(
            f"tokenizer.vocab_size = {vocab_size}: must exceed the {len(SPECIAL_TOKENS)} special tokens"
        )
    normalizer, pre_tokenizer = _normalizer(), pre_tokenizers.BertPreTokenizer()
    words = (" ".join(w for w, _ in pre_tokenizer.pre_tokenize_str(normalizer.normalize_str(t))) for t in texts)
    vocab = wordpiece_vocab(words, vocab_size)
    tok = Tokenizer(
        models.WordPiece({t: i for i, t in enumerate(vocab)}, unk_token="[UNK]", max_input_chars_per_word=100)
    )
    tok.normalizer = normalizer
    tok.pre_tokenizer = pre_tokenizer
    tok.decoder = decoders.WordPiece(prefix="##")
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
