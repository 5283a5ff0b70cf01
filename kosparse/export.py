"""OpenSearch ML Commons artifacts for a trained variant, and the checks that they behave like the model.

Two models go to OpenSearch:

- document encoder, `function_name: SPARSE_ENCODING`: a zip holding a
  TorchScript trace of the document side and its `tokenizer.json`. ML Commons
  (DJL) tokenises one text, calls the trace with one dict argument
  `{"input_ids", "attention_mask"}` (its tensors are named
  `input1.input_ids` / `input1.attention_mask`, which DJL groups into a dict),
  reads `output` ([batch, vocab]) and maps each non-zero id to
  `decode([id], skip_special_tokens=True)`.
- query tokenizer, `function_name: SPARSE_TOKENIZE`: a zip holding
  `tokenizer.json` and `idf.json`; each distinct query token weighs
  `idf[decode([id])]` (1.0 when the key is missing, which is why every key
  must be present).

The functions below build those files and emulate both OpenSearch paths from
the zipped bytes, so the tests check the artifacts themselves.
"""

from __future__ import annotations

import copy
import hashlib
import io
import json
import zipfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import tokenizers
import torch
from scipy import sparse

from kosparse.anchor import BM25AnchoredPooling
from kosparse.errors import KosparseError
from kosparse.retrieval import SparseRetriever, document_matrix, evaluate_retriever
from kosparse.sparse_model import idf_weights, load_encoder

DOCUMENT_ZIP = "document_encoder.zip"
TOKENIZER_ZIP = "query_tokenizer.zip"
DOCUMENT_REGISTRATION = "register_document_encoder.json"
TOKENIZER_REGISTRATION = "register_query_tokenizer.json"
MANIFEST = "manifest.json"
MODEL_CARD = "README.md"
ARTIFACT_FILES = (DOCUMENT_ZIP, TOKENIZER_ZIP, DOCUMENT_REGISTRATION, TOKENIZER_REGISTRATION, MANIFEST, MODEL_CARD)

# The prune types of OpenSearch's sparse_encoding processor and two-phase processor.
PRUNE_TYPES = ("none", "max_ratio", "top_k", "alpha_mass", "abs_value")
ZIP_TIMESTAMP = (1980, 1, 1, 0, 0, 0)  # fixed, so the same files give the same zip bytes


@dataclass
class Variant:
    """A trained SparseEncoder folder, checked for export."""

    encoder: object  # SparseEncoder
    mlm: torch.nn.Module  # the document route's masked-LM
    pooling: torch.nn.Module  # the document route's BM25AnchoredPooling
    max_length: int  # document tokens the encoder sees, special tokens included
    document_tokenizer: tokenizers.Tokenizer  # truncation set to max_length
    query_tokenizer: tokenizers.Tokenizer  # truncation keeps as many query tokens as the project keeps
    idf_bytes: bytes  # the model folder's idf.json, byte for byte (its query weights)
    idf: dict[str, float]
    special_ids: list[int]
    idf_report: dict


def _router_folders(folder: Path) -> dict[str, list[str]]:
    config = folder / "router_config.json"
    if not (folder / "modules.json").is_file() or not config.is_file():
        raise KosparseError(
            f"{folder}: not a trained SparseEncoder folder with a query/document Router (train it first)"
        )
    structure = json.loads(config.read_text(encoding="utf-8")).get("structure", {})
    if set(structure) != {"query", "document"}:
        raise KosparseError(f"{config}: expected the routes query and document, found {sorted(structure)}")
    return structure


