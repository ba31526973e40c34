"""Evaluation: the data sets, the metrics, the reference systems, and the runs that compare them.

- :mod:`qa.evaluation.datasets`: our JSONL question files, PIAF folders and SQuAD files, read
  as questions and the corpus they are asked against;
- :mod:`qa.evaluation.metrics`: ranking, highlight, passage length and no-answer figures, and
  their tables;
- :mod:`qa.evaluation.removed`: an article without the paragraph that answers a question (the
  negatives ``qa eval --removed`` asks, and :mod:`qa.learn` trains on);
- :mod:`qa.evaluation.baselines`: the naive design card and BM25 alone, measured beside the engine;
- :mod:`qa.evaluation.suite`: every data set against its corpus, the engine beside the baselines
  (``qa eval``).

Exported here: the data sets and the metrics, which load no model and no index; the suite and the
baselines, which run the engine, are imported from their modules.
"""

from __future__ import annotations

from qa.evaluation.datasets import Dataset, Question, read_dataset, read_questions
from qa.evaluation.metrics import Report, evaluate, format_markdown, format_report

__all__ = [
    "Dataset",
    "Question",
    "Report",
    "evaluate",
    "format_markdown",
    "format_report",
    "read_dataset",
    "read_questions",
]
