"""Which two meanings to offer when the classifier is unsure: "您是想A，还是B？".

The rules are knowledge/service_commitments.yml `fallback.clarify`. An intent is offered
with its phrase; an FAQ answer by its key (`faq/delivery_time`), since "faq" alone says
nothing to a customer. A button of an intent sends "/intent{entities}", bypassing the
classifier; Rasa cannot do that for one FAQ answer (rasa#6370), so an FAQ's button
sends a question the FAQ answers (`faq_questions`), read by the classifier like any
message. Pure functions over the parse, so the action only sends what they give.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any, Dict, List, Mapping, Optional

from shop import knowledge

FAQ = "faq"
# Entities a button carries over, so "风尊保修几年" keeps its product when picked.
CARRIED_ENTITIES = ("product", "brand", "category")


@dataclass(frozen=True)
class Option:
    intent: str  # the intent the customer picks by it ("faq" for any FAQ answer)
    phrase: str  # completes "您是想…，还是…？" and is the button's title
    payload: str  # what the button sends


def rules() -> Dict[str, Any]:
    return knowledge.commitments()["fallback"].get("clarify") or {}


def carried(parse: Mapping[str, Any]) -> Dict[str, str]:
    return {e["entity"]: e["value"] for e in parse.get("entities") or []
            if e.get("entity") in CARRIED_ENTITIES and e.get("value")}


def faq_key(parse: Mapping[str, Any]) -> Optional[str]:
    """The FAQ answer the response selector picked (faq/delivery_time), if any."""
    response = ((parse.get("response_selector") or {}).get(FAQ) or {}).get("response") or {}
    key = response.get("intent_response_key")
    return str(key) if key else None


def _option(name: str, parse: Mapping[str, Any], settings: Mapping[str, Any]) -> Optional[Option]:
    phrases: Mapping[str, str] = settings.get("options") or {}
    if name == FAQ:
        key = faq_key(parse)
        question = (settings.get("faq_questions") or {}).get(key)
        if key in phrases and question:
            return Option(FAQ, phrases[key], str(question))
        return None
    if name not in phrases:
        return None
    entities = carried(parse)
    payload = f"/{name}{json.dumps(entities, ensure_ascii=False) if entities else ''}"
    return Option(name, phrases[name], payload)


def options(parse: Mapping[str, Any]) -> List[Option]:
    """The two likeliest meanings worth offering; [] when fewer than two are."""
    settings = rules()
    minimum = float(settings.get("min_confidence", 0))
    picked: List[Option] = []
    for entry in parse.get("intent_ranking") or []:
        if float(entry.get("confidence") or 0) < minimum:
            continue
        option = _option(str(entry.get("name")), parse, settings)
        if option is not None:
            picked.append(option)
        if len(picked) == 2:
            return picked
    return []


def same_answer(picked: List[Option]) -> bool:
    """Both meanings get the same answer (`same_answer`: a product's price or facts)."""
    return bool(picked) and {o.intent for o in picked} == set(rules().get("same_answer") or [])
