"""Retrieval metrics, retrievers, stored document encodings, comparison and the results page."""
