"""Training the document side with sentence-transformers, validation by retrieval, collapse guard.

Loss: SpladeLoss(SparseMultipleNegativesRankingLoss) — in-batch negatives plus
mined hard negatives — with the FLOPS regulariser on documents only (the query
side is a frozen IDF table). The sentence-transformers trainer ramps the
regulariser weight up quadratically (SpladeRegularizerWeightSchedulerCallback).
With distillation (kosparse.model.distill) a teacher-score loss takes the ranking
loss's place inside the same SpladeLoss.
"""

from __future__ import annotations

import logging
import math
import random

import torch
from datasets import Dataset, DatasetDict
from sentence_transformers import SparseEncoder, SparseEncoderTrainer, SparseEncoderTrainingArguments
from sentence_transformers.sentence_transformer.training_args import BatchSamplers, MultiDatasetBatchSamplers
from sentence_transformers.sparse_encoder.callbacks.splade_callbacks import SpladeRegularizerWeightSchedulerCallback
from sentence_transformers.sparse_encoder.evaluation import SparseInformationRetrievalEvaluator
from sentence_transformers.sparse_encoder.losses import SparseMultipleNegativesRankingLoss, SpladeLoss
from transformers import TrainerCallback

from kosparse.device import bf16_supported, torch_device
from kosparse.errors import KosparseError

log = logging.getLogger(__name__)

ROUTER_MAPPING = {"query": "query", "positive": "document"}


class CollapseError(KosparseError):
    """Document vectors went (nearly) all-zero: the regulariser won over the ranking loss."""


def check_train_config(cfg: dict) -> None:
    """Reject impossible settings before any model is loaded or any folder written."""
    if not isinstance(cfg.get("threads"), int) or cfg["threads"] < 0:
        raise KosparseError(f"train.threads = {cfg.get('threads')!r}: must be 0 (torch's default) or a thread count")
    for key in ("batch_size", "max_steps", "eval_steps", "probe_steps", "max_length"):
        value = cfg[key]
        if not isinstance(value, int) or isinstance(value, bool) or value <= 0:
            raise KosparseError(f"train.{key} = {value!r}: must be a positive integer")
    for key in ("learning_rate", "document_regularizer_weight"):
        if not isinstance(cfg[key], float) or cfg[key] < 0:
            raise KosparseError(f"train.{key} = {cfg[key]!r}: must be a non-negative float (write 2.0e-5, not 2e-5)")
    anchor = cfg.get("anchor")
    if not isinstance(anchor, dict) or set(anchor) != {"enabled", "expansion_tokens", "gate_scale"}:
        raise KosparseError(f"train.anchor = {anchor!r}: must map enabled, expansion_tokens and gate_scale")
    if not isinstance(anchor["enabled"], bool):
        raise KosparseError(f"train.anchor.enabled = {anchor['enabled']!r}: must be true or false")
    tokens = anchor["expansion_tokens"]
    if not isinstance(tokens, int) or isinstance(tokens, bool) or tokens < 0:
        raise KosparseError(f"train.anchor.expansion_tokens = {tokens!r}: must be a non-negative integer")
    if not isinstance(anchor["gate_scale"], float) or anchor["gate_scale"] <= 0:
        raise KosparseError(f"train.anchor.gate_scale = {anchor['gate_scale']!r}: must be a positive float")


def training_triples(pairs: list[dict], negatives: dict[str, list[str]], negatives_per_query: int) -> list[dict]:
    """Each pair's first positive and first n mined negatives; a query without enough mined negatives is skipped."""
    triples = []
    for pair in pairs:
        negs = negatives.get(pair["query_id"], [])[:negatives_per_query]
        if len(negs) == negatives_per_query:
            triples.append({
                "query_id": pair["query_id"],
                "query": pair["query"],
                "source": pair["source"],
                "positive_id": pair["positive_ids"][0],
                "negative_ids": negs,
            })  # fmt: skip
    return triples


