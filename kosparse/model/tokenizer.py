"""The encoder's tokenizer: its vocabulary is the sparse vectors' dimensions.

Either a pretrained Hugging Face tokenizer (id or local path), or a WordPiece
tokenizer trained from scratch on the documents. The scratch normaliser keeps
Hangul syllables whole: bert-uncased's normaliser strips accents through NFD,
which splits 모델 into jamo, so it is NFC + lower-case here instead.

The scratch vocabulary is learned from morpheme-cut text (the KLUE recipe):
each eojeol is cut where Kiwi's first particle or ending starts, so 장소는
teaches the vocabulary `장소` and `##는`, never `장소는`. The saved tokenizer
still runs on raw text by greedy longest match (OpenSearch needs nothing but
tokenizer.json), and now gives `장소 ##는`: a query for 장소 matches.
"""

from __future__ import annotations

import copy
import io
import json
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path

from tokenizers import Tokenizer, decoders, models, normalizers, pre_tokenizers, processors
from transformers import AutoTokenizer, PreTrainedTokenizerFast

from kosparse.errors import KosparseError

SPECIAL_TOKENS = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]
# Marks where a particle/ending was cut off in vocabulary-learning text. A private-use
# character: never in documents, and not punctuation, so the pre-tokenizer keeps it in its word.
SUFFIX_MARK = "\ue000"


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
    chars = sorted(set("".join(lines)) - {" ", SUFFIX_MARK})
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
        if text.startswith(SUFFIX_MARK):  # a cut-off particle/ending continues the word before it
            text, word_initial = text[1:], False
        if SUFFIX_MARK in text:
            continue
        token = text if word_initial else f"##{text}"
        if len(text) > 1 and token not in seen and len(vocab) < vocab_size:
            vocab.append(token)
            seen.add(token)
    return vocab


def suffix_cuts(text: str, morphemes: Iterable) -> list[int]:
    """Character offsets where an eojeol's first particle (J*) or ending (E*) starts.

    Only clean cuts: the morpheme's surface form is exactly the text there (a
    contraction such as 열린 = 열리 + ㄴ has no such boundary and stays whole),
    and a stem stands before it in the same eojeol.
    """
    cuts, cut_words = [], set()
    for m in morphemes:
        if not m.tag.startswith(("J", "E")):
            continue
        word_start = text.rfind(" ", 0, m.start) + 1
        clean = text[m.start : m.start + m.len] == m.form
        if clean and m.start > word_start and word_start not in cut_words:
            cuts.append(m.start)
            cut_words.add(word_start)
    return cuts


def morpheme_cut_lines(texts: Iterable[str], normalizer, pre_tokenizer, kiwi=None) -> Iterator[str]:
    """Each text as the pre-tokenizer's words joined by spaces; with `kiwi`, particles/endings cut off.

    A cut-off suffix becomes its own word behind SUFFIX_MARK (장소는 → 장소 \ue000는), which
    `wordpiece_vocab` maps to a continuation piece (##는).
    """
    normalized = [normalizer.normalize_str(t) for t in texts]
    analysed = kiwi.tokenize(normalized) if kiwi is not None else ([] for _ in normalized)
    for text, morphemes in zip(normalized, analysed, strict=True):
        for cut in reversed(suffix_cuts(text, morphemes) if kiwi is not None else []):
            text = f"{text[:cut]}{SUFFIX_MARK}{text[cut:]}"
        words = (w for w, _ in pre_tokenizer.pre_tokenize_str(text))
        yield " ".join(w.replace(SUFFIX_MARK, f" {SUFFIX_MARK}").strip() for w in words)


def train_wordpiece(
    texts: Iterable[str], vocab_size: int, max_length: int, morpheme_cut: bool = True
) -> PreTrainedTokenizerFast:
    """A BERT-style WordPiece tokenizer (NFC, lower-case, punctuation split) trained on `texts`.

    With `morpheme_cut` its vocabulary is learned from Kiwi morpheme-cut text (see the module docstring).
    """
    if vocab_size <= len(SPECIAL_TOKENS):
        raise KosparseError(
            f"tokenizer.vocab_size = {vocab_size}: must exceed the {len(SPECIAL_TOKENS)} special tokens"
        )
    normalizer, pre_tokenizer = _normalizer(), pre_tokenizers.BertPreTokenizer()
    kiwi = None
    if morpheme_cut:
        from kiwipiepy import Kiwi

        kiwi = Kiwi(num_workers=2)
    vocab = wordpiece_vocab(morpheme_cut_lines(texts, normalizer, pre_tokenizer, kiwi), vocab_size)
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


def weighable_token_ids(tok: PreTrainedTokenizerFast, excluded: Iterable[int] = ()) -> list[int]:
    """Tokens a document vector may weigh: not special, with a letter or digit (no punctuation), not `excluded`."""
    skip, backend = set(tok.all_special_ids) | set(excluded), tok.backend_tokenizer
    return [i for i in range(len(tok)) if i not in skip and any(c.isalnum() for c in backend.id_to_token(i) or "")]


def document_token_ids(
    tok: PreTrainedTokenizerFast, texts: Sequence[str], batch_size: int = 1024
) -> Iterator[list[int]]:
    """Each text's token ids as the document encoder sees them: tokenizer.json's truncation, specials dropped.

    The same window OpenSearch's document encoder reads, so IDF, document
    lengths and the BM25 floor all count the tokens a served model can weigh.
    Uses the Rust tokenizer's batch encoder (multi-threaded).
    """
    backend = copy.deepcopy(tok.backend_tokenizer)
    backend.no_padding()
    special = set(tok.all_special_ids)
    for start in range(0, len(texts), batch_size):
        for encoding in backend.encode_batch(list(texts[start : start + batch_size])):
            yield [i for i in encoding.ids if i not in special]


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


class EncoderTokenAnalyzer:
    """The encoder tokenizer's tokens that a served document vector can weigh: the lexical floor.

    Documents: the encoder's window (`document_token_ids`), weighable tokens only
    (no special tokens, no punctuation, not `excluded`: the particles and
    endings the idf stage found). Queries: each token once, as the IDF query
    side and OpenSearch's SPARSE_TOKENIZE weigh them.
    """

    def __init__(self, tok, excluded: Iterable[int] = ()):
        self.tok = tok
        self.weighable = frozenset(weighable_token_ids(tok, excluded))

    def documents(self, texts: Sequence[str]) -> list[list[str]]:
        return [[str(i) for i in ids if i in self.weighable] for ids in document_token_ids(self.tok, texts)]

    def queries(self, texts: Sequence[str]) -> list[list[str]]:
        encoded = self.tok(list(texts), add_special_tokens=False)["input_ids"]
        return [[str(i) for i in dict.fromkeys(ids) if i in self.weighable] for ids in encoded]
