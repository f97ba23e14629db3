"""What both servers share: configuration, the shop's knowledge, the records and
the work on them (tickets, practice, insights, review). Imports no rasa and no sanic,
so the Rasa server (bot/) and the action server (actions/) each load only their side."""
