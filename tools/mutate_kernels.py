#!/usr/bin/env python3
"""Mutation check of erc's CUDA kernels: every mutant of a kernel file must make `ctest -L cuda` fail.

Each mutant is one small, deliberate bug in the device code of one file (the bodies of __global__ and __device__
functions), of one of five kinds:
  sync     a __syncthreads() dropped;
  bound    a loop's `<` bound turned into `<=`;
  shuffle  a warp shuffle's lane offset (or source lane) plus one;
  guard    an early-return guard (`if (...) return;`) dropped;
  order    a shared-memory read moved before the write it waits for (above the barrier that separates them).
For each mutant the script writes the file, rebuilds the CUDA tests of a SIM build (--build), runs them (the op
registry's cases first, then the whole `ctest -L cuda`), and puts the file back, whatever happens. A mutant the tests
fail on is killed; one that does not compile is stillborn (counted apart, not in the score); one they pass is a
survivor, printed with its diff. The score is killed / (killed + survivors); the exit status is 1 when a mutant
survives.

Usage: tools/mutate_kernels.py [--build DIR (build-sim)] [--kinds sync,bound,...] [--limit N] [--line N] [--list]
                               [FILE...]
  FILE: kernel files (default: every ops/*.cu, ops/*.cuh, optim/*.cu, optim/*.cuh); --limit takes at most N mutants
  of each kind per file, first ones first; --line only the mutants at line N; --list prints the mutants without
  running them.
The build directory must be configured for the simulator (-DERC_CUDA=SIM); tools/test.sh makes one.
"""

import argparse
import glob
import os
import re
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
KINDS = ["sync", "bound", "shuffle", "guard", "order"]


def device_lines(lines):
    """The indices of lines inside the bodies of __global__ and __device__ functions."""
    inside = set()
    i = 0
    while i < len(lines):
        if re.search(r"\b__(global|device)__\b", lines[i]) and not lines[i].strip().startswith("//"):
            depth, started, j = 0, False, i
            while j < len(lines):
                code = lines[j].split("//")[0]
                for ch in code:
                    if ch == "{":
                        depth += 1
                        started = True
                    elif ch == "}":
                        depth -= 1
                if started:
                    inside.add(j)
                if started and depth == 0:
                    break
                if not started and code.rstrip().endswith(";"):
                    break  # a declaration only
                j += 1
            i = j + 1
        else:
            i += 1
    return inside


def shared_names(lines, inside):
    names = set()
    for k in inside:
        m = re.search(r"ERC_(?:SHARED|SHARED_ARRAY|DYNAMIC_SHARED)\(\s*[^,]+,\s*(\w+)", lines[k])
        if m:
            names.add(m.group(1))
    return names


def mutants(path, kinds):
    """(kind, line index, new lines) for every mutant of the file."""
    lines = open(path).read().split("\n")
    inside = device_lines(lines)
    found = []
    shared = shared_names(lines, inside)
    for k in sorted(inside):
        line = lines[k]
        code = line.split("//")[0]
        if "sync" in kinds and re.search(r"\b__syncthreads\(\)\s*;", code):
            new = list(lines)
            new[k] = re.sub(r"__syncthreads\(\)\s*;", ";", line, count=1)
            found.append(("sync", k, new))
        if "bound" in kinds:
            m = re.search(r"\bfor\s*\(([^;]*);([^;]*)\s<\s([^;]*);", code)
            if m:
                new = list(lines)
                start = m.start(2) + m.group(2).__len__()
                new[k] = line[:start] + line[start:].replace(" < ", " <= ", 1)
                found.append(("bound", k, new))
        if "shuffle" in kinds:
            m = re.search(r"__shfl(?:_up|_down|_xor)?_sync\(([^,]+),\s*([^,]+),\s*([^,)]+)", code)
            if m:
                new = list(lines)
                new[k] = line[: m.start(3)] + "(" + m.group(3) + ") + 1" + line[m.end(3) :]
                found.append(("shuffle", k, new))
        if "guard" in kinds and re.match(r"\s*if\s*\(.*\)\s*return\s*;", code):
            new = list(lines)
            new[k] = re.sub(r"if\s*\(.*\)\s*return\s*;", ";", line, count=1)
            found.append(("guard", k, new))
        if "order" in kinds and shared and re.search(r"\b__syncthreads\(\)\s*;", code):
            # The nearest write of a shared name above the barrier, the first read of one below it.
            write = read = None
            for w in range(k - 1, -1, -1):
                if w not in inside:
                    break
                if any(re.search(r"\b%s\b(\[[^\]]*\])?\s*[-+*/]?=(?!=)" % n, lines[w].split("//")[0]) for n in shared):
                    write = w
                    break
            for r in range(k + 1, len(lines)):
                if r not in inside:
                    break
                rc = lines[r].split("//")[0]
                if "__syncthreads" in rc or "}" in rc:
                    break
                if "{" in rc:  # an if or for opens: its first read moves out of it, before the write
                    continue
                if any(re.search(r"=.*\b%s\b" % n, rc) for n in shared):
                    read = r
                    break
            if write is not None and read is not None:
                new = list(lines)
                moved = new.pop(read)
                new.insert(write, moved)
                found.append(("order", k, new))
    return lines, found


