#!/usr/bin/env bash
# Measures the suite's power: runs the tests of each deliberately broken Synapse variant
# (blueprints/images/synapse/mutants/manifest.txt) with that variant switched on, and judges
# whether the suite caught it on the requirement it breaks.
#
#   ./mutants.sh                 every variant
#   ./mutants.sh NAME...         only these variants
#   ./mutants.sh --quick         a cheap subset for CI (single server, short tests)
#
# Report: STICKLER_REPORT_DIR (default reports/mutants-<time>) gets one directory per variant
# (run.log, exit, and run.sh's report files) plus mutants.md, mutants.json and mutants.html.
# Exit: 0 every variant caught and every legal variant passed; 1 otherwise; 2 could not start.
# Variants run with STICKLER_STRICT=1 (a broken SHOULD fails the run, so it counts as caught),
# except "legal-should" ones: they break only SHOULDs, so they run without it and must pass
# with warnings on the SHOULD requirements their line names (no MUST failure).
set -uo pipefail
cd "$(dirname "$0")"
die() { echo "mutants.sh: $*" >&2; exit 2; }

quick=(neg-duration no-dedup cap-10)
manifest=blueprints/images/synapse/mutants/manifest.txt
names=()
for a in "$@"; do
  case "$a" in
    --quick) names+=("${quick[@]}");;
    -*) die "unknown option $a (usage: ./mutants.sh [--quick] [NAME...])";;
    *) names+=("$a");;
  esac
done
[ -z "${COMPLEMENT_BASE_IMAGE:-}" ] || die "COMPLEMENT_BASE_IMAGE is set: the variants are patches to the project's Synapse image only; unset it"
command -v go >/dev/null || die "Go is not installed (the suite needs Go 1.26 or newer)"

# The manifest: name | requirements | tests | codes-or-legal | description (fields are
# separated by " | "; a -run regexp may hold a bare "|"). Read as name<TAB>tests<TAB>kind.
all=$(grep -v '^[[:space:]]*#' "$manifest" | grep -v '^[[:space:]]*$' \
  | awk -F' [|] ' '{ n = $1; r = $3; k = $4; gsub(/[ \t]+/, "", n); gsub(/[ \t]+/, "", r); gsub(/[ \t]+/, "", k); print n "\t" r "\t" k }')
tests_of() { awk -F'\t' -v n="$1" '$1 == n { print $2 }' <<<"$all"; }
kind_of() { awk -F'\t' -v n="$1" '$1 == n { print $3 }' <<<"$all"; }
[ ${#names[@]} -gt 0 ] || mapfile -t names < <(cut -f1 <<<"$all")
for n in "${names[@]}"; do [ -n "$(tests_of "$n")" ] || die "no variant '$n' in $manifest"; done

out=${STICKLER_REPORT_DIR:-reports/mutants-$(date +%Y%m%d-%H%M%S)}
mkdir -p "$out" || die "cannot create $out"
out=$(cd "$out" && pwd)
tool=$(mktemp -d)/stickler-mutants
go build -o "$tool" ./cmd/stickler-mutants || die "building cmd/stickler-mutants failed"

image=$(blueprints/images/synapse/build.sh) || die "building the Synapse image failed (see above)"
# Each variant must apply to this image before its tests mean anything (a legal variant's pass
# proves nothing if the patch never applied); the container exits non-zero if it does not.
for n in "${names[@]}"; do
  docker run --rm --label stickler --entrypoint sh "$image" /stickler/mutants/apply.sh "$n" >"$out/apply-$n.log" 2>&1 \
    || { cat "$out/apply-$n.log" >&2; die "variant $n does not apply to $image"; }
done
echo "mutants.sh: ${#names[@]} variant(s) apply to $image"

# Passed into the containers by the harness (COMPLEMENT_SHARE_ENV_PREFIX, prefix removed).
prefix=${COMPLEMENT_SHARE_ENV_PREFIX:-STICKLER_PASS_}
export COMPLEMENT_SHARE_ENV_PREFIX=$prefix
for n in "${names[@]}"; do
  tests=$(tests_of "$n")
  dir=$out/$n
  mkdir -p "$dir"
  echo "mutants.sh: variant $n: ./run.sh -run '$tests' (log: $dir/run.log)"
  # Strict: a variant that breaks a SHOULD (SYNC-3, SYNC-9) is caught when its test fails,
  # and without STICKLER_STRICT that failure is only a warning and the run passes. A
  # legal-should variant is the opposite case: it breaks only SHOULDs and must get warnings
  # and nothing else, so it runs without strictness.
  strict=1
  [ "$(kind_of "$n")" = legal-should ] && strict=0
  env "${prefix}STICKLER_MUTANT=$n" STICKLER_STRICT=$strict STICKLER_REPORT_DIR="$dir" ./run.sh -run "$tests" >"$dir/run.log" 2>&1
  status=$?
  echo "$status" >"$dir/exit"
  tail -1 "$dir/run.log" | sed 's/^/    /'
  [ "$status" = 2 ] && { tail -5 "$dir/run.log" >&2; die "variant $n: the run could not start (see $dir/run.log)"; }
done

"$tool" -manifest "$manifest" -dir "$out" "${names[@]}"
status=$?
rm -rf "$(dirname "$tool")"
echo "mutants.sh: table in $out/mutants.md, mutants.json and mutants.html"
exit $status
