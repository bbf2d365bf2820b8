#!/usr/bin/env python3
"""clang-tidy (the repository's .clang-tidy) on the C++ lines this branch changed.

The base is the merge base with `main` (HEAD~1 when on main itself), or the commit named by
TIDY_BASE (to lint several commits made on main); changes not yet committed count too. Each changed source is checked with the compile commands of BUILD_DIR, and a changed
header through one source that includes it; diagnostics are reported only on changed lines, so
the old code around a change stays quiet. Exits 1 when clang-tidy reports anything (every enabled
check is an error), 0 when clean or when nothing changed.

    scripts/clang-tidy-changed.py [BUILD_DIR]     (default build/dev; JOBS=2 files at a time)
    TIDY_BASE=<commit> scripts/clang-tidy-changed.py build/release
"""

import concurrent.futures
import json
import os
import re
import shutil
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PATTERNS = ["src/*.cpp", "src/*.hpp", "bench/*.cpp", "tests/*.cpp"]
# A diagnostic located in an installed header (/usr/...), not in the project.
SYSTEM_HEADER = re.compile(r"^/usr/\S+:\d+:\d+: error: ")
NOISE = re.compile(r"^(\d+ warnings?( and \d+ errors?)? generated\.|Suppressed \d+ warnings.*|"
                   r"Use -header-filter=.*|Use -system-headers.*)$")


def git(*args):
    return subprocess.run(["git", *args], cwd=ROOT, check=True, capture_output=True,
                          text=True).stdout


def base_commit():
    head = git("rev-parse", "HEAD").strip()
    try:
        base = git("merge-base", "HEAD", "main").strip()
    except subprocess.CalledProcessError:
        base = ""
    if not base or base == head:
        try:
            base = git("rev-parse", "--verify", "-q", "HEAD~1").strip()
        except subprocess.CalledProcessError:
            base = ""
    return base


def changed_lines(base):
    """{path: [[first, last], ...]} of the lines added or changed since `base`."""
    ranges = {}
    path = None
    for line in git("diff", "-U0", "--diff-filter=ACMR", base, "--", *PATTERNS).splitlines():
        if line.startswith("+++ "):
            path = line[6:] if line.startswith("+++ b/") else None
        elif line.startswith("@@") and path:
            m = re.match(r"@@ -\S+ \+(\d+)(?:,(\d+))? @@", line)
            start, count = int(m.group(1)), int(m.group(2) or "1")
            if count:
                ranges.setdefault(path, []).append([start, start + count - 1])
    return ranges


def main():
    build = os.path.join(ROOT, sys.argv[1] if len(sys.argv) > 1 else "build/dev")
    jobs = int(os.environ.get("JOBS", "2"))
    tidy = shutil.which("clang-tidy-14") or shutil.which("clang-tidy")
    if not tidy:
        sys.exit("clang-tidy-14 is missing (scripts/install-deps.sh)")
    database = os.path.join(build, "compile_commands.json")
    if not os.path.exists(database):
        sys.exit(f"no {database}: configure first (cmake --preset ...)")
    base = os.environ.get("TIDY_BASE") or base_commit()
    if not base:
        print("clang-tidy: no base commit to compare with")
        return 0
    ranges = changed_lines(base)
    if not ranges:
        return 0
    with open(database) as f:
        known = {os.path.realpath(e["file"]) for e in json.load(f)}

    # A source for each changed file: itself, or for a header its own .cpp, else the first
    # source including it (the header's diagnostics are the same from any of them).
    sources = set()
    for path in ranges:
        full = os.path.realpath(os.path.join(ROOT, path))
        if path.endswith(".cpp"):
            if full in known:
                sources.add(full)
            continue
        own = os.path.realpath(full[:-len(".hpp")] + ".cpp")
        if own in known:
            sources.add(own)
            continue
        include = path[len("src/"):] if path.startswith("src/") else path
        try:
            users = git("grep", "-l", "-F", f'#include "{include}"', "--", "*.cpp").split()
        except subprocess.CalledProcessError:
            users = []
        for user in sorted(users):
            candidate = os.path.realpath(os.path.join(ROOT, user))
            if candidate in known:
                sources.add(candidate)
                break
    if not sources:
        return 0

    line_filter = json.dumps([{"name": p, "lines": r} for p, r in sorted(ranges.items())])
    headers = "|".join(re.escape(p) for p in ranges if p.endswith(".hpp")) or "^$"
    print(f"clang-tidy: {len(sources)} files, the lines changed since {base[:12]}", flush=True)

    def run(source):
        return subprocess.run(
            [tidy, "-p", build, "--quiet", f"--header-filter=({headers})$",
             f"--line-filter={line_filter}", "--extra-arg=-Wno-unknown-warning-option", source],
            cwd=ROOT, capture_output=True, text=True)

    failed = False
    with concurrent.futures.ThreadPoolExecutor(max_workers=jobs) as pool:
        for source, result in zip(sorted(sources), pool.map(run, sorted(sources))):
            lines = [l for l in (result.stdout + result.stderr).splitlines()
                     if l and not NOISE.match(l)]
            errors = [l for l in lines if ": error:" in l]
            if errors and all(SYSTEM_HEADER.match(l) for l in errors):
                # clang 14 cannot compile a third-party header in C++20 that GCC compiles (qpdf's
                # JSON.hh keeps a std::vector of its own incomplete type): nothing of ours was
                # checked in this file. Said plainly rather than failed or hidden.
                print(f"clang-tidy: not analysed (clang cannot parse a system header): "
                      f"{os.path.relpath(source, ROOT)}", flush=True)
                continue
            if lines:
                print("\n".join(lines), flush=True)
            failed = failed or result.returncode != 0 or bool(errors)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
