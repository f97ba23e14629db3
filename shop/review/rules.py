"""The review queue's settings (`review` in knowledge/reports.yml) and label choices."""

from __future__ import annotations

from functools import lru_cache
from typing import Any, Dict, List

import yaml

from shop import knowledge
from shop.config import PROJECT_ROOT
from shop.insights import labels

DOMAIN_PATH = PROJECT_ROOT / "domain.yml"
NEW_TOPIC = "new_topic"
REASONS = ("nlu_fallback", "low_confidence", "asked_human")
STATUSES = ("new", "labelled", "exported")


def rules() -> Dict[str, Any]:
    """The `review` block of knowledge/reports.yml."""
    return dict(labels.reports()["review"])


@lru_cache(maxsize=1)
def domain_intents() -> List[str]:
    """The intents of domain.yml, in its order."""
    with DOMAIN_PATH.open(encoding="utf-8") as handle:
        domain = yaml.safe_load(handle) or {}
    return [str(i if isinstance(i, str) else next(iter(i))) for i in domain.get("intents", [])]


def faq_keys() -> List[str]:
    """The FAQ sub-intents (`payment_methods` of `utter_faq/payment_methods`)."""
    return list(knowledge.faq())


def label_keys() -> List[str]:
    """What staff can pick: the domain's intents (FAQ as faq/<key>), then new_topic."""
    hidden = set(rules()["hidden_intents"])
    keys: List[str] = []
    for intent in domain_intents():
        if intent == "faq":
            keys += [f"faq/{key}" for key in faq_keys()]
        if intent not in hidden:
            keys.append(intent)
    return keys + [NEW_TOPIC]


def label_name(key: str) -> str:
    """The Chinese name of a label (the key itself when none is written down)."""
    if key == NEW_TOPIC:
        return str(rules()["new_topic"])
    return str(rules().get("intent_names", {}).get(key, key))


def label_choices() -> List[Dict[str, str]]:
    """[{key, name}] for the console's picker."""
    return [{"key": key, "name": label_name(key)} for key in label_keys()]


def reason_name(key: str) -> str:
    return str(rules()["reasons"].get(key, key))


def status_name(key: str) -> str:
    return str(rules()["statuses"].get(key, key))
