"""Trainees' practice drills, their turns, and the invitations that start them."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Dict, List, Optional

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from shop import deadlines
from shop.db.models import (
    PracticeDrill,
    PracticeInvitation,
    PracticeTurn,
)


def start_practice(
    *, session: Session, trainee: str, scenario_id: str, objection_type: str, seed: int = 0,
    now: Optional[datetime] = None,
) -> PracticeDrill:
    """Opens a practice session (kept apart from customer tickets and records)."""
    record = PracticeDrill(
        trainee=trainee[:64], scenario_id=scenario_id, objection_type=objection_type,
        seed=seed, started_at=now or deadlines.utcnow(),
    )
    session.add(record)
    session.flush()
    return record


def add_practice_turn(
    *, session: Session, practice_id: int, turn_no: int, customer_text: str, reply_text: str,
    technique: str, suitable: bool, score: int, rubric: List[Dict[str, Any]],
    now: Optional[datetime] = None,
) -> PracticeTurn:
    """Stores one scored reply."""
    turn = PracticeTurn(
        drill_id=practice_id, turn_no=turn_no, customer_text=customer_text,
        reply_text=reply_text[:4000], technique=technique, technique_suitable=int(suitable),
        score=score, rubric=rubric, created_at=now or deadlines.utcnow(),
    )
    session.add(turn)
    session.flush()
    return turn


def finish_practice(
    *, session: Session, practice_id: int, outcome: str, score: int,
    now: Optional[datetime] = None,
) -> None:
    """Closes a practice session with its outcome and final score."""
    record = session.get(PracticeDrill, practice_id)
    if record is not None:
        record.outcome, record.score = outcome, score
        record.ended_at = now or deadlines.utcnow()


def get_practice(*, session: Session, practice_id: int) -> Optional[PracticeDrill]:
    """One practice session with its turns, or None."""
    statement = (
        select(PracticeDrill)
        .where(PracticeDrill.id == practice_id)
        .options(selectinload(PracticeDrill.turns))
    )
    return session.execute(statement).scalar_one_or_none()


def practice_history(*, session: Session, trainee: Optional[str] = None) -> List[PracticeDrill]:
    """Finished and unfinished sessions (of one trainee, or all), newest first."""
    statement = select(PracticeDrill).options(selectinload(PracticeDrill.turns))
    if trainee is not None:
        statement = statement.where(PracticeDrill.trainee == trainee)
    return list(session.execute(statement.order_by(PracticeDrill.id.desc())).scalars())


def add_invitation(*, session: Session, code_hash: str, trainee: str, created_by: str,
                   created_at: datetime, expires_at: datetime) -> None:
    session.add(PracticeInvitation(code_hash=code_hash, trainee=trainee[:64],
                                   created_by=created_by[:64], created_at=created_at,
                                   expires_at=expires_at))


def invitation_trainee(*, session: Session, code_hash: str, now: datetime) -> Optional[str]:
    """The trainee of an unexpired invitation, or None."""
    invitation = session.get(PracticeInvitation, code_hash)
    if invitation is None or invitation.expires_at <= now:
        return None
    return invitation.trainee
