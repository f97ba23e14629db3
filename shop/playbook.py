"""Objection handling from the playbook (pure logic, no Rasa, no database).

Chooses a technique and a script for an objection, fills it with real product
facts and avoids repeating a script the customer has already heard. Practice mode
will reuse the same data.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Dict, Iterable, List, Mapping, Optional

from shop import knowledge


@dataclass(frozen=True)
class Reply:
    """A chosen script: what to say and how it was chosen."""

    script_id: str
    objection_type: str
    technique: str
    text: str


def product_facts(
    name: str,
    price: float,
    warranty: str,
    warranty_months: int,
    category: str,
    specs: Mapping[str, Any],
) -> Dict[str, Any]:
    """Placeholder values of the scripts for one product."""
    years = max(1, round(warranty_months / 12))
    days = max(1, warranty_months * 365 // 12)
    highlight = next(iter(specs.values()), "") if specs else ""
    return {
        "product": name,
        "price": int(price),
        "per_day": f"{float(price) / days:.2f}",
        "warranty": warranty,
        "warranty_years": years,
        "category": category,
        "highlight": highlight,
    }


def objection_type(intent: str, text: str = "") -> Optional[str]:
    """The playbook's objection type of an NLU intent (None if not an objection)."""
    types = [t for t in knowledge.objections()["types"] if t["intent"] == intent]
    if not types:
        return None
    # Several types can share an intent; a type with matching cues wins.
    for entry in types:
        if any(cue in text for cue in entry.get("cues") or []):
            return str(entry["key"])
    uncued = [t["key"] for t in types if not t.get("cues")]
    return str(uncued[0] if uncued else types[0]["key"])


def misconception(text: str) -> Optional[Dict[str, Any]]:
    """A factual misunderstanding in `text` that may be politely corrected."""
    for entry in knowledge.objections().get("misconceptions", []):
        if any(pattern in text for pattern in entry["patterns"]):
            return entry
    return None


def choose_reply(
    kind: str,
    facts: Optional[Mapping[str, Any]],
    used: Iterable[str] = (),
    text: str = "",
) -> Reply:
    """Picks the reply for an objection of type `kind`.

    Order: a factual misconception is corrected (直接反驳法, the only place it is
    used); otherwise the type's techniques in preferred order, the first script
    not yet used in this conversation, product-specific scripts first when a
    product is known. When every script was used, the least recent is reused.
    """
    wrong = misconception(text)
    if wrong is not None and f"misconception:{wrong['key']}" not in used:
        return Reply(f"misconception:{wrong['key']}", kind, "rebuttal", wrong["text"])

    playbook = knowledge.objections()
    used_list = list(used)
    techniques = next(t["techniques"] for t in playbook["types"] if t["key"] == kind)
    candidates: List[Dict[str, Any]] = []
    for technique in techniques:
        scripts = [
            s
            for s in playbook["scripts"]
            if s["type"] == kind and s["technique"] == technique
            and (facts is not None or not s["needs_product"])
        ]
        # With a product, concrete facts beat generic wording.
        scripts.sort(key=lambda s: not s["needs_product"])
        candidates.extend(scripts)
    fresh = [s for s in candidates if s["id"] not in used_list]
    if fresh:
        script = fresh[0]
    else:
        # Least recently used: compare each script's *last* use (ids repeat once
        # the pool wraps around; `index` would find the first use and repeat).
        last_use = {script_id: position for position, script_id in enumerate(used_list)}
        script = min(candidates, key=lambda s: last_use[s["id"]])
    text_out = script["text"].format(**facts) if script["needs_product"] else script["text"]
    return Reply(script["id"], kind, script["technique"], text_out)


def technique_name(key: str) -> str:
    """The Chinese name of a technique key (补偿法 for compensation, …)."""
    for technique in knowledge.objections()["techniques"]:
        if technique["key"] == key:
            return str(technique["name"])
    return key
