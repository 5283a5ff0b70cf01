"""Print the OpenSearch requests of docs/opensearch.md for an exported variant, with its real model names.

    python -m scripts.opensearch_requests models/opensearch/v1 --base-url http://files.internal:8000
    python -m scripts.opensearch_requests models/opensearch/v1 --query "훈민정음" --document "..."

With --document, also prints a document with its precomputed vector and the raw
query_tokens, computed from the zipped files exactly as OpenSearch would.
"""

import argparse

from kosparse.cli import run
from kosparse.export.requests import build_requests, offline_vectors, read_export


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("folder", help="exported folder, e.g. models/opensearch/v1")
    parser.add_argument("--base-url", default="http://localhost:8000", help="where the folder's zips are served")
    parser.add_argument("--index", default="korean-docs")
    parser.add_argument("--query", default="한국어 희소 검색 모델")
    parser.add_argument("--document", help="also print offline vectors for this document and the query")
    args = parser.parse_args()

    manifest, bodies = read_export(args.folder)
    offline = None
    if args.document:
        offline = offline_vectors(args.folder, args.query, args.document, manifest["prune"])
    for request in build_requests(manifest, bodies, args.base_url, args.index, args.query, offline):
        print(request.render(), end="\n\n")


if __name__ == "__main__":
    run(main)
