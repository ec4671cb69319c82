"""How long `leadroute --help` and `leadroute explain ID` take, wall clock, median of N runs.

    python benchmarks/bench_cli.py [--runs 10] [--db sqlite:///leadroute-demo/leadroute.db]
                                   [--other /path/to/older/checkout/.venv/bin/leadroute]
                                   [--other-db sqlite:///path/to/its/demo.db]

The database defaults to the demo's (`leadroute demo` makes it). With --other, the same commands
run with another installation of leadroute (e.g. a worktree of an earlier commit with its own
venv), interleaved with this one's so that the machine's load falls on both alike, and the
ratios are printed.
"""

from __future__ import annotations

import argparse
import sqlite3
import statistics
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(sys.executable).parent / "leadroute"


def _run(command: list[str]) -> float:
    started = time.perf_counter()
    subprocess.run(command, check=True, capture_output=True)
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=10)
    parser.add_argument("--db", default="sqlite:///leadroute-demo/leadroute.db")
    parser.add_argument("--other", type=Path, help="another leadroute executable to compare")
    parser.add_argument(
        "--other-db", help="the other's database (an older schema), default --db", default=None
    )
    args = parser.parse_args()
    path = args.db.removeprefix("sqlite:///")
    lead = sqlite3.connect(path).execute("SELECT lead_id FROM decisions LIMIT 1").fetchone()[0]
    programs = {"this": (HERE, args.db)}
    if args.other:
        programs["other"] = (args.other, args.other_db or args.db)
    cases = ("--help", "explain")
    times: dict[tuple[str, str], list[float]] = {}
    for _ in range(args.runs):
        for case in cases:
            for name, (program, db) in programs.items():
                argv = ["--help"] if case == "--help" else ["explain", lead, "--db", db]
                times.setdefault((name, case), []).append(_run([str(program), *argv]))
    for case in cases:
        line = [f"{case:8}"]
        for name in programs:
            line.append(f"{name}: median {statistics.median(times[(name, case)]):.2f} s")
        if args.other:
            ratio = statistics.median(times[("other", case)]) / statistics.median(
                times[("this", case)]
            )
            line.append(f"other/this {ratio:.1f}x")
        print("  ".join(line))


if __name__ == "__main__":
    main()
