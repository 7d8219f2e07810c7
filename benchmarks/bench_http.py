"""Throughput of the OpenAI-compatible HTTP backend against a slow local server (issue 12, item 1).

    python benchmarks/bench_http.py [--latency 0.2] [--quick]

A separate process serves ``/v1/chat/completions`` on 127.0.0.1 (a minimal
asyncio HTTP/1.1 keep-alive server), answering every request after
``--latency`` seconds with one timer per request, so it holds thousands of
requests at once and is not the bottleneck.
For each concurrency c, in one run and against the same server:

* ``bare aiohttp``: one ``aiohttp.ClientSession`` with a pool of c connections
  and a semaphore of c (the peer named in the issue; no parsing, no cache);
* ``OpenAIBackend``: ``complete_batch`` of distinct prompts through the public
  API with ``max_concurrency=c``, cache disabled, and at the largest c also
  with a SQLite cache file (every answer stored as it arrives);
* ``thread pool (old)``: the previous httpx + thread-pool client, loaded from
  git (commit 868ac91) when the repository is available, on fewer requests.

Reported: requests/s, the ratio to the ideal c / latency, and the client's
CPU time per request (this process only; the server runs in another), which
does not depend on what else the machine runs: 1,000 / (ms per request) is the
rate one free core sustains.  Targets: at
least 1,000 requests/s at c = 512 on 2 cores, and no loss of throughput from
64 to 512.  Loopback only; request counts are bounded.  Prints a table and
writes ``bench_http.json`` next to this file.
"""
from __future__ import annotations

import argparse
import asyncio
import importlib.util
import json
import os
import platform
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
OLD_COMMIT = "868ac91"


# the server (runs in its own process) ------------------------------------------------
class _Http(asyncio.Protocol):
    """Minimal HTTP/1.1 keep-alive server: every request is answered ``latency`` s after it arrives.

    A timer per request (``loop.call_later``), no coroutine and no framework, so
    one process answers many thousands of requests per second and the clients
    are what is measured.
    """

    latency = 0.2
    body = b""

    def connection_made(self, transport) -> None:
        self.transport = transport
        self.buf = b""

    def data_received(self, data: bytes) -> None:
        self.buf += data
        loop = asyncio.get_running_loop()
        while True:
            head_end = self.buf.find(b"\r\n\r\n")
            if head_end < 0:
                return
            head = self.buf[:head_end].lower()
            i = head.find(b"content-length:")
            n = int(head[i + 15:head.find(b"\r\n", i) if head.find(b"\r\n", i) > 0 else None]) if i >= 0 else 0
            if len(self.buf) < head_end + 4 + n:
                return
            self.buf = self.buf[head_end + 4 + n:]
            loop.call_later(self.latency, self._answer)

    def _answer(self) -> None:
        if not self.transport.is_closing():
            self.transport.write(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: "
                                 + str(len(self.body)).encode() + b"\r\n\r\n" + self.body)


def serve(port: int, latency: float) -> None:
    reply = {"object": "chat.completion", "model": "bench",
             "choices": [{"index": 0, "message": {"role": "assistant", "content": "ok"},
                          "finish_reason": "stop"}]}
    _Http.latency, _Http.body = latency, json.dumps(reply).encode()

    async def main() -> None:
        server = await asyncio.get_running_loop().create_server(_Http, "127.0.0.1", port, backlog=4096)
        async with server:
            await server.serve_forever()

    asyncio.run(main())


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def start_server(latency: float) -> tuple[subprocess.Popen, str]:
    port = free_port()
    proc = subprocess.Popen([sys.executable, __file__, "--serve", str(port), "--latency", str(latency)])
    deadline = time.time() + 30
    while time.time() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                break
        except OSError:
            time.sleep(0.05)
    else:
        proc.kill()
        raise RuntimeError("the benchmark server did not start")
    return proc, f"http://127.0.0.1:{port}/v1"


# clients -------------------------------------------------------------------------------
def bare_aiohttp(url: str, c: int, n: int) -> float:
    import aiohttp

    async def main() -> float:
        sem = asyncio.Semaphore(c)
        conn = aiohttp.TCPConnector(limit=c, limit_per_host=c)
        async with aiohttp.ClientSession(connector=conn) as session:
            async def one(i: int) -> None:
                async with sem:
                    payload = {"model": "bench", "messages": [{"role": "user", "content": f"q{i}"}]}
                    async with session.post(url + "/chat/completions", json=payload) as r:
                        await r.read()

            t0 = time.perf_counter()
            await asyncio.gather(*(one(i) for i in range(n)))
            return time.perf_counter() - t0

    return n / asyncio.run(main())


def backend_run(cls, url: str, c: int, n: int, tag: str, cache=False, **kw) -> float:
    be = cls("bench", url, api_key_env=None, cache=cache, max_concurrency=c, timeout=60.0, **kw)
    prompts = [f"{tag} question {i}" for i in range(n)]
    be.complete_batch(prompts[: min(c, 32)])  # open connections outside the timing
    t0 = time.perf_counter()
    out = be.complete_batch(prompts[min(c, 32):])
    dt = time.perf_counter() - t0
    assert len(out) == n - min(c, 32) and all(o == "ok" for o in out)
    if hasattr(be, "close"):
        be.close()
    return (n - min(c, 32)) / dt


