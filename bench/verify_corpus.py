#!/usr/bin/env python3
"""Signs and verifies real-world PDFs nobody on the project wrote (those Debian packages ship
under /usr/share/doc), and compares Firmo's verdict with poppler's pdfsig and MuPDF's mutool.

For each file: `firmo sign` (a visible field on page 0, or an invisible one when it does not
fit), a second `firmo sign` (an invisible field), then `firmo verify --json`, `pdfsig` and
`mutool sign -v` on the result, so every file also exercises the comparison of a signed revision
with a later one; `qpdf --check` on the files Firmo refuses. The time and peak memory of the
first signing and of the verification (GNU time). Prints a summary and writes one line per file
as TSV.

  bench/verify_corpus.py --firmo build/release/firmo [--limit N] [--out results.tsv]
                         [--check] [ROOT...]

--limit N takes N files spread evenly over the sorted list (deterministic). --check exits 1
when Firmo calls a file it signed invalid while pdfsig calls it valid, or refuses as damaged a
file that qpdf --check finds clean: the false alarms this corpus exists to catch. Exits 77 (a
skip for ctest) when no PDF is found.
"""

import argparse
import hashlib
import json
import os
import statistics
import subprocess
import sys
import tempfile

DEFAULT_ROOTS = ["/usr/share/doc"]


def run(args, timeout=600):
    try:
        p = subprocess.run(args, capture_output=True, text=True, errors="replace",
                           timeout=timeout)
        return p.returncode, p.stdout, p.stderr
    except subprocess.TimeoutExpired:
        return -1, "", "timeout"


def timed(args, timeout=600):
    """Runs under GNU time: (exit code, stdout, stderr, seconds, peak KiB)."""
    code, out, err = run(["/usr/bin/time", "-f", "@@time %e %M"] + args, timeout)
    seconds, peak = 0.0, 0
    lines = []
    for line in err.splitlines():
        if line.startswith("@@time "):
            _, s, m = line.split()
            seconds, peak = float(s), int(m)
        else:
            lines.append(line)
    return code, out, "\n".join(lines), seconds, peak


def find_pdfs(roots):
    seen, files = set(), []
    for root in roots:
        for base, _, names in os.walk(root):
            for name in names:
                if not name.lower().endswith(".pdf"):
                    continue
                path = os.path.join(base, name)
                if not os.path.isfile(path) or os.path.islink(path):
                    continue
                with open(path, "rb") as f:
                    digest = hashlib.sha256(f.read()).hexdigest()
                if digest not in seen:
                    seen.add(digest)
                    files.append(path)
    return sorted(files)


def spread(files, limit):
    if not limit or limit >= len(files):
        return files
    step = len(files) / limit
    return [files[int(i * step)] for i in range(limit)]


def pdfsig_valid(pdf):
    code, out, _ = run(["pdfsig", pdf])
    verdicts = [l for l in out.splitlines() if "Signature Validation:" in l]
    return bool(verdicts) and all("Signature is Valid." in l for l in verdicts)


def mutool_valid(pdf):
    code, out, err = run(["mutool", "sign", "-v", pdf])
    text = out + err
    if "Verifying signature" not in text:
        return False
    bad = ("invalid", "failure", "not valid", "error verifying")
    for line in text.splitlines():
        low = line.lower()
        if any(b in low for b in bad) and "certificate error" not in low:
            return False
    return True


def one(firmo, data, pdf, work):
    size = os.path.getsize(pdf)
    row = {"file": pdf, "bytes": size}
    signed = os.path.join(work, "signed.pdf")
    twice = os.path.join(work, "twice.pdf")
    for f in (signed, twice):
        if os.path.exists(f):
            os.remove(f)
    base = [firmo, "sign", "--data-dir", data, "--name", "Corpus Signer", "--serial-number",
            "CORPUS-1"]
    code, out, err, seconds, peak = timed(base + ["--in", pdf, "--out", signed, "--page", "0",
                                                  "--x", "10", "--y", "10", "--w", "120",
                                                  "--h", "36"])
    if code != 0 and "does not fit" in err:
        code, out, err, seconds, peak = timed(base + ["--in", pdf, "--out", signed, "--page", "0",
                                                      "--invisible"])
    row.update(sign_s=seconds, sign_kib=peak)
    if code != 0:
        reason = err.strip().splitlines()[0] if err.strip() else "exit %d" % code
        row.update(signed=False, reason=reason.replace("error: ", ""))
        qcode, _, _ = run(["qpdf", "--check", pdf], timeout=600)
        row["qpdf_check"] = {0: "clean", 3: "warnings"}.get(qcode, "errors")
        return row
    code, out, err = run(base + ["--in", signed, "--out", twice, "--page", "0", "--invisible",
                                 "--field-name", "CorpusSecond"])
    if code != 0:
        row.update(signed=False, reason="second signature: " + err.strip())
        row["qpdf_check"] = "n/a"
        return row
    signed = twice
    row["signed"] = True
    code, out, err, seconds, peak = timed([firmo, "verify", "--data-dir", data, "--json", signed])
    row.update(verify_s=seconds, verify_kib=peak)
    try:
        report = json.loads(out)
        # Like pdfsig's "Signature is Valid.", about integrity: the certificates of signatures
        # already in the file are not expected to chain to our CA.
        problems = list(report.get("problems", []))
        unsupported = 0
        for s in report.get("signatures", []):
            if s.get("signer") == "Corpus Signer":
                problems += s.get("problems", [])  # ours: trust included
                continue
            for p in s.get("problems", []):
                if p.startswith("unsupported signature type"):
                    unsupported += 1
                elif "not trusted" not in p:
                    problems.append(p)
        row["firmo_valid"] = bool(report.get("signatures")) and not problems
        row["levels"] = ",".join(s.get("modification_level", "") for s in report["signatures"])
        row["firmo_problems"] = problems
        row["other_unsupported"] = unsupported
        row["remarks"] = len(report.get("remarks", []))
    except (ValueError, KeyError):
        row["firmo_valid"] = False
        row["firmo_problems"] = [err.strip() or "no report"]
    row["pdfsig_valid"] = pdfsig_valid(signed)
    row["mutool_valid"] = mutool_valid(signed)
    return row


