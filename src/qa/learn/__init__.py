"""The learned decision "the article answers this": its model, its training data, its trainer.

:mod:`qa.learn.model` is what serving reads (a logistic regression's weights in ``decision.json``,
no scikit-learn); :mod:`qa.learn.examples` builds labelled examples from PIAF folders by running
the engine, and :mod:`qa.learn.train` fits, calibrates and writes the model (``make train``).
"""
