"""The server's memory over many uploads of different priors files.

Run ``python -m benchmarks.page_memory`` (``--uploads 100``). It serves the page as
``toe-twitch serve`` does and, in one browser session on the Tune priors page, uploads
priors files that each differ in one number (so each needs its own model), waiting for
each to be used. The server's resident memory (RSS) is read after every upload; the
model cache is bounded by count and by memory (``ui.loaders.ModelCache``), so it must
level off. Prints the figures and writes JSON (``--out``, default
``benchmarks/results/page_memory.json``).
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from benchmarks import load

LIMIT_MIB = 600


def run(uploads: int) -> dict[str, Any]:
    folder = Path(tempfile.mkdtemp(prefix="toe-twitch-memory-"))
    files = load.upload_files(folder, uploads)["good"]
    samples = []
    with load.server() as srv, load.chromium() as browser:
        load.warm(browser, srv.url)
        context = load.new_context(browser, load.DESKTOP, phone=False)
        page = context.new_page()
        page.goto(srv.url + "/tune")
        page.wait_for_selector('[data-testid="stDataFrame"]', timeout=load.TIMEOUT_MS)
        load.settle(page)
        start = srv.rss_mib()
        started = time.monotonic()
        uploader = page.locator(".st-key-tune_upload input[type=file]")
        retries = 0
        for i, path in enumerate(files, start=1):
            for attempt in range(3):
                uploader.set_input_files(str(path))
                try:
                    page.wait_for_function(
                        "(name) => document.body.textContent.includes('Loaded this priors file') && "
                        "document.body.textContent.includes(name) && "
                        "!document.querySelector('[data-stale=\"true\"]')",
                        arg=path.name,
                        timeout=20_000,
                    )
                    break
                except Exception:  # noqa: BLE001 - the browser cancelled the upload: again
                    retries += 1
                    if attempt == 2:
                        raise
                    uploader.set_input_files([])
            load.settle(page)
            page.wait_for_timeout(500)  # a person looks at the message before the next file
            samples.append({"upload": i, **srv.rss_mib()})
        elapsed = time.monotonic() - started
    server = [s["server"] for s in samples]
    return {
        "when": time.strftime("%Y-%m-%d %H:%M:%S"),
        "uploads": uploads,
        "seconds": elapsed,
        "rss_start_mib": start,
        "rss_end_mib": samples[-1],
        "rss_max_mib": max(server),
        "limit_mib": LIMIT_MIB,
        "files_set_again": retries,
        "samples": samples,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--uploads", type=int, default=100)
    parser.add_argument("--out", type=Path, default=load.RESULTS / "page_memory.json")
    args = parser.parse_args(argv)
    result = run(args.uploads)
    every = max(1, args.uploads // 10)
    print(
        f"{args.uploads} uploads of distinct priors files in {result['seconds']:.0f} s: server RSS "
        f"{result['rss_start_mib']['server']:.0f} MiB at the start, {result['rss_end_mib']['server']:.0f} MiB "
        f"at the end, {result['rss_max_mib']:.0f} MiB at most (limit {LIMIT_MIB} MiB); "
        f"worker {result['rss_end_mib']['worker']:.0f} MiB"
    )
    print(
        "  after upload "
        + ", ".join(
            f"{s['upload']}: {s['server']:.0f}" for s in result["samples"][every - 1 :: every]
        )
    )
    load.write_json(args.out, result)
    return 0 if result["rss_max_mib"] < LIMIT_MIB else 1


if __name__ == "__main__":
    sys.exit(main())
