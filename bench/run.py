"""`make bench`: NLU quality, latency and throughput, cold start, memory, training time.

    python -m bench.run                      # full run, ~12 min on 2 cores
    BENCH_SECONDS=10 BENCH_SKIP_TRAIN=1 python -m bench.run   # quick, for development

Starts its own stack (bench/stack.py: Rasa server + action server on free ports,
own SQLite records and tracker store in a temporary directory), writes
bench/results/<date>[-<label>][-<n>].json, .md and .png, and prints the targets met or missed.
Exit code 0 whatever the figures (it is a measurement); nonzero only when the
benchmark itself fails.

Settings (environment, or the matching command-line option):
  BENCH_SECONDS     seconds per load level (default 60)
  BENCH_LEVELS      concurrent customers, closed loop (default 1,10,20,50)
  BENCH_PACED       paced levels, customers@messages-per-second (default 20@40; "" for none)
  BENCH_SKIP_TRAIN  1: no training from scratch (it takes minutes)
  BENCH_SKIP_NLU    1: no NLU quality
  BENCH_LABEL       suffix of the result files, for variants (e.g. "workers2")
  BENCH_ENDPOINTS   another endpoints file for the Rasa server (variants)
  BENCH_CREDENTIALS another credentials (channels) file for the Rasa server
  BENCH_SPEEDUPS    e.g. validator,nojax: bench/speedups.py applied in the Rasa server
  BENCH_REDIS       1: Redis lock store (own redis-server), needed for SANIC_WORKERS > 1
  BENCH_KEEP        1: keep the working directory (server logs, databases)
Variables such as SANIC_WORKERS or TF_INTRA_OP_PARALLELISM_THREADS are passed on.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
import traceback
from pathlib import Path
from typing import Any, Dict, List, Optional, Sequence, Tuple

import requests
import yaml

from bench import report
from bench.load import Customers, summarise
from bench.machine import MemorySampler, describe, load_average, tree_cpu_seconds
from bench.stack import BIN, MODEL, PROJECT_ROOT, Stack, free_port, stop, wait_for

RESULTS = PROJECT_ROOT / "bench" / "results"


def _env_flag(name: str) -> bool:
    return os.environ.get(name, "").strip().lower() in ("1", "true", "yes")


def parse_args(argv: Optional[Sequence[str]]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float,
                        default=float(os.environ.get("BENCH_SECONDS") or 60))
    parser.add_argument("--levels", default=os.environ.get("BENCH_LEVELS") or "1,10,20,50")
    parser.add_argument("--paced", default=os.environ.get("BENCH_PACED", "20@40"))
    parser.add_argument("--skip-train", action="store_true", default=_env_flag("BENCH_SKIP_TRAIN"))
    parser.add_argument("--skip-nlu", action="store_true", default=_env_flag("BENCH_SKIP_NLU"))
    parser.add_argument("--label", default=os.environ.get("BENCH_LABEL") or "")
    parser.add_argument("--endpoints", type=Path,
                        default=Path(os.environ["BENCH_ENDPOINTS"])
                        if os.environ.get("BENCH_ENDPOINTS") else None)
    parser.add_argument("--credentials", type=Path,
                        default=Path(os.environ["BENCH_CREDENTIALS"])
                        if os.environ.get("BENCH_CREDENTIALS") else None)
    parser.add_argument("--redis", action="store_true", default=_env_flag("BENCH_REDIS"))
    parser.add_argument("--out", type=Path, default=RESULTS)
    return parser.parse_args(argv)


def plan(args: argparse.Namespace) -> List[Tuple[int, Optional[float]]]:
    """(customers, offered messages/s or None for closed loop) per level."""
    levels: List[Tuple[int, Optional[float]]] = [
        (int(n), None) for n in args.levels.split(",") if n.strip()
    ]
    for item in (args.paced or "").split(","):
        if item.strip():
            customers, rate = item.split("@")
            levels.append((int(customers), float(rate)))
    return levels


def step(message: str) -> None:
    print(f"==> {message}", flush=True)


def nlu_quality(workdir: Path) -> Dict[str, Any]:
    """Runs bench.nlu_quality in its own process (TensorFlow memory is freed after)."""
    out = workdir / "nlu.json"
    with open(workdir / "nlu.log", "wb") as log:
        subprocess.run([str(BIN / "python"), "-m", "bench.nlu_quality", "--out", str(out)],
                       cwd=PROJECT_ROOT, env=_child_env(), stdout=log, stderr=subprocess.STDOUT,
                       check=True)
    return json.loads(out.read_text(encoding="utf-8"))


def _child_env() -> Dict[str, str]:
    return {**os.environ, "PYTHONPATH": str(PROJECT_ROOT), "RASA_TELEMETRY_ENABLED": "false",
            "TF_CPP_MIN_LOG_LEVEL": "2", "SQLALCHEMY_SILENCE_UBER_WARNING": "1"}


def apology_text() -> str:
    domain = yaml.safe_load((PROJECT_ROOT / "domain.yml").read_text(encoding="utf-8"))
    return str(domain["responses"]["utter_service_unavailable"][0]["text"])


def variant_env() -> Dict[str, str]:
    """Extra environment of the servers: BENCH_SPEEDUPS puts bench/sitecustomize first."""
    if not os.environ.get("BENCH_SPEEDUPS"):
        return {}
    return {"PYTHONPATH": f"{PROJECT_ROOT / 'bench' / 'sitecustomize'}:{PROJECT_ROOT}"}


def redis_lock_store(workdir: Path, stack_endpoints: Path) -> Tuple[subprocess.Popen, Path]:
    """A private redis-server and an endpoints file with a Redis lock store.

    Rasa runs more than one Sanic worker (SANIC_WORKERS) only with a lock store
    shared between processes.
    """
    port = free_port()
    redis = subprocess.Popen(
        ["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--save", "",
         "--appendonly", "no", "--dir", str(workdir)],
        stdout=open(workdir / "redis.log", "wb"), stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    endpoints = yaml.safe_load(stack_endpoints.read_text(encoding="utf-8"))
    endpoints["lock_store"] = {"type": "redis", "url": "127.0.0.1", "port": port, "db": 1}
    path = workdir / "endpoints-redis.yml"
    # Rasa expands ${...} when it reads the file: keep the placeholders as they are.
    path.write_text(yaml.safe_dump(endpoints, allow_unicode=True), encoding="utf-8")
    return redis, path


def first_reply(stack: Stack, apology: str, timeout: float = 300) -> float:
    """Waits for the first real answer through the REST channel (not the apology).

    Returns how long the request that got it took (the first message after a
    start pays for TensorFlow building its graphs).
    """
    assert stack.rasa is not None
    deadline = time.monotonic() + timeout
    clauses = apology.split("，")
    marker = clauses[1] if len(clauses) > 1 else apology  # as in bench.load.Customers
    while time.monotonic() < deadline:
        if stack.rasa.poll() is not None:
            raise RuntimeError(f"Rasa server exited with {stack.rasa.returncode}")
        sent = time.monotonic()
        try:
            response = requests.post(f"{stack.url}/webhooks/rest/webhook",
                                     json={"sender": "bench-cold-start", "message": "你好"},
                                     timeout=30)
            text = "".join(m.get("text", "") for m in response.json()) \
                if response.status_code == 200 else ""
            if text and marker not in text:
                return time.monotonic() - sent
        except (requests.RequestException, ValueError):
            pass
        time.sleep(0.1)
    raise TimeoutError(f"no reply from the Rasa server in {timeout:.0f} s")


def measure_stack(args: argparse.Namespace, workdir: Path, results: Dict[str, Any],
                  latencies: Dict[str, List[float]]) -> None:
    """Cold starts, then the load levels, memory sampled throughout."""
    endpoints = args.endpoints.resolve() if args.endpoints else PROJECT_ROOT / "endpoints.yml"
    redis: Optional[subprocess.Popen] = None
    if args.redis:
        redis, endpoints = redis_lock_store(workdir, endpoints)
    stack = Stack(workdir, extra_env=variant_env(), endpoints=endpoints,
                  credentials=args.credentials.resolve() if args.credentials else None)
    apology = apology_text()
    stack.seed()
    sampler = MemorySampler()
    try:
        with sampler:
            step("cold start: action server")
            started = time.monotonic()
            sampler.watch("action_server", stack.spawn_actions().pid)
            wait_for(f"http://127.0.0.1:{stack.actions_port}/health", 120, stack.actions)
            action_s = time.monotonic() - started
            step("cold start: Rasa server (action server up)")
            started = time.monotonic()
            sampler.watch("rasa_server", stack.spawn_rasa().pid)
            first_request_s = first_reply(stack, apology)
            rasa_s = time.monotonic() - started
            results["cold_start"] = {"rasa_server_s": round(rasa_s, 2),
                                     "first_request_s": round(first_request_s, 2),
                                     "action_server_s": round(action_s, 2)}
            print(f"    Rasa server {rasa_s:.1f} s, action server {action_s:.1f} s", flush=True)
            customers = Customers(stack.url, apology)
            warm = asyncio.run(customers.warm_up())
            warm_summary = summarise(warm)
            results["warm_up"] = {k: warm_summary[k] for k in
                                  ("messages", "errors", "errors_by_kind", "unexpected_replies")}
            levels = []
            for count, rate in plan(args):
                levels.append(run_level(customers, stack, sampler, count, rate, args.seconds,
                                        latencies))
            results["load"] = {"seconds_per_level": args.seconds, "levels": levels,
                               "scenario_weights": customers.scenarios.WEIGHTS}
    finally:
        stop(stack.rasa)
        stop(stack.actions)
        stop(redis)
    results["memory"] = sampler.snapshot()


def run_level(customers: Customers, stack: Stack, sampler: MemorySampler, count: int,
              rate: Optional[float], seconds: float,
              latencies: Dict[str, List[float]]) -> Dict[str, Any]:
    assert stack.rasa is not None and stack.actions is not None
    name = f"{count} customers" + (f", paced {rate:g} msg/s" if rate else ", closed loop")
    step(f"load: {name}, {seconds:g} s")
    cpu = (tree_cpu_seconds(stack.rasa.pid), tree_cpu_seconds(stack.actions.pid),
           _own_cpu())
    result = asyncio.run(customers.run(count, seconds, rate))
    used = (tree_cpu_seconds(stack.rasa.pid) - cpu[0],
            tree_cpu_seconds(stack.actions.pid) - cpu[1], _own_cpu() - cpu[2])
    summary = summarise(result)
    messages = max(summary["messages"], 1)
    summary.update({
        # CPU per message is steadier than wall time on a shared machine.
        "rasa_cpu_ms_per_msg": round(used[0] / messages * 1000, 2),
        "actions_cpu_ms_per_msg": round(used[1] / messages * 1000, 2),
        "load_generator_cpu_ms_per_msg": round(used[2] / messages * 1000, 2),
        "load_average_1m": load_average()[0] if load_average() else None,
        "rss_mb_at_end": {k: round(v, 1) for k, v in sampler.last_mb.items()},
    })
    latencies[report.level_label(summary)] = [s.latency_s for s in result.samples]
    lat = summary["latency_ms"]
    print(f"    {summary['throughput_msg_s']:.1f} msg/s, p50 {lat.get('p50')} ms, "
          f"p95 {lat.get('p95')} ms, p99 {lat.get('p99')} ms, errors {summary['errors']} "
          f"{summary['errors_by_kind'] or ''}, unexpected {summary['unexpected_replies']}, "
          f"Rasa CPU {summary['rasa_cpu_ms_per_msg']} ms/msg", flush=True)
    return summary


def _own_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def train_from_scratch(workdir: Path) -> Dict[str, Any]:
    """`rasa train` into a temporary directory with an empty graph cache."""
    out = workdir / "trained"
    env = {**_child_env(), "RASA_CACHE_DIRECTORY": str(workdir / "cache")}
    sampler = MemorySampler()
    started = time.monotonic()
    with sampler, open(workdir / "train.log", "wb") as log:
        process = subprocess.Popen(
            [str(BIN / "rasa"), "train", "--data", "data", "knowledge/faq.yml",
             "--config", "config.yml", "--domain", "domain.yml", "--out", str(out),
             "--fixed-model-name", "bench", "--force"],
            cwd=PROJECT_ROOT, env=env, stdout=log, stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        sampler.watch("training", process.pid)
        try:
            code = process.wait(timeout=1800)
        finally:
            stop(process)
    seconds = time.monotonic() - started
    if code != 0 or not (out / "bench.tar.gz").exists():
        raise RuntimeError(f"rasa train failed ({code}); see {workdir / 'train.log'}")
    return {"seconds": round(seconds, 1),
            "peak_rss_mb": round(sampler.peak_mb.get("training", 0.0), 1),
            "model_mb": round((out / "bench.tar.gz").stat().st_size / 1e6, 1)}


def main(argv: Optional[Sequence[str]] = None) -> int:
    args = parse_args(argv)
    if not MODEL.exists():
        print(f"{MODEL} is missing: run `make train` first", file=sys.stderr)
        return 2
    today = dt.date.today().isoformat()
    results: Dict[str, Any] = {
        "date": today, "label": args.label,
        "started_at": dt.datetime.now().isoformat(timespec="seconds"),
        "machine": describe(),
        "model": {"path": str(MODEL.relative_to(PROJECT_ROOT)),
                  "mtime": dt.datetime.fromtimestamp(MODEL.stat().st_mtime)
                  .isoformat(timespec="seconds")},
        "settings": {"seconds_per_level": args.seconds, "levels": args.levels,
                     "paced": args.paced, "endpoints": str(args.endpoints or "endpoints.yml"),
                     "credentials": str(args.credentials or "credentials.yml"),
                     "redis_lock_store": args.redis,
                     "env": {k: os.environ[k] for k in sorted(os.environ) if k in PASSED_ON}},
    }
    latencies: Dict[str, List[float]] = {}
    workdir = Path(tempfile.mkdtemp(prefix="bench-"))
    started = time.monotonic()
    try:
        if not args.skip_nlu:
            step("NLU quality: model and baseline on both held-out sets (tests/nlu)")
            results["nlu"] = nlu_quality(workdir)
            for name, figures in results["nlu"]["sets"].items():
                print(f"    {name}: model macro-F1 as served "
                      f"{figures['model']['as_served']['macro_f1']:.3f}, "
                      f"baseline {figures['baseline']['macro_f1']:.3f}", flush=True)
        measure_stack(args, workdir, results, latencies)
        if args.skip_train:
            results["training"] = {"skipped": True}
        else:
            step("training from scratch (a few minutes; BENCH_SKIP_TRAIN=1 skips)")
            results["training"] = train_from_scratch(workdir)
            print(f"    {results['training']['seconds']} s", flush=True)
    except Exception:
        traceback.print_exc()
        print(f"benchmark failed; logs are in {workdir}", file=sys.stderr)
        return 1
    results["duration_s"] = round(time.monotonic() - started, 1)
    results["load_average_at_end"] = load_average()
    results["targets"] = report.judge(results)
    stem = today + (f"-{args.label}" if args.label else "")
    paths = report.write(results, latencies, args.out, stem)
    report.print_targets(results["targets"])
    print("\nWritten: " + ", ".join(str(p.relative_to(PROJECT_ROOT)) if p.is_relative_to(
        PROJECT_ROOT) else str(p) for p in paths.values()))
    if _env_flag("BENCH_KEEP"):
        print(f"Logs and databases kept in {workdir}")
    else:
        shutil.rmtree(workdir, ignore_errors=True)
    return 0


# Variables that change what is measured: recorded with the results.
PASSED_ON = ("BENCH_SPEEDUPS", "SANIC_WORKERS", "TF_INTRA_OP_PARALLELISM_THREADS",
             "TF_INTER_OP_PARALLELISM_THREADS", "OMP_NUM_THREADS", "LOG_LEVEL")


if __name__ == "__main__":
    sys.exit(main())
