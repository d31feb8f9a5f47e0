#!/usr/bin/env python3
"""Runs a command (an mpirun job) and fails unless it ends within a bound.

usage: run_bounded.py --within SECONDS [--expect-failure] [--forbid TEXT] -- COMMAND...

Passes when COMMAND exits within SECONDS with a zero status (or, with
--expect-failure, a non-zero one) and its output does not contain TEXT.
On timeout the command's whole process group is killed, so a hung job
never outlives this script. CTest mpi.peer_dies uses it: a rank dies and
the job must still end, with a failure, in bounded time.
"""
import argparse
import os
import signal
import subprocess
import sys
import time


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--within", type=float, required=True)
    parser.add_argument("--expect-failure", action="store_true")
    parser.add_argument("--forbid", action="append", default=[])
    parser.add_argument("command", nargs=argparse.REMAINDER)
    args = parser.parse_args()
    command = args.command[1:] if args.command[:1] == ["--"] else args.command
    start = time.monotonic()
    job = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                           text=True, start_new_session=True)
    try:
        output, _ = job.communicate(timeout=args.within)
    except subprocess.TimeoutExpired:
        os.killpg(job.pid, signal.SIGKILL)
        output, _ = job.communicate()
        print(output)
        print(f"run_bounded: FAIL: still running after {args.within:.0f} s; killed")
        return 1
    elapsed = time.monotonic() - start
    print(output)
    print(f"run_bounded: exit status {job.returncode} after {elapsed:.2f} s"
          f" (bound {args.within:.0f} s)")
    if (job.returncode != 0) != args.expect_failure:
        want = "a non-zero" if args.expect_failure else "a zero"
        print(f"run_bounded: FAIL: expected {want} exit status")
        return 1
    for text in args.forbid:
        if text in output:
            print(f"run_bounded: FAIL: the output contains {text!r}")
            return 1
    print("run_bounded: PASS")
    return 0


if __name__ == "__main__":
    sys.exit(main())
