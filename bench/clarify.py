"""When the served model clarifies instead of answering: the one rule the bench's
dev-set and cross-validation code and the run comparison share (light to import: no
Rasa, so `python -m bench.compare` starts in a fraction of a second)."""

from __future__ import annotations

from typing import Mapping, Optional, Tuple

# target, top intent, its confidence, the runner-up's confidence, the runner-up
Parse = Tuple[str, str, float, float, str]


def clarified(parse: Parse, threshold: float, ambiguity: float,
              floors: Optional[Mapping[str, float]] = None) -> bool:
    """Whether the FallbackClassifier turns this parse into a clarification (`floors`:
    the intents' own thresholds, bot/nlu/fallback.py)."""
    _, top, confidence, runner_up, _ = parse
    return (confidence < threshold or confidence - runner_up < ambiguity
            or confidence < (floors or {}).get(top, 0.0))
