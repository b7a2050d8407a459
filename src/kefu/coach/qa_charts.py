"""A trend as a small inline SVG sparkline: numbers in, coordinates out (the template draws
them; no script, no chart library). Days without a score leave a gap in the line."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Final

from kefu.coach.qa_reports import TrendPoint

WIDTH: Final = 120
HEIGHT: Final = 28
PAD: Final = 3


@dataclass(frozen=True, slots=True)
class Spark:
    width: int
    height: int
    lines: tuple[str, ...]  # polyline "x,y x,y" strings, one per run of buckets with scores
    dots: tuple[tuple[float, float], ...]  # buckets standing alone between gaps
    last: float | None  # the latest average shown
    label: str  # "first → last" for screen readers and the title


def sparkline(points: Sequence[TrendPoint], *, width: int = WIDTH, height: int = HEIGHT) -> Spark:
    """Scores 0–100 mapped onto the box (100 at the top), one x step per bucket."""
    step = (width - 2 * PAD) / max(1, len(points) - 1)

    def y(average: float) -> float:
        return round(height - PAD - (height - 2 * PAD) * max(0.0, min(100.0, average)) / 100, 1)

    runs: list[list[tuple[float, float]]] = [[]]
    for index, point in enumerate(points):
        if point.average is None:
            if runs[-1]:
                runs.append([])
            continue
        x = round(PAD + step * index if len(points) > 1 else width / 2, 1)
        runs[-1].append((x, y(point.average)))
    runs = [run for run in runs if run]
    lines = tuple(" ".join(f"{x},{y_}" for x, y_ in run) for run in runs if len(run) > 1)
    dots = tuple(run[0] for run in runs if len(run) == 1)
    known = [p.average for p in points if p.average is not None]
    label = "" if not known else f"{known[0]:g} → {known[-1]:g}"
    return Spark(
        width=width,
        height=height,
        lines=lines,
        dots=dots,
        last=known[-1] if known else None,
        label=label,
    )