def idf_key_report(tok: tokenizers.Tokenizer, idf: dict[str, float], special_ids: Sequence[int]) -> dict:
    """How idf.json's keys relate to the vocabulary, read the way OpenSearch reads it (decode([id])).

    `missing`: tokens whose key is absent (OpenSearch would weigh them 1.0);
    `unknown`: keys no id decodes to; `special`: keys that are special tokens;
    `collisions`: keys more than one id decodes to (one weight serves them all).
    """
    special = set(special_ids)
    ids_of: dict[str, list[int]] = {}
    for token_id in range(tok.get_vocab_size(with_added_tokens=True)):
        if token_id not in special:
            ids_of.setdefault(tok.decode([token_id], skip_special_tokens=False), []).append(token_id)
    special_keys = {tok.id_to_token(i) for i in special}
    return {
        "keys": len(idf),
        "missing": sorted(k for k in ids_of if k not in idf),
        "unknown": sorted(k for k in idf if k not in ids_of and k not in special_keys),
        "special": sorted(k for k in idf if k in special_keys),
        "collisions": sorted(k for k, ids in ids_of.items() if len(ids) > 1),
    }


def load_variant(folder: str | Path) -> Variant:
    """Load a trained variant and refuse one OpenSearch could not serve faithfully."""
    from sentence_transformers.base.modules.transformer import Transformer
    from sentence_transformers.sparse_encoder.modules import SparseStaticEmbedding

    folder = Path(folder)
    if not folder.is_dir():
        raise KosparseError(f"{folder}: model folder not found (run the train stage first)")
    for route_folders in _router_folders(folder).values():
        for name in route_folders:
            module = folder / name
            if (module / "tokenizer_config.json").is_file() and not (module / "tokenizer.json").is_file():
                raise KosparseError(
                    f"{module}: tokenizer has no tokenizer.json; OpenSearch loads only that file "
                    "(save the model with a fast tokenizer)"
                )
    idf_path = folder / "idf.json"
    if not idf_path.is_file():
        raise KosparseError(f"{idf_path}: not found (train and query_idf save the idf.json of the query side here)")

    encoder = load_encoder(folder, device="cpu")  # traced on the CPU: OpenSearch's ML nodes load it there
    router = encoder[0]
    query, document = list(router.sub_modules["query"]), list(router.sub_modules["document"])
    shapes_ok = (
        len(query) == 1
        and isinstance(query[0], SparseStaticEmbedding)
        and len(document) == 2
        and isinstance(document[0], Transformer)
        and document[0].transformer_task == "fill-mask"
        and isinstance(document[1], BM25AnchoredPooling)
    )
    if not shapes_ok:
        raise KosparseError(
            f"{folder}: expected query [SparseStaticEmbedding] and document [Transformer(fill-mask), "
            f"BM25AnchoredPooling], found query {query} and document {document}"
        )
    transformer, static = document[0], query[0]
    tok = transformer.tokenizer
    idf_bytes = idf_path.read_bytes()
    idf = json.loads(idf_bytes)
    # The query side OpenSearch computes from idf.json must be the model's own query side.
    weights = idf_weights(tok, idf, str(idf_path))
    if not torch.equal(weights, static.weight.detach().float().cpu()):
        changed = int((weights != static.weight.detach().float().cpu()).sum())
        raise KosparseError(
            f"{idf_path}: {changed} token weights differ from the model's query weights; "
            "export the idf.json saved with the model"
        )

    special_ids = sorted(tok.all_special_ids)
    document_tokenizer = tokenizers.Tokenizer.from_str(tok.backend_tokenizer.to_str())
    document_tokenizer.no_padding()
    document_tokenizer.enable_truncation(transformer.max_seq_length)
    # The project tokenises queries without [CLS]/[SEP] and keeps max_seq_length tokens; OpenSearch
    # adds them, so its truncation must leave room for them.
    query_tokenizer = tokenizers.Tokenizer.from_str(static.tokenizer.backend_tokenizer.to_str())
    query_tokenizer.no_padding()
    query_tokenizer.enable_truncation(static.max_seq_length + query_tokenizer.num_special_tokens_to_add(False))
    report = idf_key_report(query_tokenizer, idf, special_ids)
    if report["special"]:
        raise KosparseError(f"{idf_path}: special tokens must not have weights: {report['special']}")
    return Variant(
        encoder=encoder,
        mlm=transformer.auto_model,
        pooling=document[1],
        max_length=transformer.max_seq_length,
        document_tokenizer=document_tokenizer,
        query_tokenizer=query_tokenizer,
        idf_bytes=idf_bytes,
        idf=idf,
        special_ids=special_ids,
        idf_report=report,
    )


