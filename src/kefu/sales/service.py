"""The sales domain's public face: other domains and the web layer call these.

Each concept lives in a module of its own and is re-exported here:
:mod:`kefu.sales.reminders` (催付), :mod:`kefu.sales.cases` (售后),
:mod:`kefu.sales.conversion` (询单转化).
"""

from __future__ import annotations

# --- 催付 reminders -----------------------------------------------------------------------

# --- after-sales cases --------------------------------------------------------------------

# --- inquiries and conversion -------------------------------------------------------------
