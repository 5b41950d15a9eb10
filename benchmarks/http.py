"""HTTP server throughput and latency under concurrent clients, next to the embedder's own throughput.

    python benchmarks/http.py [--limit 2000] [--clients 16] [--asks N] [--learns 200] [--repeats 2000]

Builds (once, cached in --cache-dir) a server data directory whose space "bench" holds the first --limit
WorldTree sentences, starts the real server (`sutra serve`) as a separate process on loopback, and drives
it with --clients concurrent httpx clients using an API key:
- ask, distinct: EntailmentBank questions and hypotheses, each asked once (no answer-cache hits);
- learn: WorldTree sentences beyond --limit, one per request (durable commit each, fsync as configured);
- ask, repeated: a handful of questions asked over and over (served by the answer cache).
Each phase prints requests/s and p50/p99 latency. The embedder's single-query throughput (one sentence per
call, sequential, the embedder alone at its fastest) is measured in this same run, so the ratio means
something on a noisy machine.
"""

from __future__ import annotations

# ruff: noqa: E402
import sys
from pathlib import Path

# This script is named http.py: run as `python benchmarks/http.py`, its folder would come first on the path
# and hide the standard library's `http` package from httpx and the server, so the folder is dropped.
HERE = Path(__file__).resolve().parent
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != HERE]

import argparse
import asyncio
import importlib.util
import json
import os
import socket
import subprocess
import tempfile
import time
from collections.abc import Sequence
from typing import Any

import httpx

from sutra.config import Settings
from sutra.embedding import OnnxEmbedder, get_embedder, model_path
from sutra.engine import Sutra
from sutra.model import Document
from sutra.server.accounts import Accounts
from sutra.server.config import ServerConfig


