"""Both interface languages are complete, and every key a template uses exists."""

from __future__ import annotations

import re
from pathlib import Path

from kefu.errors import Conflict
from kefu.web import i18n
from kefu.web.errors import localised

TEMPLATES = Path(i18n.__file__).parent / "templates"


def test_catalogues_have_the_same_keys() -> None:
    zh, en = i18n.catalogue("zh-CN"), i18n.catalogue("en")
    assert set(zh) - set(en) == set(), "missing in English"
    assert set(en) - set(zh) == set(), "missing in Chinese"
    assert all(value.strip() for value in [*zh.values(), *en.values()])


def test_every_literal_key_in_templates_is_translated() -> None:
    used: set[str] = set()
    for template in TEMPLATES.rglob("*.html"):
        used |= set(re.findall(r"t\('([a-z_.]+)'\)", template.read_text(encoding="utf-8")))
    assert used, "found no translation calls: did the template syntax change?"
    assert sorted(key for key in used if not i18n.has("zh-CN", key)) == []


def test_locale_negotiation_prefers_chinese() -> None:
    assert i18n.pick_locale(None) == "zh-CN"
    assert i18n.pick_locale("en-US,en;q=0.9") == "en"
    assert i18n.pick_locale("zh-TW,zh;q=0.9,en;q=0.5") == "zh-CN"
    assert i18n.pick_locale("fr-FR") == "zh-CN"


def test_translation_fills_parameters_and_survives_bad_ones() -> None:
    assert "30" in i18n.translate("zh-CN", "errors.rate_limited", retry_after_seconds=30)
    assert i18n.translate("en", "errors.rate_limited", wrong=1).startswith("Too many")
    assert i18n.translate("en", "no.such.key") == "no.such.key"


def test_a_refusal_about_one_of_many_items_words_the_items_reason_in_the_readers_language() -> None:
    # A bulk change refused by one ticket: the outer message names the ticket, the inner
    # reason is that ticket's own refusal, which has a translation of its own.
    refused = Conflict(
        "ticket #1001: ticket #1001 is closed; no ticket was changed",
        key="errors.tickets.bulk_refused",
        number=1001,
        reason="ticket #1001 is closed",
        reason_key="errors.tickets.closed_is_final",
        reason_params={"number": 1001},
    )
    chinese = localised("zh-CN", refused)
    assert "工单 #1001 已关闭" in chinese
    assert "is closed" not in chinese
    assert "closed" in localised("en", refused).lower()
