"""The staff console as a Rasa custom channel, so its routes reach the agent, the
tracker store and the customers' socket.io rooms (credentials.yml names it).

Staff log in, see the queue of tickets (tier A first, then the earliest deadline),
open a conversation with its full transcript, the customer record, orders, open
tickets and notes, join, reply in real time, hand the conversation back to the bot
or close the ticket; trainers follow practice, managers read reports and label the
review queue and the audit log. Every API route requires a staff token (auth.py);
reports, exports and the audit log require the manager role.
"""

from __future__ import annotations

from typing import Any, Awaitable, Callable, Text

from rasa.core.channels.channel import InputChannel, UserMessage
from sanic import Blueprint

from bot.channels import limits
from bot.console import audit, auth, jobs, practice, privacy, reports, review, tickets
from bot.web import headers


class StaffConsoleInput(InputChannel):
    """/webhooks/console/: the console pages and their token-protected API."""

    @classmethod
    def name(cls) -> Text:
        return "console"

    def blueprint(
        self, on_new_message: Callable[[UserMessage], Awaitable[Any]]
    ) -> Blueprint:
        console = Blueprint("staff_console", __name__)
        for page in (auth, tickets, practice, reports, review, audit, privacy):
            page.add_routes(console)
        jobs.add_listeners(console)
        console.listener("before_server_start")(headers.installer)
        console.listener("before_server_start")(limits.installer)
        return console
