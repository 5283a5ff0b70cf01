"""Stage 06: verify the base dictionary's pairs with LLM translations and discover pairs for unpaired terms.

    python -m scripts.06_verify_synonyms --params params.yaml --base data/synonyms/base.json \
        --documents data/collect/documents.jsonl --out data/synonyms/enhanced.json \
        --metrics metrics/synonyms_verify.json --times metrics/times/verify_synonyms.json

Answers are cached like stage 05's ($KOSPARSE_CACHE/llm/answers.jsonl), keyed by
model fingerprint, template version, sampling, schema and prompt; the model is
loaded only when an answer is missing.
"""

import argparse
import logging
import time
from pathlib import Path

from kiwipiepy import Kiwi

from kosparse.cli import run
from kosparse.io import load_params, read_json, read_jsonl, write_json
from kosparse.llm.answer_cache import cached_answers
from kosparse.llm.base import Sampling
from kosparse.memory import peak_memory
from kosparse.models import cache_root, load_sentence_transformer
from kosparse.synonyms.dictionary import (
    build_dictionary,
    contexts,
    corpus_terms,
    embed,
    frequent,
    paired_terms,
    source_counts,
)
from kosparse.synonyms.prompts import DISCOVER_KO, VERIFY
from kosparse.synonyms.verify import answers_by_term, clean_equivalent, discovered_pairs, plan, tally, verified_pairs

log = logging.getLogger("06_verify_synonyms")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--params", default="params.yaml")
    parser.add_argument("--base", default="data/synonyms/base.json")
    parser.add_argument("--documents", default="data/collect/documents.jsonl")
    parser.add_argument("--out", default="data/synonyms/enhanced.json")
    parser.add_argument("--metrics", default="metrics/synonyms_verify.json")
    parser.add_argument("--times", default="metrics/times/verify_synonyms.json", help="speeds and wall time")
    parser.add_argument("--cache", default=None, help="answer cache file (default $KOSPARSE_CACHE/llm/answers.jsonl)")
    args = parser.parse_args()
    params = load_params(args.params)
    llm_cfg, cfg = params["llm"], params["synonyms"]
    vcfg, dcfg, rcfg = cfg["verify"], cfg["discover"], cfg["requests"]
    started = time.perf_counter()

    # 1. Base pairs to verify (curated ones are trusted), and the most frequent unpaired corpus terms.
    base = read_json(args.base)["pairs"]
    texts = [d["text"] for d in read_jsonl(args.documents)]
    to_verify = [p for p in base if "curated" not in p["sources"]]
    korean_counts, english_counts = corpus_terms(Kiwi(num_workers=2), texts, cfg["terms"]["english_max_words"])
    paired = paired_terms(base)
    min_count = dcfg["min_count"]
    discover_ko = [t for t in frequent(korean_counts, min_count, len(korean_counts)) if t not in paired]
    discover_en = [t for t in frequent(english_counts, min_count, len(english_counts)) if t not in paired]
    discover_ko, discover_en = discover_ko[: dcfg["korean_terms"]], discover_en[: dcfg["english_terms"]]
    # Alphabetical, capped: deterministic, and a larger cap reuses every cached batch.
    verify_terms = sorted({p["ko"] for p in to_verify})[: vcfg["max_terms"]]
    requests = plan(
        verify_terms, contexts(texts, verify_terms, vcfg["context_chars"]), discover_ko, discover_en, rcfg["batch_size"]
    )
    log.info(
        "%d Korean terms to verify (%d pairs), %d + %d terms to discover: %d LLM requests",
        len(verify_terms), len(to_verify), len(discover_ko), len(discover_en), len(requests),
    )  # fmt: skip

    # 2. Answers: from the cache, else from the model (loaded only if needed), each cached as it arrives.
    sampling = Sampling(rcfg["temperature"], 1.0, rcfg["max_tokens_per_term"] * rcfg["batch_size"], params["seed"])
    cache = Path(args.cache) if args.cache else cache_root() / "llm" / "answers.jsonl"
    records, fresh, speed = cached_answers(
        llm_cfg, [(r.template.version, r.schema, r.messages) for r in requests], sampling, cache
    )

    # 3. Every answer per term; a request without a schema-valid answer rejects all its terms under its error.
    answers: dict[tuple[str, str], list[str] | str] = {}
    llm_errors = []
    for request, record in zip(requests, records, strict=True):
        found = answers_by_term(request, record)
        llm_errors += [record["error"] for term in request.terms if term not in found]
        answers.update({(request.template.name, term): value for term, value in found.items()})

    # 4. Verify: the translation in context against each candidate English term.
    translations = {term: answers.get((VERIFY.name, term)) for term in verify_terms}
    proposals = {
        (name, term): [clean_equivalent(v, korean=name != DISCOVER_KO.name) for v in values]
        for (name, term), values in answers.items()
        if name != VERIFY.name
    }
    vectors = embed(
        load_sentence_transformer(cfg["embedding"]["model"], "synonyms.embedding.model"),
        [t for p in to_verify for t in (p["ko"], p["en"])]
        + [t for t in translations.values() if t]
        + [t for (_, term), values in proposals.items() for t in (term, *values) if t],
        cfg["embedding"]["batch_size"],
    )
    trusted = [
        {"ko": p["ko"], "en": p["en"], "source": "curated", "similarity": p["similarity"], "verified": "trusted"}
        for p in base
        if "curated" in p["sources"]
    ]
    verified, verify_reasons = verified_pairs(to_verify, translations, vectors, vcfg["min_similarity"])

    # 5. Discover: each proposed equivalent must be a term and close to its source term in embedding space.
    discovered, discover_reasons = discovered_pairs(proposals, vectors, dcfg["min_similarity"])
    candidates = trusted + verified + discovered
    dictionary = build_dictionary(candidates)
    dictionary["embedding_model"] = cfg["embedding"]["model"]
    dictionary["llm_model"] = llm_cfg["model"]
    write_json(args.out, dictionary)

    metrics = {
        "pairs": len(dictionary["pairs"]),
        "base_pairs": len(base),
        "pairs_per_source": source_counts(dictionary["pairs"]),
        "verify": {"pairs": len(to_verify), "terms": len(verify_terms), "outcomes": tally(verify_reasons)},
        "discover": {
            "korean_terms": len(discover_ko),
            "english_terms": len(discover_en),
            "outcomes": tally(discover_reasons),
        },
        "llm_terms": {"requested": sum(len(r.terms) for r in requests), "answered": len(answers)},
        "llm_term_errors": tally(llm_errors),
        "llm_requests": len(requests),
    }
    write_json(args.metrics, metrics)
    # What varies from run to run (fresh answers, speeds, time, memory) stays out of the metrics DVC compares.
    write_json(args.times, {
        "llm_requests_fresh": fresh,
        "llm_seconds": round(sum(r["seconds"] for r in records), 1),
        "prompt_tokens_per_s": speed.get("prompt_tps"),
        "decode_tokens_per_s": speed.get("decode_tps"),
        "wall_seconds": round(time.perf_counter() - started, 1),
        **peak_memory(),
    })  # fmt: skip
    log.info("enhanced: %d pairs (base %d) %s", len(dictionary["pairs"]), len(base), metrics["pairs_per_source"])


if __name__ == "__main__":
    run(main)
