"""Remote storage overhead: per-operation latency through a storage server against a LocalStore.

    python benchmarks/storage_remote.py [--facts 2000] [--ops 2000] [--tls] [--in-process] [--json OUT]

Both stores get the same facts (an entity, a statement with a vector and two edges per fact). The baseline
is a LocalStore in this process; the remote one is `sutra storage serve` in its own process (or, with
`--in-process`, a server thread sharing this interpreter) reached through `RemoteStore` over loopback.
Prints median and p99 latency per operation for both and the ratio remote / local, plus throughput with
several client threads pipelining on one connection. fsync is off on both sides so the numbers are the
protocol's cost, not the disk's.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import numpy as np

from sutra.model import (
    Association,
    AssociationType,
    Concept,
    ConceptKind,
    Mutation,
    PutAssociation,
    PutConcept,
    SemanticType,
    association_id,
    content_id,
)
from sutra.store import LocalStore
from sutra.store.base import Store
from sutra.store.remote import RemoteStore, ServerThread, StorageServer, tls, tokens


def fact(i: int, rng: np.random.Generator, dim: int = 384) -> list[Mutation]:
    person = Concept(content_id("e", f"p{i}"), f"Person {i}", ConceptKind.ENTITY, SemanticType.ENTITY)
    city = Concept(content_id("e", f"c{i % 50}"), f"City {i % 50}", ConceptKind.ENTITY, SemanticType.ENTITY)
    text = f"Person {i} lives in city {i % 50}."
    s = Concept(
        content_id("s", text),
        text,
        ConceptKind.STATEMENT,
        SemanticType.DEFINITIONAL,
        sources=[f"doc{i}"],
        vector=rng.standard_normal(dim),
    )
    edges = [
        Association(
            association_id(person.id, rel, city.id, False),
            person.id,
            city.id,
            AssociationType.SEMANTIC,
            rel,
            sources=[f"doc{i}"],
            statements=[s.id],
        )
        for rel in ("located_in", "visited")
    ]
    for c in (person, city):
        c.sources = [f"doc{i}"]
    return [PutConcept(person), PutConcept(city), PutConcept(s), *(PutAssociation(e) for e in edges)]


def timed(call: Callable[[int], object], n: int) -> list[float]:
    for i in range(min(50, n)):  # warm-up
        call(i)
    out = []
    for i in range(n):
        t0 = time.perf_counter()
        call(i)
        out.append(time.perf_counter() - t0)
    return out


def summary(samples: list[float]) -> dict[str, float]:
    ordered = sorted(samples)
    return {
        "median_us": round(statistics.median(ordered) * 1e6, 1),
        "p99_us": round(ordered[min(len(ordered) - 1, int(0.99 * len(ordered)))] * 1e6, 1),
    }


def operations(store: Store, facts: int, rng: np.random.Generator) -> dict[str, Callable[[int], object]]:
    people = [content_id("e", f"p{i}") for i in range(facts)]
    extra = iter(range(facts, 10**9))
    return {
        "get_concept": lambda i: store.get_concept(people[i % facts]),
        "neighbors": lambda i: store.neighbors(people[i % facts], "out"),
        "find_entities": lambda i: store.find_entities(f"Person {i % facts}"),
        "search_vector": lambda i: store.search_vector(rng.standard_normal(384), k=10),
        "apply": lambda i: store.apply(fact(next(extra), rng)),
    }


def throughput(store: Store, facts: int, threads: int, seconds: float = 2.0) -> float:
    people = [content_id("e", f"p{i}") for i in range(facts)]
    counts = [0] * threads
    stop = time.perf_counter() + seconds

    def work(t: int) -> None:
        i = t
        while time.perf_counter() < stop:
            store.get_concept(people[i % facts])
            i += threads
            counts[t] += 1

    pool = [threading.Thread(target=work, args=(t,)) for t in range(threads)]
    for th in pool:
        th.start()
    for th in pool:
        th.join()
    return sum(counts) / seconds


@contextmanager
def remote_store(root: Path, *, secure: bool, in_process: bool) -> Iterator[RemoteStore]:
    secret = tokens.new_secret()
    (root / "secret").write_text(secret)
    files = tls.write_self_signed(root / "tls") if secure else None
    token = tokens.issue(secret.encode(), "admin", 3600)
    ca = None if files is None else files.ca
    if in_process:
        store = LocalStore(root / "served", fsync="off")
        context = None if files is None else tls.server_context(files.cert, files.key)
        server = StorageServer(store, ssl_context=context, token_secret=secret.encode())
        with ServerThread(server) as thread, RemoteStore(thread.server.url, token=token, ca=ca) as remote:
            yield remote
        store.close()
        return
    command = [
        sys.executable,
        "-m",
        "sutra.cli",
        "storage",
        "serve",
        "--data",
        str(root / "served"),
        "--port",
        "0",
        "--token-secret-file",
        str(root / "secret"),
    ]
    if files is not None:
        command += ["--cert", str(files.cert), "--key", str(files.key)]
    env = {**os.environ, "SUTRA_FSYNC": "off"}
    with subprocess.Popen(command, stdout=subprocess.PIPE, text=True, env=env) as proc:
        try:
            assert proc.stdout is not None
            line = proc.stdout.readline()
            match = re.search(r"at (sutras?://\S+)", line)
            if not match:
                raise SystemExit(f"the storage server did not start: {line!r}")
            with RemoteStore(match.group(1), token=token, ca=ca) as remote:
                yield remote
        finally:
            proc.send_signal(signal.SIGTERM)
            proc.wait(timeout=60)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--facts", type=int, default=2000)
    parser.add_argument("--ops", type=int, default=2000)
    parser.add_argument("--threads", type=int, default=4)
    parser.add_argument("--tls", action="store_true")
    parser.add_argument("--in-process", action="store_true")
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="sutra-bench-remote-") as tmp:
        root = Path(tmp)
        with (
            LocalStore(root / "local", fsync="off") as local,
            remote_store(root, secure=args.tls, in_process=args.in_process) as remote,
        ):
            rng = np.random.default_rng(7)
            batch: list[Mutation] = []
            for i in range(args.facts):
                batch += fact(i, rng)
                if len(batch) >= 500:
                    local.apply(batch)
                    remote.apply(batch)
                    batch = []
            local.apply(batch)
            remote.apply(batch)
            report: dict[str, Any] = {
                "facts": args.facts,
                "ops": args.ops,
                "tls": args.tls,
                "server": "thread" if args.in_process else "process",
                "operations": {},
            }
            print(
                f"{'operation':<14} {'local med/p99 us':>18} {'remote med/p99 us':>19} {'ratio (median)':>15}"
            )
            for name in ("get_concept", "neighbors", "find_entities", "search_vector", "apply"):
                here = summary(timed(operations(local, args.facts, np.random.default_rng(1))[name], args.ops))
                there = summary(
                    timed(operations(remote, args.facts, np.random.default_rng(1))[name], args.ops)
                )
                ratio = there["median_us"] / here["median_us"]
                report["operations"][name] = {"local": here, "remote": there, "ratio": round(ratio, 2)}
                print(
                    f"{name:<14} {here['median_us']:>9.1f}/{here['p99_us']:<8.1f} "
                    f"{there['median_us']:>9.1f}/{there['p99_us']:<9.1f} {ratio:>14.1f}x"
                )
            one, many = throughput(remote, args.facts, 1), throughput(remote, args.facts, args.threads)
            report["remote_get_per_s"] = {"threads_1": round(one), f"threads_{args.threads}": round(many)}
            print(
                f"remote get_concept/s: 1 thread {one:.0f}, {args.threads} threads {many:.0f} (1 connection)",
            )
    if args.json:
        args.json.write_text(json.dumps(report, indent=2) + "\n")


if __name__ == "__main__":
    main()
