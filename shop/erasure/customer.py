"""Forgetting one customer (or one trainee) everywhere their data lives.

Where a customer's data lives, and what happens to it:
- the customer record: name and phone replaced (id, tier and orders stay);
- their conversations — those of their tickets, and any conversation in the tracker
  store that mentions their phone, name or order numbers: every customer and bot text,
  entity value and personal slot emptied, the conversation id replaced by a pseudonym
  in the tracker store, tickets, ratings, review queue and audit log;
- elsewhere (notes, other tickets, review items, the audit log, other conversations,
  reports and exports on disk under EXPORT_DIRS): the name and phone replaced.
  The training data (data/nlu) is not rewritten: it is curated under version control,
  and the review export masks phone numbers before anything reaches it.

The steps are idempotent and ordered so that a run that stops half-way is finished
by running it again: the records (which find the conversations) change last.
"""

from __future__ import annotations

import logging
from dataclasses import asdict, dataclass
from typing import Any, Dict, List, Optional, Set

from shop import knowledge
from shop.config import settings
from shop.db import repository
from shop.db.engine import session_scope
from shop.erasure import files, tracker
from shop.erasure.identifiers import ERASED, Scrubber, pseudonym
from shop.insights.tracker_events import EVENTS

logger = logging.getLogger(__name__)


class NoSuchPerson(LookupError):
    """No customer with that id or phone (or no trainee with that name)."""


@dataclass
class ErasureReport:
    who: str
    conversations: int = 0
    events_changed: int = 0
    records_changed: int = 0
    files_changed: int = 0

    def as_dict(self) -> Dict[str, Any]:
        return asdict(self)


def rules() -> Dict[str, Any]:
    return dict(knowledge.load("privacy"))


def widget_notice(days: Optional[int] = None) -> str:
    """The privacy notice the web chat shows (knowledge/privacy.yml)."""
    days = settings.retention_days if days is None else days
    if days > 0:
        return str(rules()["widget_notice"]).format(days=days)
    return str(rules()["widget_notice_no_retention"])


def _personal_slots() -> List[str]:
    return list(rules()["personal_slots"])


def _erase_everywhere(finder: Scrubber, scrubber: Scrubber, conversations: Set[str],
                      report: ErasureReport, tracker_url: str) -> Dict[str, str]:
    """The tracker store and the files on disk; returns the conversation pseudonyms.
    `finder` finds the person's own conversations (wiped); `scrubber` replaces who
    they are wherever else they are mentioned."""
    slots = _personal_slots()
    engine = tracker.writable_engine(tracker_url)
    if engine is not None:
        try:
            if finder:
                conversations |= tracker.senders_where(engine, tracker.mentions(finder))
            if conversations:
                report.events_changed += tracker.rewrite(
                    engine, EVENTS.c.sender_id.in_(sorted(conversations)),
                    lambda e: tracker.anonymise_event(e, scrubber, True, slots))
            if scrubber:
                report.events_changed += tracker.rewrite(
                    engine, tracker.mentions(scrubber),
                    lambda e: tracker.anonymise_event(e, scrubber, False, slots))
            renames = {c: pseudonym(c) for c in conversations}
            tracker.rename_senders(engine, renames)
            tracker.checkpoint(engine)
        finally:
            engine.dispose()
    renames = {c: pseudonym(c) for c in conversations if pseudonym(c) != c}
    report.conversations = len(conversations)
    report.files_changed = files.scrub_files(settings.export_dirs, scrubber)
    return renames


def forget_customer(customer_id: Optional[str] = None, phone: Optional[str] = None,
                    tracker_url: Optional[str] = None) -> ErasureReport:
    """Anonymises one customer, found by id or phone; raises NoSuchPerson."""
    with session_scope() as session:
        customer = repository.erasure.find_customer(
            session=session, customer_id=customer_id, phone=phone)
        if customer is None:
            raise NoSuchPerson(customer_id or "phone")
        cid, name, phone_no = customer.id, customer.name, customer.phone
        orders = repository.erasure.order_numbers(session=session, customer_id=cid)
        conversations = repository.erasure.ticket_conversations(session=session, customer_id=cid)
    # Already forgotten: only the conversations are looked for again.
    person = [] if phone_no.startswith("erased-") else [name, phone_no]
    scrubber = Scrubber(person)
    report = ErasureReport(who=f"客户 {cid}")
    renames = _erase_everywhere(Scrubber(person + orders), scrubber, conversations, report,
                                tracker_url or settings.tracker_store_url)
    with session_scope() as session:
        repository.erasure.rename_conversations(session=session, renames=renames, erased=ERASED)
        report.records_changed = repository.erasure.scrub_mentions(
            session=session, identifiers=scrubber.identifiers, replace=scrubber.text)
        customer = repository.erasure.find_customer(session=session, customer_id=cid)
        repository.erasure.anonymise_customer(
            session=session, customer=customer, name=rules()["erased_customer_name"])
    logger.info("Customer %s anonymised: %s", cid, report.as_dict())
    return report


def forget_trainee(trainee: str, tracker_url: Optional[str] = None) -> ErasureReport:
    """Anonymises one trainee's practice data (drills, replies, invitations, and the
    practice conversations that name them); raises NoSuchPerson."""
    with session_scope() as session:
        alias = f"{rules()['erased_trainee_prefix']}-{pseudonym(trainee)[-8:]}"
        drills, invitations = repository.erasure.anonymise_trainee(
            session=session, trainee=trainee, pseudonym=alias, erased=ERASED)
    if not drills and not invitations:
        raise NoSuchPerson(trainee)
    scrubber = Scrubber([trainee])
    report = ErasureReport(who=f"学员 {alias}", records_changed=drills + invitations)
    renames = _erase_everywhere(scrubber, scrubber, set(), report,
                                tracker_url or settings.tracker_store_url)
    with session_scope() as session:
        repository.erasure.rename_conversations(session=session, renames=renames, erased=ERASED)
        report.records_changed += repository.erasure.scrub_mentions(
            session=session, identifiers=scrubber.identifiers, replace=scrubber.text)
    logger.info("Trainee anonymised as %s: %s", alias, report.as_dict())
    return report