def training_examples(
    pairs: list[dict],
    negatives: dict[str, list[str]],
    doc_text: dict[str, str],
    negatives_per_query: int,
    teacher_labels: dict[str, list[float]] | None = None,
    score_scale: float = 1.0,
) -> DatasetDict:
    """(query, positive, negative_1..n[, label]) rows, one dataset per source.

    Batches then come from one source at a time: in-batch negatives stay in
    the same collection, and short passages are not padded to long ones.
    With teacher labels (distillation) only the scored queries are kept, and
    `label` holds the teacher's scores for [positive, negative_1..n] times
    `score_scale`.
    """
    rows: dict[str, list[dict]] = {}
    for t in training_triples(pairs, negatives, negatives_per_query):
        row = {"query": t["query"], "positive": doc_text[t["positive_id"]]}
        row.update({f"negative_{i + 1}": doc_text[n] for i, n in enumerate(t["negative_ids"])})
        if teacher_labels is not None:
            if t["query_id"] not in teacher_labels:
                continue
            row["label"] = [score_scale * s for s in teacher_labels[t["query_id"]]]
        rows.setdefault(t["source"], []).append(row)
    if not rows:
        raise KosparseError("no training examples: the training pairs are empty or none has mined negatives")
    return DatasetDict({source: Dataset.from_list(source_rows) for source, source_rows in sorted(rows.items())})


def retrieval_evaluator(pairs: list[dict], documents: list[dict], name: str, batch_size: int):
    """nDCG@10 on real validation queries against their whole collection: the checkpoint selector."""
    sources = {p["source"] for p in pairs}
    corpus = {d["id"]: d["text"] for d in documents if d["source"] in sources}
    return SparseInformationRetrievalEvaluator(
        queries={p["query_id"]: p["query"] for p in pairs},
        corpus=corpus,
        relevant_docs={p["query_id"]: set(p["positive_ids"]) for p in pairs},
        name=name,
        batch_size=batch_size,
        ndcg_at_k=[10],
        mrr_at_k=[10],
        accuracy_at_k=[10],
        precision_recall_at_k=[10, 100],
        map_at_k=[100],
        write_csv=False,
    )


@torch.no_grad()
def mean_active_dims(model: SparseEncoder, texts: list[str], batch_size: int) -> float:
    was_training = model.training
    vectors = model.encode_document(
        texts, batch_size=batch_size, convert_to_sparse_tensor=False, convert_to_tensor=True
    )
    model.train(was_training)
    return float((vectors > 0).sum(dim=1).float().mean())


class CurvesAndCollapseGuard(TrainerCallback):
    """Logs curves to DVCLive and stops training when probe documents collapse.

    Every `probe_steps` the fixed probe documents are encoded; if their mean
    number of active dimensions falls below `floor` (all-zero documents give
    0, the loss then sits at ln 2 for one negative), training stops with
    CollapseError and no model is saved: a collapsed model, or one restored
    from before the collapse but still on its way down, is not worth shipping.
    """

    def __init__(
        self,
        model: SparseEncoder,
        probe_texts: list[str],
        probe_steps: int,
        floor: float,
        batch_size: int,
        live=None,
        metric_key: str = "",
    ):
        self.model, self.probe_texts, self.probe_steps, self.floor = model, probe_texts, probe_steps, floor
        self.batch_size, self.live, self.metric_key = batch_size, live, metric_key
        self.history: list[tuple[int, float]] = []

    def _log(self, name: str, value: float, step: int) -> None:
        if self.live is not None:
            self.live.step = step
            self.live.log_metric(name, value)

    def on_step_end(self, args, state, control, **kwargs):
        step = state.global_step
        if step % self.probe_steps and step != state.max_steps:
            return
        dims = mean_active_dims(self.model, self.probe_texts, self.batch_size)
        self.history.append((step, dims))
        self._log("probe/doc_active_dims", dims, step)
        if dims < self.floor:
            raise CollapseError(
                f"document vectors collapsed at step {step}: mean active dims on the probe documents = {dims:.1f} "
                f"(floor train.collapse_min_active_dims = {self.floor}); the FLOPS regulariser outweighs the ranking "
                "loss. Lower train.document_regularizer_weight (or lengthen its warm-up, "
                "train.regularizer_warmup_ratio) and run again; no model was saved."
            )

    def on_log(self, args, state, control, logs=None, **kwargs):
        if logs and "loss" in logs:
            self._log("train/loss", float(logs["loss"]), state.global_step)

    def on_evaluate(self, args, state, control, metrics=None, **kwargs):
        if metrics and self.metric_key in metrics:
            self._log("validation/ndcg@10", float(metrics[self.metric_key]), state.global_step)


