"""Benchmarks of the LLM agent layer (issue 2, item 5).

    python benchmarks/bench_llmas.py [--skip-convert] [--quick]

Measures, on the default model (SmolLM2-135M-Instruct, CPU float32):
* first load (GGUF -> safetensors conversion into a temporary folder) and
  cached load (a fresh process importing llmas and loading the converted copy);
* ``choice_probs`` throughput in prompts/s at batch 1 and 16, for prompts of
  about 60 tokens, with 2 and 8 choices (cache disabled);
* response-cache replay: answers/s when every request is served from SQLite,
  and the hit rate.
Targets: cached load < 5 s; >= 8 prompts/s; replay >= 2,000 answers/s.
Prints a table and writes ``bench_llmas.json`` next to this file.
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent

TEXTS = [
    "the delivery was late and the box arrived crushed, but the blender itself works fine",
    "you people are a disgrace and should never have been allowed into this country",
    "what a lovely morning for a walk by the river with friends and family",
    "this phone stopped charging after a week and support never answered my emails",
]
CHOICES8 = ["Yes", "No", "Maybe", "Not sure", "Definitely yes", "Definitely not", "Probably", "Unclear"]


def prompt(i: int) -> str:
    """About 60 tokens once the chat template and SmolLM2's default system prompt are added."""
    t = TEXTS[i % len(TEXTS)]
    return f"Comment {i}: \"{t}\". Is this comment toxic or hateful? Answer with one word."


def time_cached_load() -> float:
    code = ("import time; t=time.perf_counter(); from llmas import default_backend; "
            "default_backend(cache=False); print(time.perf_counter()-t)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return float(out.stdout.strip().splitlines()[-1])


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--skip-convert", action="store_true", help="do not time the GGUF conversion (~25 s)")
    ap.add_argument("--quick", action="store_true", help="fewer prompts")
    ap.add_argument("--threads", type=int, default=None, help="torch threads (default: backend default)")
    ap.add_argument("--out", default=str(HERE / "bench_llmas.json"), help="JSON output path")
    args = ap.parse_args()

    import torch

    from llmas import ResponseCache, default_backend
    from llmas.cache import request_key
    from llmas.model_files import convert_gguf, default_model_dir, default_model_gguf

    res: dict = {"python": platform.python_version(), "torch": torch.__version__,
                 "cpu_count": os.cpu_count(), "torch_threads": None, "note": "shared 2-core machine; noisy"}
    default_model_dir()  # make sure the converted copy exists
    if not args.skip_convert:
        with tempfile.TemporaryDirectory() as d:
            t0 = time.perf_counter()
            convert_gguf(default_model_gguf(), Path(d) / "m")
            res["first_load_convert_s"] = time.perf_counter() - t0
    res["cached_load_fresh_process_s"] = time_cached_load()
    be = default_backend(cache=False, num_threads=args.threads)
    res["cached_load_in_process_s"] = be.load_seconds
    res["torch_threads"] = torch.get_num_threads()
    n_tok = [len(be._encode(be.render([{"role": "user", "content": prompt(i)}]))) for i in range(16)]
    res["prompt_tokens_mean"] = float(np.mean(n_tok))

    rows = []
    for bs in (1, 16):
        for nc in (2, 8):
            n = (4 if args.quick else 8) if bs == 1 else (16 if args.quick else 32)
            be.batch_size = bs
            ps = [prompt(1000 * bs + 10 * nc + i) for i in range(n)]
            be.choice_probs(ps[:1], CHOICES8[:nc])  # warm-up
            t0 = time.perf_counter()
            p = be.choice_probs(ps, CHOICES8[:nc])
            dt = time.perf_counter() - t0
            assert np.allclose(p.sum(1), 1)
            rows.append({"batch": bs, "choices": nc, "prompts": n, "seconds": dt, "prompts_per_s": n / dt})
    res["choice_probs"] = rows

    # Cache replay: fill a cache with the exact requests choice_probs makes, then replay.
    with tempfile.TemporaryDirectory() as d:
        cache = ResponseCache(Path(d) / "c.sqlite")
        be.cache = cache
        n = 2000 if args.quick else 5000
        ps = [prompt(i) for i in range(n)]
        choices = ["Yes", "No"]
        from llmas.backends.base import normalize_messages

        t0 = time.perf_counter()
        for i, m in enumerate(ps):
            r = be._request("choice_logprobs", messages=normalize_messages(m), choices=choices)
            cache.put(request_key(r), {"logprobs": [-0.1 * (i % 7), -1.0]}, request=r)
        res["cache_write_per_s"] = n / (time.perf_counter() - t0)
        calls0 = be.n_calls
        cache.hits = cache.misses = 0
        t0 = time.perf_counter()
        p = be.choice_probs(ps, choices)
        dt = time.perf_counter() - t0
        res["cache_replay"] = {"answers": n, "seconds": dt, "answers_per_s": n / dt,
                               "hit_rate": cache.stats()["hit_rate"], "model_calls": be.n_calls - calls0}
        assert p.shape == (n, 2)
        # A half-new run: the hit rate is measured, the new half is computed.
        be.batch_size = 16
        mixed = ps[:32] + [prompt(10**6 + i) for i in range(32)]
        cache.hits = cache.misses = 0
        be.choice_probs(mixed, choices)
        res["cache_mixed_hit_rate"] = cache.stats()["hit_rate"]

    print(f"{'measure':<44}{'value':>12}")
    if "first_load_convert_s" in res:
        print(f"{'first load (GGUF conversion), s':<44}{res['first_load_convert_s']:>12.1f}")
    print(f"{'cached load, fresh process incl. imports, s':<44}{res['cached_load_fresh_process_s']:>12.2f}")
    print(f"{'cached load, model only, s':<44}{res['cached_load_in_process_s']:>12.2f}")
    print(f"{'prompt tokens (mean)':<44}{res['prompt_tokens_mean']:>12.1f}")
    for r in rows:
        label = f"choice_probs batch={int(r['batch'])} choices={int(r['choices'])}, prompts/s"
        print(f"{label:<44}"
              f"{r['prompts_per_s']:>12.1f}")
    cr = res["cache_replay"]
    print(f"{'cache replay, answers/s':<44}{cr['answers_per_s']:>12.0f}")
    print(f"{'cache replay hit rate / model calls':<44}{cr['hit_rate']:>8.2f} / {cr['model_calls']}")
    print(f"{'cache mixed run hit rate':<44}{res['cache_mixed_hit_rate']:>12.2f}")
    Path(args.out).write_text(json.dumps(res, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
