"""What happened in the sales domain (dispatched after commit).

One section per concept; each module's events are added in its section.
"""

# --- 催付 reminders (reminders.py) --------------------------------------------------------

# --- after-sales cases (cases.py) ---------------------------------------------------------

# --- inquiries and conversion (conversion.py) ---------------------------------------------
