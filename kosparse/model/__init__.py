"""The sparse encoder: tokenizer and IDF (the query side), the anchored document side, its training."""
