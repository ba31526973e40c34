"""Every benchmark of the project, in one place and outside the library (``import qa`` never loads it).

- :mod:`bench.harness`: the ``qa bench`` table (latency, start-up, memory, HTTP, scaling), which
  ``qa bench`` finds in this checkout and runs; ``python -m bench`` does the same;
- ``load.py``: the long load test behind docs/reliability.md;
- ``scale_out.sh``: one process against ``uvicorn --workers N``;
- ``quantised.py``, ``onnx_path.py``, ``onnx_backend.py``: the encoders tried and not adopted
  (docs/performance.md).
"""
