"""The tickets domain's public face: other domains and the web layer call these.

Each concept lives in a module of its own and is re-exported here, one section per owner:
the ticket itself (:mod:`~kefu.tickets.lifecycle` with assignment, statuses and links,
:mod:`~kefu.tickets.history`, :mod:`~kefu.tickets.detail`), its custom fields, the buyer's
notices, drafts from a conversation and the shop's ticket settings. Sections are separated
by ``# isort: split`` so each can be edited on its own.
"""

from __future__ import annotations

# --- the ticket: create, edit, assign, statuses, links, history, detail -------------------
from kefu.tickets.checks import MAX_ATTACHMENTS as MAX_ATTACHMENTS
from kefu.tickets.checks import MAX_DESCRIPTION_LENGTH as MAX_DESCRIPTION_LENGTH
from kefu.tickets.checks import MAX_TAGS as MAX_TAGS
from kefu.tickets.checks import MAX_TITLE_LENGTH as MAX_TITLE_LENGTH
from kefu.tickets.detail import TicketDetail as TicketDetail
from kefu.tickets.detail import ticket_detail as ticket_detail
from kefu.tickets.history import HistoryRow as HistoryRow
from kefu.tickets.history import history_of as history_of
from kefu.tickets.history import record_change as record_change
from kefu.tickets.lifecycle import KEEP as KEEP
from kefu.tickets.lifecycle import _Keep as _Keep
from kefu.tickets.lifecycle import add_attachments as add_attachments
from kefu.tickets.lifecycle import assign_ticket as assign_ticket
from kefu.tickets.lifecycle import change_status as change_status
from kefu.tickets.lifecycle import create_ticket as create_ticket
from kefu.tickets.lifecycle import get_ticket as get_ticket
from kefu.tickets.lifecycle import link_conversation as link_conversation
from kefu.tickets.lifecycle import link_order as link_order
from kefu.tickets.lifecycle import lock_ticket as lock_ticket
from kefu.tickets.lifecycle import refresh_search_text as refresh_search_text
from kefu.tickets.lifecycle import reopen_ticket as reopen_ticket
from kefu.tickets.lifecycle import tags_of as tags_of
from kefu.tickets.lifecycle import unlink_conversation as unlink_conversation
from kefu.tickets.lifecycle import unlink_order as unlink_order
from kefu.tickets.lifecycle import update_ticket as update_ticket
from kefu.tickets.models import CommentKind as CommentKind
from kefu.tickets.models import FieldKind as FieldKind
from kefu.tickets.models import Ticket as Ticket
from kefu.tickets.models import TicketPriority as TicketPriority
from kefu.tickets.models import TicketStatus as TicketStatus
from kefu.tickets.models import TicketType as TicketType

# isort: split
# --- custom fields, the buyer's notices, drafts, settings ----------------------------------
from kefu.tickets.custom_fields import check_values as check_values
from kefu.tickets.custom_fields import create_field as create_field
from kefu.tickets.custom_fields import delete_field as delete_field
from kefu.tickets.custom_fields import fields_for as fields_for
from kefu.tickets.custom_fields import get_field as get_field
from kefu.tickets.custom_fields import update_field as update_field
from kefu.tickets.drafts import TicketDraft as TicketDraft
from kefu.tickets.drafts import draft_from_conversation as draft_from_conversation
from kefu.tickets.notices import DEFAULT_NOTICES as DEFAULT_NOTICES
from kefu.tickets.notices import NOTICE_KEYS as NOTICE_KEYS
from kefu.tickets.notices import tell_buyer as tell_buyer
from kefu.tickets.settings import read_settings as read_settings
from kefu.tickets.settings import ticket_settings as ticket_settings
from kefu.tickets.settings import update_ticket_settings as update_ticket_settings

# isort: split
# --- lists and saved views ------------------------------------------------------------------
from kefu.tickets.listing import SLA_STATES as SLA_STATES
from kefu.tickets.listing import SORTS as SORTS
from kefu.tickets.listing import TicketFilter as TicketFilter
from kefu.tickets.listing import TicketRow as TicketRow
from kefu.tickets.listing import count_tickets as count_tickets
from kefu.tickets.listing import list_tickets as list_tickets
from kefu.tickets.views import create_view as create_view
from kefu.tickets.views import delete_view as delete_view
from kefu.tickets.views import filter_of as filter_of
from kefu.tickets.views import filter_to_json as filter_to_json
from kefu.tickets.views import get_view as get_view
from kefu.tickets.views import is_shared as is_shared
from kefu.tickets.views import list_views as list_views
from kefu.tickets.views import parse_filter as parse_filter
from kefu.tickets.views import update_view as update_view

