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
