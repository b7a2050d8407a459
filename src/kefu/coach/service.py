"""The coach's public face: what other domains, the demo and the pages call.

Each concept lives in a module of its own and is re-exported here, one section per owner:
rules, canned phrases, quality inspection and its reviews and reports, and the live check.
Sections are separated by ``# isort: split`` so each can be edited on its own.
"""

from __future__ import annotations

# --- rules (rules.py, rule_checks.py, defaults.py) -----------------------------------------
from kefu.coach.rule_checks import validate_patterns as validate_patterns
from kefu.coach.rules import ShopRule as ShopRule
from kefu.coach.rules import create_rule as create_rule
from kefu.coach.rules import delete_rule as delete_rule
from kefu.coach.rules import get_rule as get_rule
from kefu.coach.rules import list_rules as list_rules
from kefu.coach.rules import reset_rules as reset_rules
from kefu.coach.rules import rule_specs as rule_specs
from kefu.coach.rules import update_rule as update_rule

# isort: split
# --- canned phrases (phrases.py, phrase_values.py) -----------------------------------------
from kefu.coach.phrase_values import VARIABLES as VARIABLES
from kefu.coach.phrase_values import check_variables as check_variables
from kefu.coach.phrase_values import example_values as example_values
from kefu.coach.phrase_values import render as render
from kefu.coach.phrase_values import variables_for as variables_for
from kefu.coach.phrases import create_phrase as create_phrase
from kefu.coach.phrases import delete_phrase as delete_phrase
from kefu.coach.phrases import get_phrase as get_phrase
from kefu.coach.phrases import list_phrases as list_phrases
from kefu.coach.phrases import search_phrases as search_phrases
from kefu.coach.phrases import update_phrase as update_phrase
from kefu.coach.phrases import use_phrase as use_phrase
from kefu.coach.phrases import values_seen_by as values_seen_by

# isort: split
# --- quality inspection (scoring.py, reviews.py, qa_detail.py, qa_reports.py, qa_lists.py) -
from kefu.coach.qa_detail import ScoreDetail as ScoreDetail
from kefu.coach.qa_detail import ScoreView as ScoreView
from kefu.coach.qa_detail import get_score as get_score
from kefu.coach.qa_detail import get_score_detail as get_score_detail
from kefu.coach.qa_lists import MyScores as MyScores
from kefu.coach.qa_lists import ScoreRow as ScoreRow
from kefu.coach.qa_lists import list_scores as list_scores
from kefu.coach.qa_lists import my_scores as my_scores
from kefu.coach.qa_lists import worst_conversations as worst_conversations
from kefu.coach.qa_periods import QaRange as QaRange
from kefu.coach.qa_periods import day_bounds as day_bounds
from kefu.coach.qa_periods import qa_range as qa_range
from kefu.coach.qa_reports import QualityOverview as QualityOverview
from kefu.coach.qa_reports import agent_trend as agent_trend
from kefu.coach.qa_reports import frequent_problems as frequent_problems
from kefu.coach.qa_reports import quality_overview as quality_overview
from kefu.coach.qa_reports import team_trend as team_trend
from kefu.coach.reviews import conversation_link as conversation_link
from kefu.coach.reviews import mark_read as mark_read
from kefu.coach.reviews import review_score as review_score
from kefu.coach.scoring import score_conversation as score_conversation
from kefu.coach.scoring import score_unscored as score_unscored

# isort: split
# --- live hints (live.py) ------------------------------------------------------------------
from kefu.coach.live import LiveCheck as LiveCheck
from kefu.coach.live import LiveHit as LiveHit
from kefu.coach.live import check_draft_for as check_draft_for
