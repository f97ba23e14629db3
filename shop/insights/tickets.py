"""Ticket figures: volume (by kind, product, tier, day, week), open vs closed, and the
service commitments (首次响应 before sunset, 处理时限, 回访) met, missed or pending."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Dict, Iterable, List, Optional, Tuple

from sqlalchemy.orm import Session

from shop import deadlines, knowledge
from shop.db import repository
from shop.db.engine import session_scope
from shop.db.models import Ticket, TicketNote
from shop.insights import labels
from shop.insights.period import Period, iso_week, local_day, week_of_day
from shop.insights.tables import Table
from shop.privacy import mask_phone


@dataclass
class TicketFacts:
    """What the reports need of a ticket, read inside one session."""

    id: int
    number: str
    kind: str
    status: str
    priority: int
    tier: str
    product: str
    created_at: datetime
    due: Dict[str, Optional[datetime]]
    # When each commitment was fulfilled (None: not yet, or not known).
    done: Dict[str, Optional[datetime]] = field(default_factory=dict)
    assigned_to: Optional[str] = None
    summary: str = ""
    conversation_id: Optional[str] = None
    # When each deadline's alert went out (None: not yet).
    alerted: Dict[str, Optional[datetime]] = field(default_factory=dict)


def _product_in_text(text: str) -> Optional[str]:
    """The catalogue product named in a text (longest name or alias wins)."""
    found = [(len(surface), name) for surface, label, name in knowledge.catalogue_terms()
             if label == "product" and surface and surface in text]
    return max(found)[1] if found else None


def _callback_done(ticket: Ticket, notes: List[TicketNote]) -> Optional[datetime]:
    markers = labels.reports()["commitments"]["callback"]["note_markers"]
    if ticket.closed_at is None:
        return None
    for note in notes:
        if note.created_at >= ticket.closed_at and note.text.lstrip().startswith(tuple(markers)):
            return note.created_at
    return None


def _respond_done(ticket: Ticket, notes: List[TicketNote]) -> Optional[datetime]:
    moments = [m for m in (ticket.responded_at, ticket.closed_at) if m is not None]
    moments += [note.created_at for note in notes[:1]]
    return min(moments) if moments else None


def facts_of(
    session: Session, tickets: Iterable[Ticket]
) -> List[TicketFacts]:
    """Report facts of ORM tickets (notes and order products fetched in two queries)."""
    tickets = list(tickets)
    notes = repository.tickets.notes_of_tickets(session=session, ticket_ids=[t.id for t in tickets])
    products = repository.catalogue.products_of_orders(
        session=session, order_nos=sorted({t.order_no for t in tickets if t.order_no})
    )
    unknown = str(labels.reports()["unknown_product"])
    facts = []
    for ticket in tickets:
        own = notes.get(ticket.id, [])
        product = (products.get(ticket.order_no or "") or [None])[0] or _product_in_text(
            f"{ticket.summary} {ticket.detail}"
        )
        facts.append(TicketFacts(
            id=ticket.id,
            number=ticket.number or str(ticket.id),
            kind=ticket.kind,
            status=ticket.status,
            priority=ticket.priority,
            tier=ticket.customer.tier if ticket.customer else "none",
            product=product or unknown,
            created_at=ticket.created_at,
            due={"respond": ticket.respond_due, "resolve": ticket.resolve_due,
                 "callback": ticket.callback_due},
            done={"respond": _respond_done(ticket, own),
                  "resolve": ticket.closed_at,
                  "callback": _callback_done(ticket, own)},
            assigned_to=ticket.assigned_to,
            # Reports and alert webhooks leave the console: no phone numbers.
            summary=mask_phone(ticket.summary or ""),
            conversation_id=ticket.conversation_id,
            alerted={"respond": ticket.respond_alerted_at, "resolve": ticket.resolve_alerted_at,
                     "callback": ticket.callback_alerted_at},
        ))
    return facts


def commitment_state(facts: TicketFacts, commitment: str, now: datetime) -> Optional[str]:
    """`met`, `missed` or `pending` (not due yet); None when it does not apply.

    A ticket staff took up without a recorded time (older rows) has no response
    time: None too, so it counts neither way.
    """
    due = facts.due.get(commitment)
    if due is None:
        return None
    done = facts.done.get(commitment)
    if done is not None:
        return "met" if done <= due else "missed"
    if commitment == "respond" and facts.status != "open":
        return None
    return "missed" if now > due else "pending"


def is_open(facts: TicketFacts) -> bool:
    return facts.status in labels.open_statuses()


def _share(part: int, whole: int) -> Optional[float]:
    return round(part / whole, 3) if whole else None


def _count_table(
    name: str, key: str, facts: List[TicketFacts], order: List[str], names: Dict[str, str]
) -> Table:
    totals = Counter(getattr(f, key) for f in facts)
    opened = Counter(getattr(f, key) for f in facts if is_open(f))
    keys = [k for k in order if totals[k]] + sorted(k for k in totals if k not in order)
    columns = [key, "name", "total", "open", "closed"] if names else [key, "total", "open",
                                                                      "closed"]
    rows = [{key: k, "name": names.get(k, k), "total": totals[k], "open": opened[k],
             "closed": totals[k] - opened[k]} for k in keys]
    return Table(name, columns, rows)


def volume_tables(facts: List[TicketFacts], period: Period) -> List[Table]:
    """Volume by kind, product and tier (open vs closed), per day and per ISO week."""
    kinds = labels.kinds()
    by_kind = _count_table("tickets_by_kind", "kind", facts, kinds,
                           {k: labels.kind_name(k) for k in kinds})
    products = Counter(f.product for f in facts)
    by_product = _count_table("tickets_by_product", "product", facts,
                              [p for p, _ in products.most_common()], {})
    tiers = list(labels.reports()["tiers"])
    by_tier = _count_table("tickets_by_tier", "tier", facts, tiers,
                           {t: labels.tier_name(t) for t in tiers})
    day_counts = Counter((local_day(f.created_at).isoformat(), f.kind) for f in facts)
    week_counts = Counter((iso_week(f.created_at), f.kind) for f in facts)
    headers = {k: labels.kind_name(k) for k in kinds}

    def series(name: str, periods: List[str], counts: Counter) -> Table:
        rows = []
        for label in periods:
            row = {"period": label, **{k: counts[(label, k)] for k in kinds}}
            row["total"] = sum(row[k] for k in kinds)
            rows.append(row)
        return Table(name, ["period", *kinds, "total"], rows, extra_headers=headers)

    per_day = series("tickets_per_day", [d.isoformat() for d in period.days()], day_counts)
    weeks = sorted({week_of_day(d) for d in period.days()})
    per_week = series("tickets_per_week", weeks, week_counts)
    return [by_kind, by_product, by_tier, per_day, per_week]


def commitments_table(facts: List[TicketFacts], now: datetime) -> Table:
    """For every kind and commitment: judged (due or done), met, missed, pending, share."""
    tally: Dict[Tuple[str, str], Counter] = {}
    for f in facts:
        for commitment in labels.COMMITMENTS:
            state = commitment_state(f, commitment, now)
            if state is not None:
                tally.setdefault((commitment, f.kind), Counter())[state] += 1
    rows = []
    for commitment in labels.COMMITMENTS:
        for kind in labels.kinds():
            counts = tally.get((commitment, kind))
            if counts is None:
                continue
            judged = counts["met"] + counts["missed"]
            rows.append({
                "commitment": commitment,
                "kind": kind,
                "name": f"{labels.kind_name(kind)} · {labels.commitment_name(commitment)}",
                "judged": judged,
                "met": counts["met"],
                "missed": counts["missed"],
                "pending": counts["pending"],
                "share_met": _share(counts["met"], judged),
            })
    return Table("commitments", ["commitment", "kind", "name", "judged", "met", "missed",
                                 "pending", "share_met"], rows)


def overdue_rows(facts: List[TicketFacts], now: datetime) -> List[Dict[str, object]]:
    """Unfulfilled deadlines already passed or passing within `due_soon_hours`,
    the most overdue first."""
    soon = now + timedelta(hours=float(labels.reports()["due_soon_hours"]))
    states = labels.reports()["states"]
    rows = []
    for f in facts:
        for commitment in labels.COMMITMENTS:
            due = f.due.get(commitment)
            if due is None or due > soon:
                continue
            state = commitment_state(f, commitment, now)
            if state not in ("pending", "missed") or f.done.get(commitment) is not None:
                continue
            minutes = int((due - now).total_seconds() // 60)
            rows.append({
                "number": f.number,
                "kind_name": labels.kind_name(f.kind),
                "commitment_name": labels.commitment_name(commitment),
                "due_at": deadlines.to_local(due).strftime("%Y-%m-%d %H:%M"),
                "minutes_left": minutes,
                "state": states["overdue" if due <= now else "due_soon"],
                "status": labels.status_name(f.status),
                "tier": labels.tier_name(f.tier),
                "assigned_to": f.assigned_to or "",
                "summary": f.summary[:80],
                "_due": due,
                "_priority": f.priority,
            })
    rows.sort(key=lambda r: (r["_due"], r["_priority"], r["number"]))
    for row in rows:
        del row["_due"], row["_priority"]
    return rows


def overdue_table(facts: List[TicketFacts], now: datetime) -> Table:
    """The overdue list: passed deadlines first, then those about to pass."""
    return Table("overdue", ["number", "kind_name", "commitment_name", "due_at", "minutes_left",
                             "state", "status", "tier", "assigned_to", "summary"],
                 overdue_rows(facts, now))


def load_period(period: Period) -> List[TicketFacts]:
    """Facts of the tickets created in the period."""
    with session_scope() as session:
        tickets = repository.tickets.tickets_created_between(
            session=session, start=period.start, end=period.end
        )
        return facts_of(session, tickets)


def load_watch(now: datetime, oldest: datetime, horizon: datetime) -> List[TicketFacts]:
    """Facts of the tickets with a possibly pending deadline in [oldest, horizon]."""
    with session_scope() as session:
        tickets = repository.tickets.tickets_to_watch(
            session=session, oldest=oldest, horizon=horizon)
        return facts_of(session, tickets)


def ticket_tables(period: Period, now: Optional[datetime] = None) -> List[Table]:
    """Every ticket table of the period; the overdue list is as of `now`."""
    now = now or deadlines.utcnow()
    facts = load_period(period)
    lookback = timedelta(days=int(labels.reports()["overdue_lookback_days"]))
    soon = timedelta(hours=float(labels.reports()["due_soon_hours"]))
    watched = load_watch(now, now - lookback, now + soon)
    return [overdue_table(watched, now), *volume_tables(facts, period),
            commitments_table(facts, now)]
