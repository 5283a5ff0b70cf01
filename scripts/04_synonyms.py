"""Stage 04: the base Korean–English synonym dictionary from glosses, embeddings and curated pairs.

    python -m scripts.04_synonyms --params params.yaml --documents data/collect/documents.jsonl \
        --curated data_sources/curated_pairs.tsv --out data/synonyms/base.json --metrics metrics/synonyms_base.json

Every pair carries its sources (with each source's evidence) and the cosine of
its two terms under the multilingual embedding model.
"""

import argparse
import logging

from kiwipiepy import Kiwi

from kosparse.cli import run
from kosparse.io import load_params, read_jsonl, write_json
from kosparse.models import load_sentence_transformer
from kosparse.synonyms.dictionary import (
    build_dictionary,
    corpus_terms,
    embed,
    frequent,
    gloss_pairs,
    load_curated,
    mutual_top_k,
    similarity,
    source_counts,
)

log = logging.getLogger("04_synonyms")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--params", default="params.yaml")
    parser.add_argument("--documents", default="data/collect/documents.jsonl")
    parser.add_argument("--curated", default="data_sources/curated_pairs.tsv")
    parser.add_argument("--out", default="data/synonyms/base.json")
    parser.add_argument("--metrics", default="metrics/synonyms_base.json")
    args = parser.parse_args()
    cfg = load_params(args.params)["synonyms"]

    # 1. Inputs; the curated file first, so a malformed line fails before any slow step.
    curated = load_curated(args.curated)
    texts = [d["text"] for d in read_jsonl(args.documents)]
    embedder = load_sentence_transformer(cfg["embedding"]["model"], "synonyms.embedding.model")

    # 2. Kiwi: corpus terms (nouns, English words/phrases) and bracket glosses.
    kiwi = Kiwi(num_workers=2)
    terms = cfg["terms"]
    korean_counts, english_counts = corpus_terms(kiwi, texts, terms["english_max_words"])
    korean = frequent(korean_counts, terms["korean_min_count"], terms["korean_max"])
    english = frequent(english_counts, terms["english_min_count"], terms["english_max"])
    glosses = {p: c for p, c in gloss_pairs(kiwi, texts, cfg["gloss"]["max_korean_words"]).items()}
    glosses = {p: c for p, c in glosses.items() if c >= cfg["gloss"]["min_count"]}
    log.info("%d Korean and %d English terms, %d gloss pairs", len(korean), len(english), len(glosses))

    # 3. Embeddings of every term a pair may use: one encode call, terms only (passages are slow).
    pair_terms = [t for pair in [*glosses, *curated] for t in pair]
    vectors = embed(embedder, [*korean, *english, *pair_terms], cfg["embedding"]["batch_size"])

    # 4. Candidates per source; gloss pairs need a minimum similarity (drops `동사(gank)`-style labels).
    mutual = cfg["mutual"]
    candidates = [
        {"ko": ko, "en": en, "source": "curated", "similarity": similarity(vectors, ko, en)} for ko, en in curated
    ]
    for (ko, en), count in sorted(glosses.items()):
        score = similarity(vectors, ko, en)
        if score >= cfg["gloss"]["min_similarity"]:
            candidates.append({"ko": ko, "en": en, "source": "gloss", "similarity": score, "count": count})
    for ko, en, score in mutual_top_k(korean, english, vectors, mutual["k"], mutual["min_similarity"]):
        candidates.append({"ko": ko, "en": en, "source": "embedding", "similarity": score})
    dictionary = build_dictionary(candidates)
    dictionary["embedding_model"] = cfg["embedding"]["model"]
    write_json(args.out, dictionary)

    pairs = dictionary["pairs"]
    metrics = {
        "pairs": len(pairs),
        "groups": len(dictionary["groups"]),
        "largest_group": max((len(g) for g in dictionary["groups"]), default=0),
        "pairs_per_source": source_counts(pairs),
        "candidates": {"korean_terms": len(korean), "english_terms": len(english), "gloss_pairs": len(glosses)},
    }
    write_json(args.metrics, metrics)
    log.info("%d pairs in %d groups %s", len(pairs), len(dictionary["groups"]), metrics["pairs_per_source"])


if __name__ == "__main__":
    run(main)