def train(
    model: SparseEncoder,
    dataset: DatasetDict,
    evaluator,
    cfg: dict,
    work_dir: str,
    seed: int,
    probe_texts: list[str],
    live=None,
    ranking_loss=None,
) -> dict:
    """Train, keeping the checkpoint with the best validation nDCG@10 (not the lowest loss), step 0 included.

    `ranking_loss` replaces the in-batch-negatives loss (distillation passes
    SparseMarginMSELoss or SparseDistillKLDivLoss); the FLOPS regulariser stays.
    """
    loss = SpladeLoss(
        model,
        loss=SparseMultipleNegativesRankingLoss(model) if ranking_loss is None else ranking_loss,
        document_regularizer_weight=cfg["document_regularizer_weight"],
        query_regularizer_weight=None,  # inference-free: the query side is a frozen IDF table
    )
    metric_key = f"eval_{evaluator.name}_dot_ndcg@10"
    columns = next(iter(dataset.values())).column_names
    mapping = {**ROUTER_MAPPING, **{c: "document" for c in columns if c.startswith("negative")}}
    use_cpu = torch_device() == "cpu"
    args = SparseEncoderTrainingArguments(
        output_dir=work_dir,
        max_steps=cfg["max_steps"],
        per_device_train_batch_size=cfg["batch_size"],
        learning_rate=cfg["learning_rate"],
        warmup_steps=max(1, math.ceil(cfg["warmup_ratio"] * cfg["max_steps"])),
        batch_sampler=BatchSamplers.NO_DUPLICATES,
        multi_dataset_batch_sampler=MultiDatasetBatchSamplers.PROPORTIONAL,
        router_mapping=mapping,
        eval_strategy="steps",
        eval_steps=cfg["eval_steps"],
        save_strategy="steps",
        save_steps=cfg["eval_steps"],
        save_total_limit=2,
        load_best_model_at_end=True,
        metric_for_best_model=metric_key,
        greater_is_better=True,
        logging_steps=max(1, cfg["eval_steps"] // 5),
        seed=seed,
        data_seed=seed,
        report_to=[],
        use_cpu=use_cpu,
        bf16=bool(cfg.get("bf16", False)) and bf16_supported(),
    )
    guard = CurvesAndCollapseGuard(
        model, probe_texts, cfg["probe_steps"], cfg["collapse_min_active_dims"], cfg["batch_size"], live, metric_key
    )
    trainer = SparseEncoderTrainer(
        model=model,
        args=args,
        train_dataset=dataset,
        loss=loss,
        evaluator=evaluator,
        callbacks=[
            SpladeRegularizerWeightSchedulerCallback(
                loss, scheduler_type="quadratic", warmup_ratio=cfg["regularizer_warmup_ratio"]
            ),
            guard,
        ],
    )
    # Step 0 is a candidate checkpoint too: an anchored model starts as the lexical floor, and a run
    # that never beats it on validation ships the floor rather than something worse.
    initial = {name: tensor.detach().clone() for name, tensor in model.state_dict().items()}
    start = float(evaluator(model)[metric_key.removeprefix("eval_")])
    guard._log("validation/ndcg@10", start, 0)
    result = trainer.train()
    best, best_step = float(trainer.state.best_metric or 0.0), _checkpoint_step(trainer.state.best_model_checkpoint)
    if start >= best:
        model.load_state_dict(initial)
        best, best_step = start, 0
    return {
        "steps": trainer.state.global_step,
        "train_seconds": round(result.metrics["train_runtime"], 1),
        "step0_validation_ndcg@10": round(start, 4),
        "best_validation_ndcg@10": round(best, 4),
        "best_checkpoint_step": best_step,
        "probe_active_dims": [[s, round(d, 1)] for s, d in guard.history],
    }


def _checkpoint_step(path: str | None) -> int | None:
    return int(path.rsplit("-", 1)[1]) if path else None


def probe_documents(documents: list[dict], n: int, seed: int) -> list[str]:
    """A fixed sample of documents watched for collapse during training."""
    rng = random.Random(seed)
    return [d["text"] for d in rng.sample(documents, min(n, len(documents)))]
