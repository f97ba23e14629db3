"""The staff console: one Rasa custom channel (channel.py) whose blueprint gathers
one small module per page — tickets (queue and live conversations), practice,
reports, review — behind the staff login of auth.py; jobs.py runs its background
watchers. Record work lives in shop/ (desk, insights, practice, review)."""