class OpenSearchDocumentEncoder(torch.nn.Module):
    """The whole document side in one module: masked-LM logits → BM25AnchoredPooling.

    The pooling computes the BM25 part from `input_ids` / `attention_mask` and
    never weighs special tokens (OpenSearch drops them anyway: they decode to
    ""), so the trace needs nothing but what DJL passes it.
    """

    def __init__(self, mlm: torch.nn.Module, pooling: torch.nn.Module):
        super().__init__()
        self.mlm, self.pooling = mlm, pooling

    def forward(self, features: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
        ids, mask = features["input_ids"], features["attention_mask"]
        logits = self.mlm(input_ids=ids, attention_mask=mask)[0]
        pooled = self.pooling({"token_embeddings": logits, "input_ids": ids, "attention_mask": mask})
        return {"output": pooled["sentence_embedding"]}


def encode_batch(tok: tokenizers.Tokenizer, texts: Sequence[str]) -> dict[str, torch.Tensor]:
    """input_ids and attention_mask as OpenSearch builds them (tokenizer.json's truncation, padded batch)."""
    batch = copy.deepcopy(tok)
    batch.enable_padding(pad_id=tok.token_to_id("[PAD]") or 0)
    encodings = batch.encode_batch(list(texts))
    return {
        "input_ids": torch.tensor([e.ids for e in encodings], dtype=torch.long),
        "attention_mask": torch.tensor([e.attention_mask for e in encodings], dtype=torch.long),
    }


def trace_document_encoder(variant: Variant, example_text: str) -> bytes:
    """TorchScript bytes of the document side.

    Traced with eager attention (plain matmul/softmax, no scaled_dot_product_attention)
    so older libtorch builds in OpenSearch's DJL load it, and on a padded batch
    (a document and its first word) so the attention-mask path is recorded.
    """
    mlm = copy.deepcopy(variant.mlm).eval()
    mlm.set_attn_implementation("eager")
    module = OpenSearchDocumentEncoder(mlm, copy.deepcopy(variant.pooling)).eval()
    example = encode_batch(variant.document_tokenizer, [example_text, example_text.split()[0]])
    if len(set(example["attention_mask"].sum(dim=1).tolist())) < 2:
        raise KosparseError(f"tracing needs an example document longer than one word, got {example_text!r}")
    with torch.no_grad():
        traced = torch.jit.trace(module, (example,), strict=False)
    buffer = io.BytesIO()  # a file object gives the archive a fixed inner folder name ("archive")
    torch.jit.save(traced, buffer)
    return without_debug_info(buffer.getvalue())


def without_debug_info(pt: bytes) -> bytes:
    """The TorchScript archive less its *.debug_pkl records.

    They hold source ranges with absolute paths and line numbers of this file
    and of transformers, so the same model exported from another checkout or
    venv would differ byte for byte; loading and running do not need them.
    PyTorch's own archive reader/writer keep the format (alignment, version).
    """
    reader = torch._C.PyTorchFileReader(io.BytesIO(pt))
    written_by_writer = {".data/version", "version", "byteorder", ".data/serialization_id"}
    out = io.BytesIO()
    writer = torch._C.PyTorchFileWriter(out)
    for name in sorted(reader.get_all_records()):
        if not name.endswith(".debug_pkl") and name not in written_by_writer:
            record = reader.get_record(name)
            writer.write_record(name, record, len(record))
    writer.write_end_of_file()
    return out.getvalue()


def deterministic_zip(files: dict[str, bytes]) -> bytes:
    """A zip whose bytes depend only on the file names and contents."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name in sorted(files):
            info = zipfile.ZipInfo(name, date_time=ZIP_TIMESTAMP)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.create_system = 3  # Unix, whatever the host
            info.external_attr = 0o644 << 16
            archive.writestr(info, files[name], compresslevel=6)
    return buffer.getvalue()


def read_zip(data: bytes) -> dict[str, bytes]:
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        return {name: archive.read(name) for name in archive.namelist()}


def model_names(prefix: str, variant: str) -> dict[str, str]:
    return {"document": f"{prefix}-{variant}-doc", "tokenizer": f"{prefix}-{variant}-tokenizer"}


def build_zips(variant: Variant, names: dict[str, str], example_text: str) -> dict[str, bytes]:
    document_files = {
        f"{names['document']}.pt": trace_document_encoder(variant, example_text),
        "tokenizer.json": variant.document_tokenizer.to_str(pretty=True).encode("utf-8"),
    }
    tokenizer_files = {
        "tokenizer.json": variant.query_tokenizer.to_str(pretty=True).encode("utf-8"),
        "idf.json": variant.idf_bytes,
    }
    return {DOCUMENT_ZIP: deterministic_zip(document_files), TOKENIZER_ZIP: deterministic_zip(tokenizer_files)}


def registration_body(
    name: str, version: str, function_name: str, description: str, zip_bytes: bytes, model_config: dict
) -> dict:
    """The `POST /_plugins/_ml/models/_register` body, less `url` (where the zip is served)."""
    return {
        "name": name,
        "version": version,
        "description": description,
        "model_format": "TORCH_SCRIPT",
        "function_name": function_name,
        "model_content_size_in_bytes": len(zip_bytes),
        "model_content_hash_value": hashlib.sha256(zip_bytes).hexdigest(),
        "model_config": model_config,
    }


def registration_bodies(variant: Variant, names: dict[str, str], version: str, zips: dict[str, bytes]) -> dict:
    """Both registration bodies.

    ML Commons needs no model_config for SPARSE_ENCODING / SPARSE_TOKENIZE, but
    its custom-model docs list model_type, embedding_dimension and
    framework_type as required, and SPARSE_ENCODING reads model_max_length for
    its warm-up; the values describe the vocabulary-sized sparse output.
    """
    config = variant.mlm.config
    vocab = config.vocab_size
    document_config = {
        "model_type": config.model_type,
        "embedding_dimension": vocab,
        "framework_type": "huggingface_transformers",
        "model_max_length": variant.max_length,
        "all_config": json.dumps(config.to_diff_dict(), sort_keys=True, separators=(",", ":")),
    }
    tokenizer_config = {
        "model_type": config.model_type,
        "embedding_dimension": vocab,
        "framework_type": "huggingface_transformers",
        "model_max_length": variant.query_tokenizer.truncation["max_length"],
    }
    return {
        DOCUMENT_REGISTRATION: registration_body(
            names["document"],
            version,
            "SPARSE_ENCODING",
            f"Korean inference-free sparse document encoder ({vocab}-token vocabulary, {variant.max_length} "
            "tokens per document). Ingest only; search with the matching SPARSE_TOKENIZE model "
            f"{names['tokenizer']}.",
            zips[DOCUMENT_ZIP],
            document_config,
        ),
        TOKENIZER_REGISTRATION: registration_body(
            names["tokenizer"],
            version,
            "SPARSE_TOKENIZE",
            f"Query tokenizer with the query IDF weights served with {names['document']}: each query token "
            "weighs its idf.json value. Search only.",
            zips[TOKENIZER_ZIP],
            tokenizer_config,
        ),
    }


# --- OpenSearch's two inference paths, emulated from the zipped files ---------------------------------


def zip_tokenizer(zip_bytes: bytes) -> tokenizers.Tokenizer:
    return tokenizers.Tokenizer.from_str(read_zip(zip_bytes)["tokenizer.json"].decode("utf-8"))


def zip_document_encoder(zip_bytes: bytes) -> torch.jit.ScriptModule:
    (pt,) = [data for name, data in read_zip(zip_bytes).items() if name.endswith(".pt")]
    return torch.jit.load(io.BytesIO(pt), map_location="cpu")


def opensearch_query_vector(tok: tokenizers.Tokenizer, idf: dict[str, float], text: str) -> dict[str, float]:
    """SPARSE_TOKENIZE: distinct ids of the tokenised text, decoded, weighed by idf.json (1.0 if absent)."""
    tokens = {tok.decode([i], skip_special_tokens=True) for i in tok.encode(text).ids}
    return {t: float(np.float32(idf.get(t, 1.0))) for t in sorted(tokens) if t}


def opensearch_document_vectors(
    traced: torch.jit.ScriptModule, tok: tokenizers.Tokenizer, texts: Sequence[str]
) -> torch.Tensor:
    """SPARSE_ENCODING's model output, one text per call as ML Commons predicts it: [len(texts), vocab]."""
    rows = []
    with torch.no_grad():
        for text in texts:
            rows.append(traced(encode_batch(tok, [text]))["output"][0])
    return torch.stack(rows)


def lexical(vector: torch.Tensor, tok: tokenizers.Tokenizer) -> dict[str, float]:
    """{token: weight} as ML Commons returns a sparse vector (non-zero ids, special tokens dropped)."""
    ids = torch.nonzero(vector).flatten().tolist()
    tokens = {i: tok.decode([i], skip_special_tokens=True) for i in ids}
    return {tokens[i]: float(vector[i]) for i in ids if tokens[i]}


def document_parity(variant: Variant, document_zip: bytes, texts: Sequence[str]) -> dict:
    """The zipped trace against SparseEncoder.encode_document, text by text, on the non-special tokens."""
    traced, tok = zip_document_encoder(document_zip), zip_tokenizer(document_zip)
    exported = opensearch_document_vectors(traced, tok, texts)
    reference = variant.encoder.encode_document(
        list(texts), batch_size=1, convert_to_tensor=True, convert_to_sparse_tensor=False
    )
    keep = torch.ones(reference.shape[1], dtype=torch.bool)
    keep[variant.special_ids] = False
    reference = reference[:, keep]
    dims_exported, dims_reference = (exported[:, keep] > 0).sum(dim=1), (reference > 0).sum(dim=1)
    return {
        "documents": len(texts),
        "max_abs_diff": float((exported[:, keep] - reference).abs().max()),
        "special_token_max_weight": float(exported[:, ~keep].abs().max()) if (~keep).any() else 0.0,
        "active_dims_mismatches": int((dims_exported != dims_reference).sum()),
        "active_dims_mean": round(float(dims_exported.float().mean()), 2),
    }


def query_parity(variant: Variant, tokenizer_zip: bytes, queries: Sequence[str]) -> dict:
    """The zipped tokenizer + idf.json against SparseEncoder.encode_query, compared as {token: weight}."""
    files = read_zip(tokenizer_zip)
    tok = tokenizers.Tokenizer.from_str(files["tokenizer.json"].decode("utf-8"))
    idf = json.loads(files["idf.json"])
    reference = variant.encoder.encode_query(list(queries), convert_to_tensor=True, convert_to_sparse_tensor=False)
    mismatches = []
    for query, vector in zip(queries, reference, strict=True):
        if opensearch_query_vector(tok, idf, query) != lexical(vector, tok):
            mismatches.append(query)
    return {"queries": len(queries), "mismatches": len(mismatches), "mismatch_examples": mismatches[:3]}


# --- Pruning, as OpenSearch's sparse_encoding processor does it at ingest -----------------------------


def check_prune(setting: dict) -> tuple[str, float]:
    """(prune_type, prune_ratio) with OpenSearch's validity rules."""
    prune_type, ratio = setting.get("type"), setting.get("ratio", 0.0)
    if prune_type not in PRUNE_TYPES:
        raise KosparseError(f"export prune type {prune_type!r}: expected one of {', '.join(PRUNE_TYPES)}")
    valid = {
        "none": True,
        "max_ratio": isinstance(ratio, float) and 0 <= ratio < 1,
        "alpha_mass": isinstance(ratio, float) and 0 <= ratio < 1,
        "top_k": isinstance(ratio, int) and ratio > 0,
        "abs_value": isinstance(ratio, float) and ratio >= 0,
    }[prune_type]
    if not valid:
        rule = {"top_k": "a positive integer", "abs_value": "a float ≥ 0"}.get(prune_type, "a float in [0, 1)")
        raise KosparseError(f"export prune {prune_type} ratio = {ratio!r}: expected {rule}")
    return prune_type, float(ratio)


def prune_label(setting: dict) -> str:
    prune_type, ratio = check_prune(setting)
    if prune_type == "none":
        return "none"
    return f"{prune_type} {int(ratio)}" if prune_type == "top_k" else f"{prune_type} {ratio:g}"


def prune_rows(matrix: sparse.csr_matrix, setting: dict) -> sparse.csr_matrix:
    """Each row pruned like org.opensearch.neuralsearch.util.prune.PruneUtils (weights are all positive)."""
    prune_type, ratio = check_prune(setting)
    if prune_type == "none":
        return matrix.copy()
    matrix = matrix.tocsr()
    keep = np.zeros(matrix.nnz, dtype=bool)
    for row in range(matrix.shape[0]):
        start, end = matrix.indptr[row], matrix.indptr[row + 1]
        values = matrix.data[start:end]
        if not len(values):
            continue
        if prune_type == "max_ratio":
            kept = values >= ratio * values.max()
        elif prune_type == "abs_value":
            kept = values >= ratio
        else:
            order = np.argsort(-values, kind="stable")
            if prune_type == "top_k":
                top = order[: int(ratio)]
            else:  # alpha_mass: the heaviest tokens while their running sum stays within ratio × total
                top = order[np.cumsum(values[order]) <= ratio * values.sum()]
            kept = np.zeros(len(values), dtype=bool)
            kept[top] = True
        keep[start:end] = kept
    pruned = matrix.copy()
    pruned.data = np.where(keep, pruned.data, 0.0)
    pruned.eliminate_zeros()
    return pruned


class PrecomputedRetriever(SparseRetriever):
    """A SparseRetriever whose documents were encoded once; index() picks the collection's rows."""

    def __init__(self, name: str, model, texts: Sequence[str], matrix: sparse.csr_matrix):
        super().__init__(name, model)
        self.row_of = {text: row for row, text in enumerate(texts)}
        self.matrix = matrix

    def index(self, texts: Sequence[str]) -> None:
        self.docs = self.matrix[[self.row_of[t] for t in texts]]
        self.doc_matrices.append(self.docs)


def encode_documents(variant: Variant, texts: Sequence[str], batch_size: int) -> sparse.csr_matrix:
    """Document vectors as the exported encoder gives them: SparseEncoder's, special tokens zeroed."""
    encoded = document_matrix(variant.encoder, texts, batch_size)
    keep = np.ones(encoded.shape[1])
    keep[variant.special_ids] = 0.0
    matrix = (encoded @ sparse.diags(keep)).tocsr()
    matrix.eliminate_zeros()
    return matrix


def pruning_table(
    variant: Variant,
    documents: list[dict],
    pairs_by_split: dict[str, list[dict]],
    settings: Sequence[dict],
    top_k: int,
    batch_size: int,
    text_of: Callable[[dict], str],
) -> list[dict]:
    """nDCG@10 per dataset and split, and mean document active dims, for each prune setting.

    The collection is encoded once; every setting prunes those same vectors.
    """
    texts = [text_of(d) for d in documents]
    matrix = encode_documents(variant, texts, batch_size)
    rows = []
    for setting in settings:
        pruned = prune_rows(matrix, setting)
        label = prune_label(setting)
        results = evaluate_retriever(
            PrecomputedRetriever(label, variant.encoder, texts, pruned), documents, pairs_by_split, top_k, text_of
        )
        rows.append(
            {
                "prune": label,
                "doc_active_dims_mean": round(float(pruned.getnnz(axis=1).mean()), 2),
                "ndcg@10": {f"{d}/{s}": m["ndcg@10"] for d, splits in results.items() for s, m in splits.items()},
            }
        )
    return rows


# --- What goes into the folder besides the zips --------------------------------------------------------


def manifest(
    variant_name: str,
    variant: Variant,
    names: dict[str, str],
    version: str,
    prune: dict,
    files: dict,
    sparse_weight: float = 0.7,
) -> dict:
    """What the request printer (scripts/opensearch_requests.py) needs, read from the folder itself.

    `sparse_weight` is the neural_sparse query's weight in the hybrid search pipeline (evaluate tunes it
    on validation); BM25's is the rest, in the order of the hybrid query: [BM25, neural_sparse].
    """
    prune_type, _ = check_prune(prune)
    file_digests = {
        name: {"bytes": len(data), "sha256": hashlib.sha256(data).hexdigest()} for name, data in files.items()
    }
    query_tok = variant.query_tokenizer
    return {
        "variant": variant_name,
        "version": version,
        "models": {
            "document": {"name": names["document"], "function_name": "SPARSE_ENCODING", "zip": DOCUMENT_ZIP,
                         "registration": DOCUMENT_REGISTRATION},
            "tokenizer": {"name": names["tokenizer"], "function_name": "SPARSE_TOKENIZE", "zip": TOKENIZER_ZIP,
                          "registration": TOKENIZER_REGISTRATION},
        },
        "vocab_size": variant.mlm.config.vocab_size,
        "document_max_tokens": variant.max_length,
        "query_max_tokens": query_tok.truncation["max_length"] - query_tok.num_special_tokens_to_add(False),
        "prune": {"type": prune_type} if prune_type == "none" else {"type": prune_type, "ratio": prune["ratio"]},
        "hybrid_weights": [round(1 - sparse_weight, 4), round(sparse_weight, 4)],
        "files": file_digests,
    }  # fmt: skip


def _table(header: Sequence[str], rows: Sequence[Sequence]) -> list[str]:
    return ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)] + [
        "| " + " | ".join(str(c) for c in row) + " |" for row in rows
    ]


