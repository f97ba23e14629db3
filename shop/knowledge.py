"""Loads the business knowledge under `knowledge/` (YAML). Read once, cached.

Everything the assistant knows about the shop (catalogue, policies, service
commitments, objection playbook, FAQ answers, seed records) is data; code asks this
module for it instead of carrying strings of its own.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Any, Dict, Iterator, List, Optional, Tuple

import yaml

from shop.config import settings


@lru_cache(maxsize=None)
def load(name: str, directory: Path = settings.knowledge_dir) -> Dict[str, Any]:
    """Returns the parsed `knowledge/<name>.yml` (cached per process)."""
    path = directory / f"{name}.yml"
    with path.open(encoding="utf-8") as handle:
        data = yaml.safe_load(handle) or {}
    if not isinstance(data, dict):
        raise ValueError(f"{path} must hold a mapping at the top level")
    return data


def catalogue() -> Dict[str, Any]:
    """Products, brands, categories and the things the shop does not sell."""
    return load("catalogue")


def policies() -> Dict[str, Any]:
    """Return, exchange and warranty policies; order-number format; attempts."""
    return load("policies")


def commitments() -> Dict[str, Any]:
    """Service commitments (deadlines per ticket kind) and staff hours."""
    return load("service_commitments")


def objections() -> Dict[str, Any]:
    """The objection playbook: techniques, types, scripts, misconceptions."""
    return load("objections")


def faq() -> Dict[str, str]:
    """FAQ answers keyed by sub-intent (`invoice` for `utter_faq/invoice`)."""
    responses = load("faq")["responses"]
    return {
        name.split("/", 1)[1]: variants[0]["text"]
        for name, variants in responses.items()
        if name.startswith("utter_faq/")
    }


def catalogue_product(name: str) -> Optional[Dict[str, Any]]:
    """The catalogue entry of a product by its canonical name (None if not sold)."""
    return next((p for p in catalogue().get("products", []) if p["name"] == name), None)


def catalogue_terms() -> Iterator[Tuple[str, str, str]]:
    """Yields (surface form, entity label, canonical value) for every catalogue term.

    The single source of the jieba user dictionary and the spaCy EntityRuler
    patterns, so the two always agree.
    """
    data = catalogue()
    groups: List[Tuple[str, List[Dict[str, Any]]]] = [
        ("category", data.get("categories", [])),
        ("brand", data.get("brands", [])),
        ("product", data.get("products", [])),
        ("product", data.get("not_sold", [])),
    ]
    for label, entries in groups:
        for entry in entries:
            name = str(entry["name"])
            yield name, label, name
            for alias in entry.get("aliases") or []:
                yield str(alias), label, name
