"""Collected data and what the pipeline derives from it: sources, collection, mixes, negatives, trends."""