def model_card(
    variant_name: str,
    man: dict,
    data: dict,
    train_cfg: dict,
    train_summary: dict,
    eval_metrics: dict,
    parity: dict,
    prune_rows_: Sequence[dict],
) -> str:
    """README.md for the folder: what it holds, the data and its licences, the recipe, the numbers."""
    doc, tok = man["models"]["document"], man["models"]["tokenizer"]
    recipe = train_summary.get("recipe", {})
    scores = eval_metrics[variant_name]
    sparsity = eval_metrics.get("sparsity", {})
    lines = [
        f"# {doc['name']} / {tok['name']} — Korean inference-free sparse retrieval for OpenSearch",
        "",
        f"Variant `{variant_name}` of kosparse, version {man['version']}: a document encoder for ingest "
        "(`SPARSE_ENCODING`) and a query tokenizer for search (`SPARSE_TOKENIZE`). Queries need no model: "
        "each query token weighs its IDF.",
        "",
        "## Files",
        "",
        *_table(
            ["file", "what", "bytes", "sha256"],
            [
                (f"`{name}`", what, f"{man['files'][name]['bytes']:,}", f"`{man['files'][name]['sha256'][:16]}…`")
                for name, what in [
                    (DOCUMENT_ZIP, f"TorchScript trace `{doc['name']}.pt` + `tokenizer.json`"),
                    (TOKENIZER_ZIP, "`tokenizer.json` + `idf.json` (byte-identical to the model folder's)"),
                    (DOCUMENT_REGISTRATION, "`_register` body for the document encoder (add `url`)"),
                    (TOKENIZER_REGISTRATION, "`_register` body for the query tokenizer (add `url`)"),
                ]
            ],
        ),
        "",
        f"`{MANIFEST}` holds the names, limits and pruning that `scripts/opensearch_requests.py` reads.",
        "",
        "## How vectors are made",
        "",
        f"- Document: each of its first {man['document_max_tokens']} tokens (special tokens included) that is "
        "a word or number and not a particle/ending gets BM25's term-frequency weight "
        "tf / (tf + k1 · (1 − b + b · length / mean length)); BERT masked-LM logits → log(1 + ReLU) → max over "
        "tokens add a learned part, scaled by a trained gate, on the document's own tokens and its highest-scoring "
        f"other tokens; one weight per vocabulary token ({man['vocab_size']:,}). Special tokens weigh 0.",
        f"- Query: the distinct tokens among the first {man['query_max_tokens']} of the query, "
        "each weighted by `idf.json`, looked up by `decode([id])`.",
        "- Score: dot product of the two.",
        "",
        "## Data",
        "",
        *_table(
            ["source", "documents", "training examples", "machine-translated", "licence"],
            [
                (
                    s,
                    f"{d['documents']:,}",
                    f"{train_summary.get('examples', {}).get(s, 0):,}",
                    "yes" if d["machine_translated"] else "no",
                    d["licence"],
                )
                for s, d in sorted(data.items())
            ],
        ),  # fmt: skip
        "",
        "Licence notes: the model was trained on every source above; its use is bound by the most restrictive "
        "of their terms (MS MARCO: research use only). Check them before any commercial deployment.",
        "",
        "## Training recipe",
        "",
        f"sentence-transformers `SparseEncoder`, `SpladeLoss` around `{recipe.get('loss')}` "
        f"(in-batch + {train_cfg['negatives_per_query']} BM25 hard negative), FLOPS regulariser on documents "
        f"(λ = {train_cfg['document_regularizer_weight']:g}, quadratic warm-up over "
        f"{train_cfg['regularizer_warmup_ratio']:.0%} of the steps); {train_summary.get('steps')} steps of batch "
        f"{train_cfg['batch_size']} ({recipe.get('examples_seen', 0):,} examples seen), learning rate "
        f"{train_cfg['learning_rate']:g}, {train_cfg['max_length']} document tokens while training; BM25 anchor "
        f"{recipe.get('anchor')}. Best checkpoint by validation nDCG@10: step "
        f"{train_summary.get('best_checkpoint_step')} ({train_summary.get('best_validation_ndcg@10')}; step 0, the "
        f"anchor alone: {train_summary.get('step0_validation_ndcg@10')}).",
        "",
        "## Evaluation (real held-out queries, each dataset against its whole collection)",
        "",
        *_table(
            ["dataset / split", "queries", "nDCG@10", "MRR@10", "R@10", "R@100"],
            [
                (f"{dataset} / {split}", m["queries"], m["ndcg@10"], m["mrr@10"], m["recall@10"], m["recall@100"])
                for dataset, splits in sorted(scores.items())
                for split, m in sorted(splits.items())
            ],
        ),
        "",
        f"Sparsity: documents {sparsity.get('doc_active_dims_mean')} active dimensions on average, "
        f"queries {sparsity.get('query_active_dims_mean')}; FLOPS {sparsity.get('flops')}.",
        "",
        "## Parity with the trained model",
        "",
        f"- Document encoder (the zipped trace, run as OpenSearch runs it, one text per call) vs "
        f"`SparseEncoder.encode_document` on {parity['documents']['documents']} real documents: max abs "
        f"difference {parity['documents']['max_abs_diff']:.2e}, {parity['documents']['active_dims_mismatches']} "
        "documents with a different number of active dimensions.",
        f"- Query tokenizer (the zipped `tokenizer.json` + `idf.json`, as `SPARSE_TOKENIZE` reads them) vs "
        f"`SparseEncoder.encode_query` on {parity['queries']['queries']:,} real queries: "
        f"{parity['queries']['mismatches']} differ.",
        "",
        "## Pruning document vectors at ingest",
        "",
        f"The generated ingest pipeline prunes with `{prune_label(man['prune'])}` "
        "(`sparse_encoding` processor `prune_type` / `prune_ratio`). Effect on the test queries:",
        "",
        *_table(
            ["prune", "mean doc active dims", *sorted(k for k in prune_rows_[0]["ndcg@10"] if k.endswith("/test"))],
            [
                (
                    row["prune"],
                    f"{row['doc_active_dims_mean']:,}",
                    *(row["ndcg@10"][k] for k in sorted(k for k in row["ndcg@10"] if k.endswith("/test"))),
                )
                for row in prune_rows_
            ],
        ),  # fmt: skip
        "",
        "## Deploy",
        "",
        "See `docs/opensearch.md` in kosparse; `python -m scripts.opensearch_requests <this folder>` prints every "
        "request body with these model names.",
    ]
    return "\n".join(lines) + "\n"