def load_old_client():
    """The previous thread-pool client from git, or None."""
    try:
        src = subprocess.run(["git", "-C", str(ROOT), "show", f"{OLD_COMMIT}:llmas/backends/openai.py"],
                             capture_output=True, text=True, check=True, timeout=30).stdout
    except (OSError, subprocess.SubprocessError):
        return None
    if "ThreadPoolExecutor" not in src:
        return None
    import llmas.backends

    name = "llmas.backends._openai_threadpool"
    spec = importlib.util.spec_from_loader(name, loader=None)
    assert spec is not None
    mod = importlib.util.module_from_spec(spec)
    mod.__package__ = "llmas.backends"
    sys.modules[name] = mod
    exec(compile(src, f"{OLD_COMMIT}:llmas/backends/openai.py", "exec"), mod.__dict__)
    del llmas
    return mod.OpenAIBackend


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--serve", type=int, help=argparse.SUPPRESS)
    ap.add_argument("--latency", type=float, default=0.2, help="server latency per request, seconds")
    ap.add_argument("--quick", action="store_true", help="fewer requests (a smoke run)")
    args = ap.parse_args()
    if args.serve:
        serve(args.serve, args.latency)
        return
    sys.path.insert(0, str(ROOT))
    from llmas.backends.openai import OpenAIBackend

    old = load_old_client()
    proc, url = start_server(args.latency)
    rows = []
    try:
        bare_aiohttp(url, 64, 64)  # warm the server
        for c in (64, 128, 256, 512):
            n = (3 if args.quick else 6) * c
            ideal = c / args.latency
            r = {"concurrency": c, "requests": n, "ideal_rps": ideal}
            cpu0 = time.process_time()
            r["bare_aiohttp_rps"] = bare_aiohttp(url, c, n)
            r["bare_aiohttp_cpu_ms_per_request"] = 1e3 * (time.process_time() - cpu0) / n
            cpu0 = time.process_time()
            r["backend_rps"] = backend_run(OpenAIBackend, url, c, n, f"new{c}")
            r["backend_cpu_ms_per_request"] = 1e3 * (time.process_time() - cpu0) / n
            if c == 512:
                with tempfile.TemporaryDirectory() as d:
                    from llmas.cache import ResponseCache

                    r["backend_cached_rps"] = backend_run(OpenAIBackend, url, c, n, f"cache{c}",
                                                          cache=ResponseCache(Path(d) / "c.sqlite"))
            if old is not None:
                n_old = min(n, 2 * c, 600)
                r["threadpool_old_rps"] = backend_run(old, url, c, n_old + min(c, 32), f"old{c}")
            rows.append(r)
    finally:
        proc.terminate()
        proc.wait(timeout=10)

    print(f"server latency {args.latency} s on 127.0.0.1; {os.cpu_count()} CPUs; load {os.getloadavg()[0]:.2f}")
    hdr = (f"{'conc.':>6} {'ideal':>7} {'bare aiohttp':>13} {'backend':>8} {'ratio':>6} {'+cache':>7} "
           f"{'old pool':>9} {'cpu ms/req (bare, backend)':>27}")
    print(hdr)
    for r in rows:
        print(f"{r['concurrency']:>6} {r['ideal_rps']:>7.0f} {r['bare_aiohttp_rps']:>13.0f} "
              f"{r['backend_rps']:>8.0f} {r['backend_rps'] / r['ideal_rps']:>6.2f} "
              f"{r.get('backend_cached_rps', float('nan')):>7.0f} {r.get('threadpool_old_rps', float('nan')):>9.0f} "
              f"{r['bare_aiohttp_cpu_ms_per_request']:>13.2f}, {r['backend_cpu_ms_per_request']:.2f}")
        r["backend_ratio_to_ideal"] = r["backend_rps"] / r["ideal_rps"]
        r["backend_ratio_to_bare_aiohttp"] = r["backend_rps"] / r["bare_aiohttp_rps"]
    by_c = {r["concurrency"]: r for r in rows}
    targets = {
        "rps_at_512_at_least_1000": by_c[512]["backend_rps"] >= 1000,
        "no_loss_64_to_512": by_c[512]["backend_rps"] >= by_c[64]["backend_rps"],
    }
    print("targets:", targets)
    out = {"machine": {"platform": platform.platform(), "python": platform.python_version(),
                       "cpus": os.cpu_count(), "load_1min": os.getloadavg()[0]},
           "latency_s": args.latency, "old_client_commit": OLD_COMMIT if old is not None else None,
           "rows": rows, "targets": targets}
    if not args.quick:
        (HERE / "bench_http.json").write_text(json.dumps(out, indent=2, allow_nan=False) + "\n")


if __name__ == "__main__":
    main()
