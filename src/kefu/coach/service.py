"""The coach's public face: what other domains, the demo and the pages call.

Each concept lives in a module of its own and is re-exported here, one section per owner:
rules, canned phrases, quality inspection and its reviews and reports, and the live check.
Sections are separated by ``# isort: split`` so each can be edited on its own.
"""

from __future__ import annotations

# --- rules (rules.py, defaults.py) ---------------------------------------------------------
from kefu.coach.rules import rule_specs as rule_specs

# isort: split
# --- canned phrases (phrases.py) -----------------------------------------------------------
from kefu.coach.phrases import render as render
from kefu.coach.phrases import variables_for as variables_for

# isort: split
# --- quality inspection (scoring.py) -------------------------------------------------------
from kefu.coach.scoring import score_conversation as score_conversation
