"""The language engine: a pure library (no web, no database) that understands buyer text.

Layers, lowest first: ``text`` (normalise), ``segment`` (words), then the models that read
normalised text: ``intents`` (what the buyer wants), ``sentiment`` (how they feel),
``entities`` (order numbers, sizes, amounts, dates …) and ``matcher`` (which FAQ entry
answers them). Models ship as small numpy artifacts in ``kefu/nlp/artifacts`` and are
rebuilt from ``../shared/data`` by ``kefu nlp train``.
"""
