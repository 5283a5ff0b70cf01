"""Try a trained variant: the heaviest tokens of a query and a document, and a search of the collection.

    python -m scripts.try_model --model models/v1 --query "세종대왕이 만든 문자는?" --document "훈민정음은 ..."
    python -m scripts.try_model --model models/v1 --query "세종대왕이 만든 문자는?" --search \
        --collect-dir data/collect --source korquad --cache .tmp/korquad_v1.npz

Search lists the top documents with the tokens that matched and how much each
added to the score. Encoding the whole collection takes minutes on a CPU:
--source and --limit narrow it, --cache keeps the vectors for the next query.
"""

import argparse
import time
from pathlib import Path

from scipy import sparse

from kosparse.cli import run
from kosparse.errors import KosparseError
from kosparse.evaluation.retrieval import document_matrix, to_csr
from kosparse.inspect_model import heaviest, matched_tokens, search
from kosparse.io import read_jsonl
from kosparse.model.idf import decoded_keys
from kosparse.model.sparse_model import load_encoder


def show_tokens(label: str, tokens: list[tuple[str, float]]) -> None:
    print(f"{label} ({len(tokens)} heaviest): " + ", ".join(f"{t} {w:.2f}" for t, w in tokens))


def show_matches(matches: list[tuple[str, float, float, float]], indent: str = "") -> None:
    for token, q, d, contribution in matches:
        print(f"{indent}{token:>12}  query {q:.2f} × document {d:.2f} = {contribution:.2f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", required=True, help="SparseEncoder folder, e.g. models/v1")
    parser.add_argument("--query", required=True)
    parser.add_argument("--document", help="a document to encode and score against the query")
    parser.add_argument("--search", action="store_true", help="search the collection for the query")
    parser.add_argument("--collect-dir", default="data/collect")
    parser.add_argument("--source", help="search only this source's documents (e.g. korquad)")
    parser.add_argument("--limit", type=int, help="search only the first N documents")
    parser.add_argument("--cache", help=".npz file holding the encoded documents (written if absent)")
    parser.add_argument("--tokens", type=int, default=15, help="tokens shown per vector")
    parser.add_argument("--top", type=int, default=5, help="documents shown per search")
    args = parser.parse_args()
    model = load_encoder(args.model)
    keys = list(decoded_keys(model.tokenizer, range(len(model.tokenizer))).values())

    # 1. The query: its tokens and their idf.json weights.
    query = to_csr(model.encode_query([args.query], convert_to_sparse_tensor=True))
    show_tokens("query", heaviest(query, keys, args.tokens))

    # 2. A document: its heaviest tokens, the score, and what matched.
    if args.document:
        document = to_csr(model.encode_document([args.document], convert_to_sparse_tensor=True))
        show_tokens(f"document ({document.nnz} active)", heaviest(document, keys, args.tokens))
        print(f"score {float((query @ document.T).toarray()[0, 0]):.2f}, from:")
        show_matches(matched_tokens(query, document, keys, args.tokens), "  ")

    # 3. A search of the collection.
    if args.search:
        documents = read_jsonl(Path(args.collect_dir) / "documents.jsonl")
        documents = [d for d in documents if args.source in (None, d["source"])][: args.limit]
        if not documents:
            raise KosparseError(f"{args.collect_dir}: no documents for source {args.source!r}")
        cache = Path(args.cache) if args.cache else None
        if cache and cache.is_file() and sparse.load_npz(cache).shape[0] == len(documents):
            matrix = sparse.load_npz(cache).tocsr()
        else:
            start = time.perf_counter()
            matrix = document_matrix(model, [d["text"] for d in documents], batch_size=32)
            print(f"encoded {len(documents)} documents in {time.perf_counter() - start:.0f} s")
            if cache:
                cache.parent.mkdir(parents=True, exist_ok=True)
                sparse.save_npz(cache, matrix)
        for rank, (row, score) in enumerate(search(query, matrix, args.top), 1):
            doc = documents[row]
            print(f"\n{rank}. {doc['id']} ({doc['source']}) score {score:.2f}: {doc['text'][:120]}")
            show_matches(matched_tokens(query, matrix[row], keys, args.tokens), "   ")


if __name__ == "__main__":
    run(main)
