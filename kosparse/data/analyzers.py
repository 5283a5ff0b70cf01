"""Word analyzers for lexical retrieval: whitespace tokens and Kiwi content morphemes."""

from __future__ import annotations

from collections.abc import Sequence
from functools import cached_property

from tqdm import tqdm


def whitespace_tokens(texts: Sequence[str]) -> list[list[str]]:
    return [text.lower().split() for text in texts]


class KiwiAnalyzer:
    """Kiwi morphemes whose tag is in `keep_tags` (particles J*, endings E*, symbols dropped).

    Verb and adjective stems are kept as Kiwi's lemma form (막 from 막았다), so
    inflected forms in queries and documents meet on one token.
    """

    def __init__(self, keep_tags: Sequence[str], num_workers: int = -1):
        self.keep_tags = frozenset(keep_tags)
        self.num_workers = num_workers

    @cached_property
    def kiwi(self):
        from kiwipiepy import Kiwi

        return Kiwi(num_workers=self.num_workers)

    def __call__(self, texts: Sequence[str], desc: str = "kiwi") -> list[list[str]]:
        analysed = self.kiwi.tokenize(list(texts))
        return [
            [token.form.lower() for token in tokens if token.tag in self.keep_tags]
            for tokens in tqdm(analysed, total=len(texts), desc=desc, unit="text", mininterval=2)
        ]