def run(cmd, timeout):
    try:
        return subprocess.run(cmd, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=timeout).returncode
    except subprocess.TimeoutExpired:
        return "timeout"


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--build", default="build-sim")
    parser.add_argument("--kinds", default=",".join(KINDS))
    parser.add_argument("--limit", type=int, default=0)
    parser.add_argument("--line", type=int, default=0)
    parser.add_argument("--list", action="store_true")
    parser.add_argument("files", nargs="*")
    args = parser.parse_args()
    kinds = args.kinds.split(",")
    files = args.files or sorted(
        sum((glob.glob(os.path.join(ROOT, p)) for p in ["ops/*.cu", "ops/*.cuh", "optim/*.cu", "optim/*.cuh"]), [])
    )
    plan = []
    for f in files:
        path = os.path.join(ROOT, f) if not os.path.isabs(f) else f
        original, found = mutants(path, kinds)
        taken = {}
        for kind, k, new in found:
            if args.line and k + 1 != args.line:
                continue
            taken[kind] = taken.get(kind, 0) + 1
            if args.limit and taken[kind] > args.limit:
                continue
            plan.append((path, original, kind, k, new))
    print("%d mutants in %d files" % (len(plan), len(files)), flush=True)
    if args.list:
        for path, original, kind, k, _ in plan:
            print("  %-7s %s:%d  %s" % (kind, os.path.relpath(path, ROOT), k + 1, original[k].strip()))
        return 0
    jobs = str(os.cpu_count() or 2)
    build = ["cmake", "--build", args.build, "-j", jobs, "--target", "erc_cuda_tests"]
    # The op registry's cases first (they kill most mutants, and need only test_cuda_ops built), then everything.
    stages = [
        (["cmake", "--build", args.build, "-j", jobs, "--target", "test_cuda_ops"],
         ["ctest", "--test-dir", args.build, "-L", "cuda", "-R", "^Registry/", "--stop-on-failure", "--timeout", "300", "-j", jobs]),
        (build, ["ctest", "--test-dir", args.build, "-L", "cuda", "--stop-on-failure", "--timeout", "300", "-j", jobs]),
    ]
    if run(build, 3600) != 0:
        print("the unmutated build fails: fix it first", file=sys.stderr)
        return 2
    score = {kind: [0, 0, 0] for kind in KINDS}  # killed, survived, stillborn
    survivors = []
    started = time.time()
    for n, (path, original, kind, k, new) in enumerate(plan, 1):
        where = "%s:%d" % (os.path.relpath(path, ROOT), k + 1)
        try:
            open(path, "w").write("\n".join(new))
            verdict = "SURVIVED"
            for make, test in stages:
                if run(make, 1800) != 0:
                    verdict = "stillborn"
                    break
                if run(test, 1800) != 0:
                    verdict = "killed"
                    break
            score[kind][{"killed": 0, "SURVIVED": 1, "stillborn": 2}[verdict]] += 1
            if verdict == "SURVIVED":
                survivors.append((kind, where, original[k].strip()))
        finally:
            open(path, "w").write("\n".join(original))
        print("[%d/%d] %-9s %-7s %s  %s" % (n, len(plan), verdict, kind, where, original[k].strip()), flush=True)
    run(build, 3600)  # the build as the sources are again
    print("\nmutation score by kind (killed / survived / stillborn), %.0f s:" % (time.time() - started))
    killed = survived = 0
    for kind in KINDS:
        k, s, b = score[kind]
        killed, survived = killed + k, survived + s
        if k + s + b:
            print("  %-8s %3d / %3d / %3d" % (kind, k, s, b))
    total = killed + survived
    print("score: %d of %d killed (%.0f %%)" % (killed, total, 100.0 * killed / total if total else 100.0))
    for kind, where, text in survivors:
        print("SURVIVOR %-7s %s  %s" % (kind, where, text))
    return 1 if survivors else 0


if __name__ == "__main__":
    sys.exit(main())
