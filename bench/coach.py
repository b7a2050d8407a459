"""The reply coach (质检), each figure beside a plain baseline measured in the same run.

    .venv/bin/python bench/coach.py                 # every section, about 20 s
    .venv/bin/python bench/coach.py --only engine   # the pure engine only

Each figure is printed beside its baseline and the ratio Kefu ÷ baseline, because the
machine is shared and noisy: only figures from the same run compare.

Sections (``main()`` runs them in turn; each returns rows for its own table):

1. engine: ``coach.engine.check_draft`` with the default rules on realistic drafts — a
   short reply, 500 characters, 5,000 characters (the most the engine reads) and a
   20,000-character paste (judged on its first 5,000) — after a 40-turn conversation (an
   angry complaint, questions, agent replies), the buyers' lines already read (the live
   check reads each buyer line once; ``readings.py`` remembers it). Baseline: the language
   engine's ``kefu.nlp.text.normalize`` of the same draft — the least any reading of it
   costs. p50 / p95 over ``--repeat`` calls, interleaved with the baseline's. Also: the
   first check after a new buyer line (the line is read by the language engine then;
   baseline: ``default_analyzer().classify`` of that line), the rules compiled afresh
   (after a shop's edit; baseline: a cached check), and ``inspect`` of the whole closed
   conversation (what scoring does; baseline: normalizing every turn).
2. service: ``coach.live.check_draft_for`` on a fresh SQLite database (and PostgreSQL with
   ``--postgres URL``) after a 40-message conversation, drafts of 20 / 500 / 5,000 / 20,000
   characters, beside a bare SELECT of the conversation's messages; and ``POST
   /api/v1/coach/check`` over HTTP beside ``GET /healthz`` (bench/coach_live.py).

See bench/README.md.
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from kefu.coach import detectors
from kefu.coach.defaults import DEFAULT_RULES
from kefu.coach.engine import Turn, check_draft, inspect
from kefu.coach.readings import read_buyer
from kefu.nlp.analyzer import default_analyzer
from kefu.nlp.text import normalize

ROOT = Path(__file__).resolve().parents[1]
T0 = datetime(2024, 5, 1, 2, 0, tzinfo=UTC)
TARGET_MS = 10.0  # check_draft p95 on a 5,000-character draft with 40 turns of context

# --- the report ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Row:
    measure: str
    kefu: str
    baseline: str = ""
    ratio: str = ""
    target: str = ""


def ratio(kefu: float, baseline: float) -> str:
    return f"{kefu / baseline:.1f}×" if baseline else ""


def table(title: str, rows: Iterable[Row]) -> str:
    header = Row("", "Kefu", "baseline", "Kefu ÷ base", "target")
    cells = [(r.measure, r.kefu, r.baseline, r.ratio, r.target) for r in [header, *rows]]
    widths = [max(len(row[column]) for row in cells) for column in range(5)]
    out = [title]
    for number, row in enumerate(cells):
        figures = "".join(
            f"  {cell.rjust(width)}" for cell, width in zip(row[1:4], widths[1:4], strict=True)
        )
        out.append(f"  {row[0].ljust(widths[0])}{figures}  {row[4]}".rstrip())
        if number == 0:
            out.append("  " + "-" * (sum(widths) + 8))
    return "\n".join(out)


def revision() -> str:
    try:
        described = subprocess.run(
            ["git", "describe", "--always", "--dirty"],  # noqa: S607 (git, to name what was measured)
            cwd=ROOT,
            capture_output=True,
            text=True,
            check=True,
        )
    except (OSError, subprocess.CalledProcessError):
        return "unknown"
    return described.stdout.strip()


def progress(text: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {text}", file=sys.stderr, flush=True)


@dataclass(frozen=True)
class Paired:
    """p50 / p95 in ms of a call and its baseline, timed alternately."""

    kefu: tuple[float, float]
    base: tuple[float, float]

    def row(self, measure: str, target: str = "") -> Row:
        return Row(
            measure,
            f"{self.kefu[0]:.3f} / {self.kefu[1]:.3f} ms",
            f"{self.base[0]:.3f} / {self.base[1]:.3f} ms",
            f"{ratio(self.kefu[0], self.base[0])} / {ratio(self.kefu[1], self.base[1])}",
            target,
        )


def _cuts(samples: list[int]) -> tuple[float, float]:
    cuts = statistics.quantiles(samples, n=100, method="inclusive")
    return cuts[49] / 1e6, cuts[94] / 1e6


def paired(kefu: Callable[[int], object], base: Callable[[int], object], repeat: int) -> Paired:
    """Each call gets the iteration number (to vary its input when it must be fresh)."""
    for warm in range(min(20, repeat)):
        kefu(-1 - warm)
        base(-1 - warm)
    ours: list[int] = []
    theirs: list[int] = []
    for number in range(repeat):
        started = time.perf_counter_ns()
        kefu(number)
        ours.append(time.perf_counter_ns() - started)
        started = time.perf_counter_ns()
        base(number)
        theirs.append(time.perf_counter_ns() - started)
    return Paired(_cuts(ours), _cuts(theirs))


# --- section 1: the engine -------------------------------------------------------------------

_BUYER = [
    "在吗",
    "你们的东西质量真的太差了，和介绍来的差那么多，我要退款！！",
    "衣服穿了一次就起球了，这是什么破质量",
    "订单号 240501123456",
    "照片发你了，你看看",
    "那什么时候能给我换？",
    "快递到哪了，怎么还没到",
    "能发顺丰吗",
    "好的，麻烦快点",
    "收到了，这次颜色对了",
]
_AGENT = [
    "您好，很高兴为您服务，请问有什么可以帮您？",
    "亲，非常抱歉给您带来了不好的体验，请您先消消气，麻烦把订单号发给我好吗？",
    "收到，我马上为您核实，请您稍等。",
    "让您久等了，确实是我们的疏忽，如果您同意，我们马上为您换一件新的。",
    "新的一件今天下午就发出，运费由我们承担。",
    "已经为您备注优先发货了，发中通快递。",
    "亲，顺丰需要补差价哦，您看可以吗？",
    "好的，已经为您安排加急处理。",
    "感谢您的理解，还有什么可以帮您的吗？",
    "满意的话麻烦给个五星评价，谢谢亲，祝您生活愉快！",
]


def conversation(turns: int = 40) -> list[Turn]:
    """A realistic 40-turn chat: buyer and agent alternating, a complaint near the start."""
    out: list[Turn] = []
    for number in range(turns):
        at = T0 + timedelta(minutes=number * 1.5)
        if number % 2 == 0:
            out.append(Turn(role="buyer", text=_BUYER[(number // 2) % len(_BUYER)], at=at))
        else:
            text = _AGENT[(number // 2) % len(_AGENT)]
            out.append(Turn(role="agent", text=text, at=at, agent_id=1))
    return out


def drafts() -> dict[str, str]:
    paragraph = "".join(_AGENT[1:9])
    long_text = (paragraph * (20_000 // len(paragraph) + 1))[:20_000]
    return {
        "short (18 chars)": "非常抱歉，我马上为您处理换货。",
        "500 chars": long_text[:500],
        "5,000 chars": long_text[:5_000],
        "20,000 chars (read: 5,000)": long_text,
        "angry answer: 那你退款好了": "那你退款好了",
    }


def engine_section(repeat: int) -> tuple[str, list[Row]]:
    progress("engine: loading the language engine and reading the conversation")
    context = conversation()
    now = context[-1].at + timedelta(minutes=1)
    context.append(Turn(role="buyer", text="质量太差了，我要投诉！", at=context[-1].at))
    rows: list[Row] = []

    def check(text: str, turns: list[Turn] = context) -> object:
        return check_draft(turns, text, DEFAULT_RULES, agent_id=1, now=now, read_buyer=read_buyer)

    def on(text: str) -> tuple[Callable[[int], object], Callable[[int], object]]:
        return (lambda _n: check(text)), (lambda _n: normalize(text))

    for label, text in drafts().items():
        progress(f"engine: check_draft, {label}")
        timing = paired(*on(text), repeat)
        target = ""
        if label.startswith("5,000"):
            target = f"p95 < {TARGET_MS:g} ms {'ok' if timing.kefu[1] < TARGET_MS else 'MISSED'}"
        rows.append(timing.row(f"check_draft, {label} (base: normalize)", target))

    progress("engine: the first check after a new buyer line")
    reply = drafts()["500 chars"]

    def fresh_line(number: int) -> str:
        return f"第{number + 100_000}次了，你们的东西质量真的太差了，我要投诉！"

    def first_check(number: int) -> object:
        line = Turn(role="buyer", text=fresh_line(number), at=context[-1].at)
        return check(reply, [*context, line])

    timing = paired(
        first_check, lambda n: default_analyzer().classify(fresh_line(n + 500_000)), repeat
    )
    rows.append(timing.row("check_draft, 500 chars, new buyer line (base: classify it)"))

    progress("engine: rules compiled afresh")

    def cold(_n: int) -> object:
        detectors._compile.cache_clear()
        return check(reply)

    timing = paired(cold, lambda _n: check(reply), max(50, repeat // 5))
    rows.append(timing.row("check_draft, 500 chars, rules compiled (base: cached)"))

    progress("engine: inspect a closed 40-turn conversation")
    closed = conversation()
    texts = [turn.text for turn in closed]
    timing = paired(
        lambda _n: inspect(
            closed, DEFAULT_RULES, closed=True, now=closed[-1].at, read_buyer=read_buyer
        ),
        lambda _n: [normalize(text) for text in texts],
        repeat,
    )
    rows.append(timing.row("inspect, closed, 40 turns (base: normalize every turn)"))
    title = (
        f"engine: coach.engine with the {len(DEFAULT_RULES)} default rules, "
        f"{len(context)} turns of context, p50 / p95 over {repeat} calls"
    )
    return title, rows


# --- section 2: the live check as a request pays for it (bench/coach_live.py) -----------------


def service_section(repeat: int) -> tuple[str, list[Row]]:
    """check_draft_for on SQLite (and --postgres) beside a bare SELECT; POST /check over HTTP."""
    import coach_live  # beside this file: run as a script, bench/ is on the path

    title, rows = coach_live.service_section(repeat)
    return title, [Row(r.measure, r.kefu, r.baseline, r.ratio, r.target) for r in rows]


# --- main ------------------------------------------------------------------------------------

SECTIONS: dict[str, Callable[[int], tuple[str, list[Row]]]] = {
    "engine": engine_section,
    "service": service_section,
}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description="The reply coach beside baselines measured in the same run "
        "(see bench/README.md)."
    )
    parser.add_argument("--only", choices=sorted(SECTIONS), help="run one section")
    parser.add_argument("--repeat", type=int, default=500, help="timed calls per figure")
    parser.add_argument(
        "--postgres", metavar="URL", help="service section: also on this PostgreSQL server"
    )
    args = parser.parse_args(argv)
    if args.postgres:
        import coach_live

        coach_live.use_postgres(args.postgres)
    print(
        f"Kefu reply coach: revision {revision()}; Python {platform.python_version()}; "
        f"load average before: {' '.join(f'{x:.2f}' for x in os.getloadavg())} "
        f"on {os.cpu_count()} cores",
        flush=True,
    )
    for name, section in SECTIONS.items():
        if args.only and name != args.only:
            continue
        title, rows = section(args.repeat)
        print()
        print(table(title, rows))
    print(
        f"\nload average after: {' '.join(f'{x:.2f}' for x in os.getloadavg())}"
        " (figures from a busy machine do not compare across runs; the ratios do better)"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
