"""The production profile for real (bench/cluster.py): two Rasa servers and two
action servers behind nginx, PostgreSQL for the records and the trackers, Redis for
the locks and rate limits; one cluster for the whole test session."""

from __future__ import annotations

from typing import Iterator

import pytest

from bench.cluster import (  # noqa: F401  (re-exported for the test modules)
    ACTIONS_HEALTH,
    ACTIONS_WEBHOOK,
    FORM_LIMIT,
    MODEL,
    PRODUCTION_ENDPOINTS,
    RASA_HEALTH,
    TOKEN,
    Cluster,
    profile_env,
)
from bench.services import ServiceUnavailable, throwaway_databases


@pytest.fixture(scope="session")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Cluster]:
    if not MODEL.exists():
        pytest.fail(f"{MODEL} is missing: run `make train` first")
    workdir = tmp_path_factory.mktemp("cluster")
    try:
        with throwaway_databases(2) as (records_url, trackers_url):
            running = Cluster(workdir, records_url, trackers_url)
            try:
                running.start()
                yield running
            finally:
                running.stop()
    except ServiceUnavailable as error:
        pytest.fail(f"scale-out test needs it: {error}")
