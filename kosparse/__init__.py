"""kosparse: train an inference-free Korean sparse retrieval model for OpenSearch."""

__version__ = "0.1.0"