def _sibling(name: str) -> Any:
    spec = importlib.util.spec_from_file_location(f"bench_{name}", HERE / f"{name}.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


_embedder_bench = _sibling("embedder")  # the embedder's own benchmark: same corpus, same measurement
CORPUS: Path = _embedder_bench.CORPUS
measure_embedder = _embedder_bench.measure_embedder

QUESTIONS = CORPUS.parents[1] / "entailmentbank" / "questions.jsonl"
SPACE = "bench"


def read_rows(path: Path) -> list[dict[str, Any]]:
    with path.open(encoding="utf-8") as fh:
        return [json.loads(line) for line in fh if line.strip()]


def percentile(ordered: Sequence[float], q: float) -> float:
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def build(data_dir: Path, docs: list[Document], fsync: str) -> str:
    """The server data directory with space "bench" learned from `docs` (kept between runs); returns an
    API key for its admin (a new one each run: only digests are stored)."""
    config = ServerConfig(data_dir=data_dir)
    accounts = Accounts(config.accounts_path)
    try:
        admin = accounts.user_by_name("bench") or accounts.create_user(
            "bench", "bench-password", is_admin=True
        )
        marker = data_dir / f"built-{len(docs)}"
        if not marker.exists():
            if not accounts.space_exists(SPACE):
                accounts.create_space(SPACE)
                accounts.set_role(SPACE, admin, "admin")
            started = time.perf_counter()
            settings = Settings().with_(fsync=fsync)
            with Sutra(config.spaces_dir / SPACE, settings=settings) as space:
                space.learn_documents(docs)
            print(f"built the store: {len(docs)} documents in {time.perf_counter() - started:.1f} s")
            marker.touch()
        return accounts.create_key(admin, "benchmark")
    finally:
        accounts.close()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def start_server(data_dir: Path, port: int, fsync: str, workers: int | None) -> subprocess.Popen[bytes]:
    env = {**os.environ, "SUTRA_FSYNC": fsync}
    cmd = [sys.executable, "-m", "sutra.cli", "serve", "--data", str(data_dir), "--port", str(port)]
    cmd += ["--rate", "0", "--log-level", "warning"]
    cmd += [] if workers is None else ["--workers", str(workers)]
    process = subprocess.Popen(cmd, env=env)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/v1/ready", timeout=60).status_code == 200:
                return process
        except httpx.TransportError:
            time.sleep(0.2)
    process.terminate()
    raise RuntimeError("the server did not become ready")


class Connection:
    """A minimal HTTP/1.1 keep-alive client for the load: one request in flight, JSON in, bytes out.

    httpx costs about a millisecond of CPU per request, on the same two cores as the server, so at a
    thousand requests a second the load generator and not the server would be measured (`--client httpx`
    shows it). This speaks just enough HTTP for our own server's answers (Content-Length bodies)."""

    def __init__(self, host: str, port: int, headers: dict[str, str]) -> None:
        self.host, self.port = host, port
        self.head = "".join(f"{k}: {v}\r\n" for k, v in headers.items())
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None

    async def post(self, path: str, body: dict[str, Any]) -> int:
        if self.writer is None:
            self.reader, self.writer = await asyncio.open_connection(self.host, self.port)
        assert self.reader is not None
        payload = json.dumps(body).encode()
        request = (
            f"POST {path} HTTP/1.1\r\nHost: {self.host}\r\n{self.head}"
            f"Content-Type: application/json\r\nContent-Length: {len(payload)}\r\n\r\n"
        )
        self.writer.write(request.encode() + payload)
        head = await self.reader.readuntil(b"\r\n\r\n")
        status = int(head.split(b" ", 2)[1])
        length = next(
            int(line.split(b":", 1)[1])
            for line in head.split(b"\r\n")
            if line.lower().startswith(b"content-length:")
        )
        await self.reader.readexactly(length)
        return status

    async def close(self) -> None:
        if self.writer is not None:
            self.writer.close()
            await self.writer.wait_closed()


async def drive(
    url: str, key: str, requests: list[tuple[str, dict[str, Any]]], clients: int, kind: str = "raw"
) -> dict[str, Any]:
    """Send `requests` (path, JSON body) with `clients` concurrent clients; latency per request."""
    queue: asyncio.Queue[tuple[str, dict[str, Any]]] = asyncio.Queue()
    for item in requests:
        queue.put_nowait(item)
    latencies: list[float] = []
    errors = 0
    headers = {"Authorization": f"Bearer {key}"}

    async def client() -> None:
        nonlocal errors
        if kind == "httpx":
            async with httpx.AsyncClient(base_url=url, headers=headers, timeout=120) as http:
                while not queue.empty():
                    path, body = queue.get_nowait()
                    t0 = time.perf_counter()
                    response = await http.post(path, json=body)
                    latencies.append((time.perf_counter() - t0) * 1000)
                    errors += response.status_code != 200
            return
        parsed = httpx.URL(url)
        connection = Connection(parsed.host, parsed.port or 80, headers)
        try:
            while not queue.empty():
                path, body = queue.get_nowait()
                t0 = time.perf_counter()
                status = await connection.post(path, body)
                latencies.append((time.perf_counter() - t0) * 1000)
                errors += status != 200
        finally:
            await connection.close()

    started = time.perf_counter()
    await asyncio.gather(*(client() for _ in range(clients)))
    seconds = time.perf_counter() - started
    latencies.sort()
    return {
        "requests": len(latencies),
        "errors": errors,
        "rps": round(len(latencies) / seconds, 1),
        "p50_ms": round(percentile(latencies, 0.5), 1),
        "p99_ms": round(percentile(latencies, 0.99), 1),
    }


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--limit", type=int, default=2000, help="WorldTree sentences in the store")
    parser.add_argument("--clients", type=int, default=16)
    parser.add_argument(
        "--asks", type=int, default=0, help="distinct questions to ask (default: all, 374 in the shared set)"
    )
    parser.add_argument("--learns", type=int, default=200, help="sentences to learn, one per request")
    parser.add_argument("--repeats", type=int, default=2000, help="repeated (cached) asks")
    parser.add_argument("--fsync", default="always", choices=("always", "batch", "off"))
    parser.add_argument("--workers", type=int, default=None, help="the server's engine threads (its default)")
    parser.add_argument("--cache-dir", type=Path, default=Path(tempfile.gettempdir()) / "sutra-http-bench")
    parser.add_argument("--json", type=Path, default=None, help="also write the results here")
    parser.add_argument(
        "--client", default="raw", choices=("raw", "httpx"), help="load generator (see Connection)"
    )
    args = parser.parse_args(argv)

    rows = read_rows(CORPUS)
    docs = [Document(id=r["id"], text=r["text"]) for r in rows[: args.limit]]
    fresh = [r["text"] for r in rows[args.limit : args.limit + args.learns]]
    entail = read_rows(QUESTIONS)
    questions = list(
        dict.fromkeys([q["question"] for q in entail] + [q["meta"]["hypothesis"] for q in entail])
    )
    distinct = questions[: args.asks or None]

    data_dir = args.cache_dir / f"limit-{args.limit}"
    key = build(data_dir, docs, args.fsync)
    embedder = get_embedder(Settings())
    # The floor is the embedder at its fastest for one query, whichever of these is faster in this run: as
    # the engine runs it (a question on one thread), or alone in a process with every core on each query
    # and its threads spinning (the engine does neither, since both slow everything else, see OnnxEmbedder).
    texts = [r["text"] for r in rows[:1000]]
    spinning = OnnxEmbedder.from_dir(model_path(Settings()), spin_wait=True, small_call=0)
    measured = {"engine": measure_embedder(embedder, texts, queries=300)}
    measured["spinning"] = measure_embedder(spinning, texts, queries=300)
    del spinning
    fastest = min(measured, key=lambda name: measured[name]["single_ms_mean"])
    own = {**measured[fastest], "configuration": fastest, "both": measured}
    embed_qps = round(1000.0 / own["single_ms_mean"], 1)

    # the ceiling for one space: the engine's own sequential asks, in process, on the same store
    engine_ms: list[float] = []
    with Sutra(
        data_dir / "spaces" / SPACE, settings=Settings().with_(fsync=args.fsync), embedder=embedder
    ) as space:
        space.ask("What is a warm-up question?")  # opening: the keyword index is built on first use
        for question in distinct[-50:]:
            t0 = time.perf_counter()
            space.ask(question)
            engine_ms.append((time.perf_counter() - t0) * 1000)
    engine_ms.sort()
    engine = {
        "asks_per_s": round(1000 * len(engine_ms) / sum(engine_ms), 1),
        "p50_ms": round(percentile(engine_ms, 0.5), 1),
    }

    port = free_port()
    server = start_server(data_dir, port, args.fsync, args.workers)
    url = f"http://127.0.0.1:{port}"
    base = f"/v1/spaces/{SPACE}"
    try:
        results: dict[str, Any] = {"limit": args.limit, "clients": args.clients, "cpus": os.cpu_count()}
        results["embedder_single_query_per_s"] = embed_qps
        results["embedder"] = own
        results["engine_ask_in_process"] = engine
        # the space opens (and builds its keyword index) on its first request: not part of the steady state
        asyncio.run(drive(url, key, [(f"{base}/ask", {"question": "What is a warm-up question?"})], 1))
        results["ask_distinct"] = asyncio.run(
            drive(url, key, [(f"{base}/ask", {"question": q}) for q in distinct], args.clients, args.client)
        )
        results["learn"] = asyncio.run(
            drive(url, key, [(f"{base}/learn", {"text": t}) for t in fresh], args.clients, args.client)
        )
        hot = distinct[:10]
        asyncio.run(drive(url, key, [(f"{base}/ask", {"question": q}) for q in hot], 1))  # warm the cache
        results["ask_repeated"] = asyncio.run(
            drive(
                url,
                key,
                [(f"{base}/ask", {"question": hot[i % len(hot)]}) for i in range(args.repeats)],
                args.clients,
                args.client,
            )
        )
    finally:
        server.terminate()
        server.wait(timeout=60)

    print(
        f"embedder single query: {embed_qps:8.1f} /s   "
        f"(p50 {own['single_ms_p50']} ms, {own['configuration']}; "
        f"batched {own['sentences_per_s']} sentences/s)"
    )
    print(f"engine ask, in process, sequential: {engine['asks_per_s']:8.1f} /s   (p50 {engine['p50_ms']} ms)")
    for phase in ("ask_distinct", "learn", "ask_repeated"):
        r = results[phase]
        ratio = r["rps"] / embed_qps
        print(
            f"{phase:<13} {r['rps']:8.1f} req/s  = {ratio:5.2f}x embedder   p50 {r['p50_ms']:7.1f} ms   "
            f"p99 {r['p99_ms']:7.1f} ms   ({r['requests']} requests, {r['errors']} errors, "
            f"{args.clients} clients)"
        )
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
