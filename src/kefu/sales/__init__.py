"""What the desk does for the shop's sales: 催付 reminders, after-sales cases, conversion."""