# isort: split
# --- comments, mentions, merge and split, bulk changes, notifications ------------------------
from kefu.tickets.bulk import MAX_BULK as MAX_BULK
from kefu.tickets.bulk import BulkChange as BulkChange
from kefu.tickets.bulk import bulk_update as bulk_update
from kefu.tickets.comments import MAX_COMMENT_LENGTH as MAX_COMMENT_LENGTH
from kefu.tickets.comments import add_comment as add_comment
from kefu.tickets.comments import buyer_wrote as buyer_wrote
from kefu.tickets.comments import comments_of as comments_of
from kefu.tickets.mentions import parse_mentions as parse_mentions
from kefu.tickets.merging import merge_tickets as merge_tickets
from kefu.tickets.merging import split_ticket as split_ticket
from kefu.tickets.notifications import list_notifications as list_notifications
from kefu.tickets.notifications import mark_read as mark_read
from kefu.tickets.notifications import notify as notify
from kefu.tickets.notifications import supervisors_of as supervisors_of
from kefu.tickets.notifications import unread_count as unread_count

# isort: split
# --- SLAs: the business calendar, policies, clocks, the report -----------------------------
from kefu.tickets.calendar import WorkCalendar as WorkCalendar
from kefu.tickets.calendar import calendar_of as calendar_of
from kefu.tickets.calendar import calendar_settings as calendar_settings
from kefu.tickets.calendar import remove_calendar_day as remove_calendar_day
from kefu.tickets.calendar import set_calendar_day as set_calendar_day
from kefu.tickets.calendar import update_calendar as update_calendar
from kefu.tickets.sla import SlaClock as SlaClock
from kefu.tickets.sla import clocks_of as clocks_of
from kefu.tickets.sla import sla_state_of as sla_state_of
from kefu.tickets.sla_policies import create_policy as create_policy
from kefu.tickets.sla_policies import delete_policy as delete_policy
from kefu.tickets.sla_policies import ensure_policies as ensure_policies
from kefu.tickets.sla_policies import get_policy as get_policy
from kefu.tickets.sla_policies import list_policies as list_policies
from kefu.tickets.sla_policies import policy_for as policy_for
from kefu.tickets.sla_policies import update_policy as update_policy
from kefu.tickets.sla_report import breach_report as breach_report
from kefu.tickets.sla_report import list_breaches as list_breaches
from kefu.tickets.sla_watch import check_deadlines as check_deadlines

# isort: split
# --- escalation to the duty manager, shifts, handover (交班) --------------------------------
from kefu.tickets.duty import duty_manager as duty_manager
from kefu.tickets.escalation import answer_escalation as answer_escalation
from kefu.tickets.escalation import answer_to_kb as answer_to_kb
from kefu.tickets.escalation import escalate_new_group as escalate_new_group
from kefu.tickets.escalation import escalate_question as escalate_question
from kefu.tickets.escalation_sources import open_escalation_of_group as open_escalation_of_group
from kefu.tickets.handover import acknowledge as acknowledge
from kefu.tickets.handover import hand_over as hand_over
from kefu.tickets.handover_reads import HandoverDetail as HandoverDetail
from kefu.tickets.handover_reads import HandoverRow as HandoverRow
from kefu.tickets.handover_reads import count_handovers as count_handovers
from kefu.tickets.handover_reads import get_handover as get_handover
from kefu.tickets.handover_reads import handover_detail as handover_detail
from kefu.tickets.handover_reads import handover_rows as handover_rows
from kefu.tickets.handover_reads import list_handovers as list_handovers
from kefu.tickets.handover_watch import flag_overdue as flag_overdue
from kefu.tickets.handover_watch import write_due_handovers as write_due_handovers
from kefu.tickets.shift_times import Occurrence as Occurrence
from kefu.tickets.shifts import ShiftView as ShiftView
from kefu.tickets.shifts import create_shift as create_shift
from kefu.tickets.shifts import delete_shift as delete_shift
from kefu.tickets.shifts import get_shift as get_shift
from kefu.tickets.shifts import list_shifts as list_shifts
from kefu.tickets.shifts import shift_views as shift_views
from kefu.tickets.shifts import shifts_on as shifts_on
from kefu.tickets.shifts import update_shift as update_shift
