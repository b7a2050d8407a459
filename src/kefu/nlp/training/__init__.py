"""``kefu nlp train``: rebuild the shipped models from ``../shared/data``.

Train-time only (scikit-learn, scipy); nothing at run time imports this package's
training modules. Each step yields progress lines for the command to print.
"""

from __future__ import annotations

import importlib
from collections.abc import Iterator
from pathlib import Path

import kefu.nlp

TASKS = ("intent", "sentiment", "matcher")


def artifacts_dir() -> Path:
    """Where the installed package looks for its models."""
    return Path(kefu.nlp.__file__).parent / "artifacts"


def train_all(data_dir: Path, *, only: str | None = None) -> Iterator[str]:
    if only is not None and only not in TASKS:
        raise ValueError(f"unknown task {only!r}; one of {', '.join(TASKS)}")
    out_dir = artifacts_dir()
    out_dir.mkdir(parents=True, exist_ok=True)
    # Imported per task: each pulls in scikit-learn, and the matcher's is written separately.
    if only in (None, "intent"):
        from kefu.nlp.training import intent

        yield from intent.train(data_dir, out_dir)
    if only in (None, "sentiment"):
        from kefu.nlp.training import sentiment

        yield from sentiment.train(data_dir, out_dir)
    if only in (None, "matcher"):
        # Looked up by name: that module is maintained separately and may not exist yet.
        matcher = importlib.import_module("kefu.nlp.training.matcher")
        yield from matcher.train(data_dir, out_dir)
