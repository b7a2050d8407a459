"""Interface languages: zh-CN first, English available.

Catalogues are flat JSON files (``web/locales/<locale>.json``); a key missing from a
catalogue falls back to zh-CN, then to the key itself, so a missing translation is
visible but never breaks a page. A test checks both catalogues carry the same keys.
"""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Any

LOCALES = ("zh-CN", "en")
DEFAULT_LOCALE = "zh-CN"
_DIR = Path(__file__).parent / "locales"


@cache
def catalogue(locale: str) -> dict[str, str]:
    data: dict[str, str] = json.loads((_DIR / f"{locale}.json").read_text(encoding="utf-8"))
    return data


def translate(locale: str, key: str, **params: Any) -> str:
    text = catalogue(locale).get(key) or catalogue(DEFAULT_LOCALE).get(key) or key
    if params:
        try:
            return text.format(**params)
        except (KeyError, IndexError, ValueError):
            return text
    return text


def has(locale: str, key: str) -> bool:
    return key in catalogue(locale)


def pick_locale(*candidates: str | None) -> str:
    """The first supported locale among the candidates (cookie, preference, header …)."""
    for candidate in candidates:
        if not candidate:
            continue
        for part in candidate.split(","):
            tag = part.split(";")[0].strip().lower()
            if tag.startswith("zh"):
                return "zh-CN"
            if tag.startswith("en"):
                return "en"
    return DEFAULT_LOCALE
