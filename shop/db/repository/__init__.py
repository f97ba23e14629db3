"""All queries of the assistant, one module per topic; callers never build SQL.

    from shop.db import repository
    repository.tickets.ensure_open_ticket(session=session, ...)
"""

from shop.db.repository import (  # noqa: F401  (the topics are this package's API)
    audit,
    catalogue,
    channels,
    erasure,
    orders,
    practice,
    ratings,
    review,
    staff,
    staff_login,
    tickets,
)
