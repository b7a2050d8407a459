"""docs/ARCHITECTURE.md stays true: import rules and the event catalogue, read from the code."""

from __future__ import annotations

import ast
import inspect
import pkgutil
import re
from pathlib import Path

import kefu
from kefu.events import Event

SRC = Path(kefu.__file__).parent
DOC = SRC.parents[1] / "docs" / "ARCHITECTURE.md"
# Lowest first: a domain may import only those before it.
DOMAINS = [
    "shops", "accounts", "crm", "commerce", "conversations", "channels", "sales", "kb", "bot",
    "tickets", "coach", "analytics", "demo",
]  # fmt: skip
PUBLIC = {"service", "models", "events", "schemas", "auth", "presence", "desk"}
WEB_FREE = {
    "service", "models", "events", "schemas", "auth", "passwords",
    "presence", "messages", "routing", "desk", "uploads", "visitors", "frames", "subscribers",
    "history", "receipts", "availability", "transfers", "cards", "snapshots", "desk_commerce",
    "reception", "hours", "suggestions", "watchdog", "summary",
    "orders", "order_questions", "order_answers",
    "queries", "lines", "ingest", "ingest_common", "ingest_products", "ingest_orders",
    "payloads", "webhooks", "integration", "fields",
    "entries", "catalogue", "index", "answers", "unanswered", "unanswered_inbox", "case_photos",
    "unanswered_resolution", "lint", "transfer", "spreadsheets",
    "cases", "case_checks", "case_messages", "case_reads",
    "conversion", "conversion_report", "conversion_sweep",
    "reminders", "reminder_sender", "reminder_report", "settings",
    "import_rows", "import_cells", "import_parse", "browse",
    "lifecycle", "comments", "mentions", "notifications", "merging", "bulk",
    "custom_fields", "notices", "drafts", "calendar", "holidays_cn", "sla", "sla_watch",
    "sla_report", "escalation", "shifts", "handover", "handover_watch", "listing", "views",
    "sla_policies", "work_hours", "sla_clocks",
    "shift_times", "shift_checks", "handover_items", "handover_reads", "duty",
    "escalation_sources",
    "checks", "assignment", "statuses", "links", "detail",
    "tickets", "ticket_plot", "ticket_stories", "ticket_escalations", "coach", "coach_stories",
    "engine", "turns", "readings", "defaults", "rules", "phrases", "scoring", "qa_sweep",
    "text", "detectors", "prefilter", "episodes", "evaluation", "cli",
    "rule_checks", "phrase_values",
    "live", "live_schemas",
    "reviews", "qa_detail", "qa_lists", "qa_periods", "qa_reports", "qa_charts", "qa_schemas",
}  # fmt: skip
CORE = {
    "config", "clock", "db", "uow", "events", "errors", "logs", "migrate", "validation",
    "spreadsheets",
}  # fmt: skip


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module:
            found.add(node.module)
            found |= {f"{node.module}.{alias.name}" for alias in node.names}
    return found


def _modules() -> list[tuple[str, Path]]:
    return [
        (".".join(path.relative_to(SRC.parent).with_suffix("").parts), path)
        for path in sorted(SRC.rglob("*.py"))
        if "migrations" not in path.parts
    ]


def test_domains_import_only_lower_domains_public_modules() -> None:
    problems = []
    for name, path in _modules():
        parts = name.split(".")
        if len(parts) < 3 or parts[1] not in DOMAINS:
            continue
        own = DOMAINS.index(parts[1])
        for imported in _imports(path):
            bits = imported.split(".")
            if bits[0] != "kefu" or len(bits) < 2 or bits[1] not in DOMAINS or bits[1] == parts[1]:
                continue
            if parts[2].endswith(("routes", "pages")) and imported.startswith("kefu.accounts.auth"):
                continue  # the HTTP layer of every domain knows the caller (Principal)
            if DOMAINS.index(bits[1]) > own:
                problems.append(f"{name} imports higher domain {imported}")
            elif len(bits) > 2 and bits[2] not in PUBLIC:
                problems.append(f"{name} imports another domain's internals: {imported}")
    assert problems == []


def test_realtime_uses_only_public_modules_of_domains() -> None:
    """The websocket edge, like the web layer, sits above every domain."""
    problems = []
    for name, path in _modules():
        if not name.startswith("kefu.realtime."):
            continue
        for imported in _imports(path):
            bits = imported.split(".")
            if len(bits) > 2 and bits[1] in DOMAINS and bits[2] not in PUBLIC:
                problems.append(f"{name} imports another domain's internals: {imported}")
    assert problems == []


def test_business_code_has_no_web_imports() -> None:
    problems = []
    for name, path in _modules():
        parts = name.split(".")
        is_core = len(parts) == 2 and parts[1] in CORE
        is_business = len(parts) == 3 and parts[1] in DOMAINS and parts[2] in WEB_FREE
        if not (is_core or is_business):
            continue
        for imported in _imports(path):
            if imported.split(".")[0] in ("fastapi", "starlette") or imported.startswith(
                "kefu.web"
            ):
                problems.append(f"{name} imports {imported}")
    assert problems == []


# The language engine is a pure library: run time needs these and nothing of Kefu's own.
NLP_RUNTIME = {"numpy", "jieba", "opencc", "pypinyin", "click"}
NLP_TRAINING = NLP_RUNTIME | {"sklearn", "scipy", "bm25s"}


def test_the_language_engine_is_pure() -> None:
    """kefu.nlp imports no web framework, no database and no domain; scikit-learn only
    where models are trained (run time needs numpy alone)."""
    import sys

    allowed_stdlib = set(sys.stdlib_module_names)
    problems = []
    for name, path in _modules():
        if not name.startswith("kefu.nlp"):
            continue
        allowed = NLP_TRAINING if name.startswith("kefu.nlp.training") else NLP_RUNTIME
        for imported in _imports(path):
            top = imported.split(".")[0]
            if top == "kefu":
                if not imported.startswith("kefu.nlp"):
                    problems.append(f"{name} imports {imported}")
            elif top not in allowed and top not in allowed_stdlib and top != "__future__":
                problems.append(f"{name} imports {imported}")
    assert problems == []


def test_core_does_not_import_domains() -> None:
    problems = []
    for core in CORE:
        for imported in _imports(SRC / f"{core}.py"):
            bits = imported.split(".")
            if bits[0] == "kefu" and len(bits) > 1 and bits[1] in DOMAINS:
                problems.append(f"kefu.{core} imports {imported}")
    assert problems == []


def test_only_config_reads_the_environment() -> None:
    readers = [
        name
        for name, path in _modules()
        if re.search(r"os\.environ|os\.getenv|getenv\(", path.read_text(encoding="utf-8"))
    ]
    assert readers == []  # config.py reads it through pydantic-settings, not os.environ


def test_every_event_is_in_the_catalogue() -> None:
    for info in pkgutil.walk_packages(kefu.__path__, "kefu."):
        if info.name.endswith(".events"):
            __import__(info.name)
    documented = set(re.findall(r"^\| `(\w+)` \|", DOC.read_text(encoding="utf-8"), re.MULTILINE))
    events = {cls.__name__ for cls in _subclasses(Event)}
    assert events - documented == set(), "events missing from docs/ARCHITECTURE.md"
    assert {e for e in documented if e.endswith(("ed", "Sent", "In", "Out"))} - events == set()


def _subclasses(cls: type) -> set[type]:
    found = set()
    for sub in cls.__subclasses__():
        if inspect.getmodule(sub) and sub.__module__.startswith("kefu."):
            found.add(sub)
        found |= _subclasses(sub)
    return found
