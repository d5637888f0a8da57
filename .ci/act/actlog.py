#!/usr/bin/env python3
"""Reads act's --json log on stdin: prints each line as "[job] message", writes what each
job put in its GitHub job summary to OUT/job-summary-<job>.md, and ends with each job's
result. Part of .ci/rehearse-workflow.sh."""
import json, os, re, sys

out = sys.argv[1]
results, summaries = {}, {}
for raw in sys.stdin:
    try:
        e = json.loads(raw)
    except ValueError:
        sys.stdout.write(raw)
        continue
    job = e.get("job") or e.get("jobID") or "act"
    msg = e.get("msg", "").rstrip("\n")
    if e.get("command") == "summary":
        summaries.setdefault(job, []).append(e.get("content", ""))
        print(f"[{job}] (job summary: {len(e.get('content', ''))} bytes)")
        continue
    if "jobResult" in e:
        results[job] = e["jobResult"]
    if msg:
        print(f"[{job}] {msg}", flush=True)
for job, parts in summaries.items():
    name = re.sub(r"[^A-Za-z0-9._-]+", "-", job).strip("-")
    with open(os.path.join(out, f"job-summary-{name}.md"), "w") as f:
        f.write("".join(parts))
print("\nrehearse-workflow: job results")
for job, r in results.items():
    print(f"  {job}: {r}")
for job in summaries:
    print(f"  job summary of {job}: job-summary-{re.sub(r'[^A-Za-z0-9._-]+', '-', job).strip('-')}.md")
