"""The sales domain's public face: other domains and the web layer call these.

Each concept lives in a module of its own and is re-exported here:
:mod:`kefu.sales.reminders` (催付), :mod:`kefu.sales.cases` (售后),
:mod:`kefu.sales.conversion` (询单转化).
"""

from __future__ import annotations

# --- 催付 reminders -----------------------------------------------------------------------
from kefu.sales.models import ReminderStatus as ReminderStatus
from kefu.sales.reminder_report import ReminderReport as ReminderReport
from kefu.sales.reminder_report import ReminderRow as ReminderRow
from kefu.sales.reminder_report import list_reminders as list_reminders
from kefu.sales.reminder_report import reminder_report as reminder_report
from kefu.sales.reminder_sender import send_due_reminders as send_due_reminders
from kefu.sales.reminders import note_reminded_by_hand as note_reminded_by_hand
from kefu.sales.reminders import order_status_changed as order_status_changed
from kefu.sales.reminders import schedule_reminder as schedule_reminder
from kefu.sales.settings import TEMPLATE_VARIABLES as TEMPLATE_VARIABLES
from kefu.sales.settings import settings_of as settings_of
from kefu.sales.settings import update_settings as update_settings

# isort: split
# --- after-sales cases --------------------------------------------------------------------
from kefu.sales.case_photos import add_buyer_photo as add_buyer_photo
from kefu.sales.case_reads import case_detail as case_detail
from kefu.sales.case_reads import case_photos as case_photos
from kefu.sales.case_reads import case_rows as case_rows
from kefu.sales.case_reads import case_steps as case_steps
from kefu.sales.case_reads import count_cases as count_cases
from kefu.sales.case_reads import get_case as get_case
from kefu.sales.case_reads import list_cases as list_cases
from kefu.sales.case_reads import order_summary as order_summary
from kefu.sales.cases import cancel_case as cancel_case
from kefu.sales.cases import complete_case as complete_case
from kefu.sales.cases import decide_case as decide_case
from kefu.sales.cases import mark_goods_returned as mark_goods_returned
from kefu.sales.cases import open_case as open_case
from kefu.sales.models import CaseKind as CaseKind
from kefu.sales.models import CaseStatus as CaseStatus

# isort: split
# --- inquiries and conversion -------------------------------------------------------------
from kefu.sales.conversion import convert_order as convert_order
from kefu.sales.conversion import inquiry_of as inquiry_of
from kefu.sales.conversion import note_agent_reply as note_agent_reply
from kefu.sales.conversion import note_presale as note_presale
from kefu.sales.conversion_report import ConversionReport as ConversionReport
from kefu.sales.conversion_report import ConversionRow as ConversionRow
from kefu.sales.conversion_report import conversion_rates as conversion_rates
from kefu.sales.conversion_report import recent_days as recent_days
from kefu.sales.conversion_sweep import reconcile_conversions as reconcile_conversions
from kefu.sales.conversion_sweep import reconcile_recent as reconcile_recent