def pct(values, q):
    if not values:
        return 0
    values = sorted(values)
    return values[min(len(values) - 1, int(round(q * (len(values) - 1))))]


def summary(rows):
    signed = [r for r in rows if r.get("signed")]
    refused = [r for r in rows if not r.get("signed")]
    lines = ["files: %d, signed: %d, refused: %d" % (len(rows), len(signed), len(refused))]
    reasons = {}
    for r in refused:
        reasons[r["reason"]] = reasons.get(r["reason"], 0) + 1
    for reason, n in sorted(reasons.items(), key=lambda x: -x[1]):
        lines.append("  refused %4d: %s" % (n, reason))
    others = sum(1 for r in signed if r.get("other_unsupported"))
    if others:
        lines.append("signed files that already held a signature of a type Firmo does not verify "
                     "(reported as such, not counted invalid): %d" % others)
    for key, name in (("firmo_valid", "Firmo"), ("pdfsig_valid", "pdfsig"),
                      ("mutool_valid", "mutool")):
        lines.append("valid per %-7s %d of %d signed" % (name + ":", sum(1 for r in signed if r[key]),
                                                         len(signed)))
    for key, what in (("sign", "sign"), ("verify", "verify (two signatures)")):
        times = [r[key + "_s"] for r in rows if key + "_s" in r]
        mem = [r[key + "_kib"] / 1024 for r in rows if key + "_kib" in r]
        if times:
            lines.append("%s time s: median %.2f, p95 %.2f, max %.2f; peak MiB: median %.0f, "
                         "p95 %.0f, max %.0f" % (what, statistics.median(times), pct(times, .95),
                                                  max(times), statistics.median(mem),
                                                  pct(mem, .95), max(mem)))
    # Memory beyond what the process costs with a tiny document, per byte of the document.
    small = sorted(r["sign_kib"] for r in rows if "sign_kib" in r and r["bytes"] < 100_000)
    baseline = small[len(small) // 2] if small else 0
    big = [r for r in signed if r["bytes"] >= 1 << 20]
    if big and baseline:
        def extra(r):
            return (max(r["sign_kib"], r.get("verify_kib", 0)) - baseline) * 1024 / r["bytes"]
        worst = max(big, key=extra)
        lines.append("peak memory beyond a small document's (%.0f MiB), per byte, among files >= "
                     "1 MiB: at most %.1fx (%s, %.1f MiB)" % (baseline / 1024, extra(worst),
                                                             worst["file"], worst["bytes"] / 2**20))
    return "\n".join(lines)


def false_alarms(rows):
    out = []
    for r in rows:
        if r.get("signed") and not r["firmo_valid"] and r["pdfsig_valid"]:
            out.append("%s: Firmo calls it invalid, pdfsig valid: %s" % (r["file"],
                                                                       r["firmo_problems"]))
        if not r.get("signed") and "damaged" in r["reason"] and r.get("qpdf_check") == "clean":
            out.append("%s: refused as damaged, qpdf --check is clean" % r["file"])
    return out


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--firmo", required=True)
    ap.add_argument("--limit", type=int, default=0)
    ap.add_argument("--out")
    ap.add_argument("--check", action="store_true")
    ap.add_argument("roots", nargs="*", default=DEFAULT_ROOTS)
    args = ap.parse_args()
    files = spread(find_pdfs(args.roots), args.limit)
    if not files:
        print("no PDF found under", " ".join(args.roots))
        return 77
    rows = []
    with tempfile.TemporaryDirectory(prefix="firmo-corpus-") as work:
        data = os.path.join(work, "data")
        code, out, err = run([args.firmo, "ca", "init", "--data-dir", data])
        if code != 0:
            print("cannot create a CA:", err)
            return 2
        for i, pdf in enumerate(files):
            row = one(args.firmo, data, pdf, work)
            rows.append(row)
            if sys.stdout.isatty():
                print("\r%d/%d" % (i + 1, len(files)), end="", flush=True)
    if sys.stdout.isatty():
        print()
    if args.out:
        cols = ["file", "bytes", "qpdf_check", "signed", "reason", "sign_s", "sign_kib",
                "verify_s", "verify_kib", "firmo_valid", "pdfsig_valid", "mutool_valid",
                "levels", "remarks", "firmo_problems"]
        with open(args.out, "w") as f:
            f.write("\t".join(cols) + "\n")
            for r in rows:
                f.write("\t".join(str(r.get(c, "")) for c in cols) + "\n")
    print(summary(rows))
    alarms = false_alarms(rows)
    for a in alarms:
        print("FALSE ALARM:", a)
    return 1 if args.check and alarms else 0


if __name__ == "__main__":
    sys.exit(main())
