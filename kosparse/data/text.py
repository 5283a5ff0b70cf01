"""Text normalisation shared by every stage (documents, queries, dedup keys)."""

import unicodedata


def normalize_text(text: str) -> str:
    """Unicode NFC and single spaces.

    NFC, not NFKC or NFD: NFD splits Hangul syllables into jamo, and NFKC would
    rewrite full-width forms the source text uses on purpose.
    """
    return " ".join(unicodedata.normalize("NFC", text).split())


def has_hangul(text: str) -> bool:
    return any("\uac00" <= ch <= "\ud7a3" for ch in text)


# Chinese ideographs (unified, extension A, compatibility) and Japanese kana: scripts a small multilingual LLM
# drifts into mid-answer (침대 벌레为何存在), yet Korean text may quote Hanja on purpose (태평고(太平鼓)).
_HAN_OR_KANA = (("\u3040", "\u30ff"), ("\u3400", "\u4dbf"), ("\u4e00", "\u9fff"), ("\uf900", "\ufaff"))


def han_or_kana_absent_from(text: str, reference: str) -> str:
    """The Han and kana characters of `text` that `reference` does not contain, in order of appearance."""
    present = set(reference)
    return "".join(
        ch for ch in dict.fromkeys(text) if ch not in present and any(lo <= ch <= hi for lo, hi in _HAN_OR_KANA)
    )
