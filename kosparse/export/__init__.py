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
