#!/usr/bin/env bash
# Rehearses the GitHub workflow (.github/workflows/stickler.yml) on this machine with act:
# the jobs run on this host (-P ubuntu-latest=-self-hosted), in this working tree; the actions
# the workflow uses are the project's own stand-ins in .ci/act/ (checkout: the tree itself;
# setup-go: the host's Go; upload/download-artifact: act's artifact server, files in a local
# folder); the images are built registry-free through their recipes (the repository variable
# STICKLER_IMAGE_BUILD=recipe, read by the workflow's build steps).
#
#   .ci/rehearse-workflow.sh                         unit, the synapse leg, compare (full suite)
#   .ci/rehearse-workflow.sh --run 'TestSend|TestSync' --legs synapse,dendrite
#   .ci/rehearse-workflow.sh --job unit              one job (and the jobs it needs)
#
# --run PATTERN is the workflow_dispatch input `run` (the suite and the load rehearsal run only
# those tests: for a busy machine). --legs picks the matrix legs (default synapse), --job the
# last job (default compare; act runs the jobs it needs first), --out DIR where it all goes
# (default reports/act-<time>): act.jsonl (act's log), job-summary-<job>.md (what each job
# wrote to its GitHub job summary), artifacts/ (what the jobs uploaded, as zips). Exit code:
# act's.
set -uo pipefail
cd "$(dirname "$0")/.."
run= legs=synapse job=compare out=
while [ $# -gt 0 ]; do
  case "$1" in
    --run) run=$2; shift 2 ;;
    --legs) legs=$2; shift 2 ;;
    --job) job=$2; shift 2 ;;
    --out) out=$2; shift 2 ;;
    *) echo "rehearse-workflow: unknown argument $1 (see the head of $0)" >&2; exit 2 ;;
  esac
done
act=$(command -v act || true)
[ -n "$act" ] || act=$(go env GOPATH)/bin/act
if ! [ -x "$act" ] || ! "$act" --version 2>/dev/null | grep -q '0\.2\.89'; then
  echo "rehearse-workflow: installing act v0.2.89 (go install, through the Go module proxy)"
  go install github.com/nektos/act@v0.2.89 || { echo "rehearse-workflow: go install github.com/nektos/act@v0.2.89 failed" >&2; exit 2; }
  act=$(go env GOPATH)/bin/act
fi
out=${out:-reports/act-$(date -u +%Y%m%dT%H%M%SZ)}
mkdir -p "$out/artifacts" && out=$(cd "$out" && pwd)
here=$(pwd)
matrix=()
IFS=, read -ra legs_a <<<"$legs"
for l in "${legs_a[@]}"; do matrix+=(--matrix "server:$l"); done

echo "rehearse-workflow: act workflow_dispatch, job $job (with the jobs it needs), legs ${legs}, run '${run:-every test}'; log and artifacts in $out"
start=$(date +%s)
"$act" workflow_dispatch -W .github/workflows/stickler.yml -j "$job" "${matrix[@]}" \
  --input run="$run" \
  -P ubuntu-latest=-self-hosted \
  --local-repository "actions/checkout@v4=$here/.ci/act/checkout" \
  --local-repository "actions/setup-go@v5=$here/.ci/act/setup-go" \
  --local-repository "actions/upload-artifact@v4=$here/.ci/act/upload-artifact" \
  --local-repository "actions/download-artifact@v4=$here/.ci/act/download-artifact" \
  --artifact-server-path "$out/artifacts" \
  --var STICKLER_IMAGE_BUILD=recipe \
  --env GITHUB_RUN_ID="$start" \
  --json 2>&1 | tee "$out/act.jsonl" | python3 .ci/act/actlog.py "$out"
status=${PIPESTATUS[0]}
echo "rehearse-workflow: act exited $status after $(( $(date +%s) - start ))s; artifacts:"
find "$out/artifacts" -name '*.zip' -printf '  %P (%s bytes)\n' | sort
exit "$status"
