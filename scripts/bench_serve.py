#!/usr/bin/env python3
"""Bounded load on `seq2text serve` over loopback: requests/s and latency for 1, 8 and 32 clients.

    python scripts/bench_serve.py [--clients 1 8 32] [--requests 192] [--endpoint translate]

Starts ``seq2text serve --port 0`` with the one model the endpoint needs (or uses ``--url``),
then, for each client count, sends ``--requests`` requests, each a single input from the real
data (Multi30k val German sentences, or the sentiment validation reviews), from that many
concurrent clients with keep-alive connections.  Prints one JSON line per client count
(requests/s, p50/p99 latency, errors, the server's resident memory after the round), repeats
the last round to show that memory stays flat, and prints the speed-up of the most clients
over one, which comes from batching concurrent requests.
Run it on a quiet machine.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import statistics
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Optional
from urllib.parse import urlparse

ROOT = Path(__file__).resolve().parents[1]
DATA = Path(os.environ.get("SEQ2TEXT_DATA", ROOT / ".." / "shared" / "data"))
ENDPOINTS = {  # endpoint: (model, inputs, request body for one input)
    "translate": ("multi30k-de-en", lambda: (DATA / "multi30k" / "val.de").read_text(encoding="utf-8").splitlines(),
                  lambda text: {"texts": [text]}),
    "classify": ("sentiment-zh", lambda: [line.split("\t")[0] for line in (DATA / "sentiment" / "valid.tsv")
                                          .read_text(encoding="utf-8").splitlines()[1:]],
                 lambda text: {"texts": [text[:1000]]}),
    "couplet": ("couplet", lambda: ["海阔凭鱼跃", "春风得意马蹄疾", "一帆风顺年年好", "明月松间照", "白日依山尽"],
                lambda text: {"first": [text]}),
}


def start_server(model: str) -> tuple[subprocess.Popen, str]:
    process = subprocess.Popen([sys.executable, "-m", "seq2text", "serve", "--port", "0", "-m", model], cwd=ROOT,
                               stderr=subprocess.PIPE, stdout=subprocess.DEVNULL, text=True)
    assert process.stderr is not None
    for line in process.stderr:
        if "http://" in line:
            url = "http://" + line.split("http://", 1)[1].strip()
            # keep reading its log, so that the pipe never fills and stalls the server
            threading.Thread(target=lambda: [None for _ in process.stderr], daemon=True).start()
            return process, url
    sys.exit("the server did not start")


def resident_mb(pid: Optional[int]) -> Optional[float]:
    if pid is None:
        return None
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return None


def client(url: str, path: str, bodies: list[dict]) -> tuple[list[float], int]:
    """Send ``bodies`` one after another on one keep-alive connection: latencies and errors."""
    address = urlparse(url)
    connection = http.client.HTTPConnection(address.hostname, address.port, timeout=120)
    latencies, errors = [], 0
    for body in bodies:
        started = time.perf_counter()
        try:
            connection.request("POST", path, json.dumps(body), {"content-type": "application/json"})
            response = connection.getresponse()
            response.read()
            errors += response.status != 200
        except (OSError, http.client.HTTPException):
            errors += 1
            connection.close()
            connection = http.client.HTTPConnection(address.hostname, address.port, timeout=120)
        latencies.append(time.perf_counter() - started)
    connection.close()
    return latencies, errors


def round_of(url: str, path: str, bodies: list[dict], clients: int) -> dict:
    shares = [bodies[i::clients] for i in range(clients)]
    started = time.perf_counter()
    with ThreadPoolExecutor(clients) as pool:
        results = list(pool.map(lambda share: client(url, path, share), shares))
    elapsed = time.perf_counter() - started
    latencies = sorted(t for times, _ in results for t in times)
    p99 = latencies[min(len(latencies) - 1, int(round(0.99 * (len(latencies) - 1))))]
    return {"clients": clients, "requests": len(bodies), "requests_per_s": round(len(bodies) / elapsed, 1),
            "p50_ms": round(1000 * statistics.median(latencies), 1), "p99_ms": round(1000 * p99, 1),
            "errors": sum(errors for _, errors in results)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--endpoint", choices=sorted(ENDPOINTS), default="translate")
    parser.add_argument("--clients", type=int, nargs="+", default=[1, 8, 32])
    parser.add_argument("--requests", type=int, default=192, help="requests per client count [192]")
    parser.add_argument("--url", help="a running server [default: start one with the endpoint's model]")
    args = parser.parse_args()
    model, inputs, request = ENDPOINTS[args.endpoint]
    texts = [text for text in inputs() if text.strip()]
    process, url = (None, args.url) if args.url else start_server(model)
    pid = process.pid if process else None
    path = f"/v1/{args.endpoint}"
    try:
        client(url, path, [request(text) for text in texts[:8]])  # warm-up
        print(json.dumps({"endpoint": path, "model": model, "load_average": os.getloadavg()[0],
                          "server_mb_at_start": resident_mb(pid)}))
        rounds = []
        for clients in args.clients:
            bodies = [request(texts[i % len(texts)]) for i in range(args.requests)]
            rounds.append({**round_of(url, path, bodies, clients), "server_mb": resident_mb(pid)})
            print(json.dumps(rounds[-1]))
        first, last = rounds[0], rounds[-1]
        again = {**round_of(url, path, bodies, last["clients"]), "server_mb": resident_mb(pid)}
        print(json.dumps({**again, "repeated": True}))  # memory stays flat: a leak would grow it again
        growth = None if pid is None else round(again["server_mb"] - last["server_mb"], 1)
        print(json.dumps({f"speedup_{last['clients']}_over_{first['clients']}":
                          round(last["requests_per_s"] / first["requests_per_s"], 2),
                          "errors": sum(r["errors"] for r in [*rounds, again]), "memory_growth_mb": growth}))
    finally:
        if process is not None:
            process.terminate()
            process.wait(timeout=60)


if __name__ == "__main__":
    main()
