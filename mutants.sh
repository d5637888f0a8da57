#!/usr/bin/env bash
# Measures the suite's power: runs the tests of each deliberately broken Synapse variant with
# that variant switched on, and judges whether the suite caught it on the requirement it breaks.
# Two manifests, one table: servers/synapse/mutants/manifest.txt (bugs planted in
# Synapse 1.160, run on the Synapse image) and servers/synapse-reference/mutants/
# manifest.txt (bugs planted in the reference's patches, run on the reference image).
#
#   ./mutants.sh                 every variant of both manifests
#   ./mutants.sh --synapse       only the Synapse image's variants
#   ./mutants.sh --reference     only the reference image's variants
#   ./mutants.sh NAME...         only these variants (from either manifest)
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

quick=(neg-duration no-dedup cap-10 ref-sync-forgets-timelines)
recipes=(synapse synapse-reference)
names=()
for a in "$@"; do
  case "$a" in
    --quick) names+=("${quick[@]}");;
    --synapse) recipes=(synapse);;
    --reference) recipes=(synapse-reference);;
    -*) die "unknown option $a (usage: ./mutants.sh [--quick|--synapse|--reference] [NAME...])";;
    *) names+=("$a");;
  esac
done
manifests=()
for r in "${recipes[@]}"; do manifests+=("servers/$r/mutants/manifest.txt"); done
[ -z "${COMPLEMENT_BASE_IMAGE:-}" ] || die "COMPLEMENT_BASE_IMAGE is set: the variants are patches to the project's Synapse image only; unset it"
command -v go >/dev/null || die "Go is not installed (the suite needs Go 1.26 or newer)"

# The manifests: name | requirements | tests | codes-or-legal | description (fields are
# separated by " | "; a -run regexp may hold a bare "|"). Read as name<TAB>tests<TAB>recipe<TAB>kind.
all=$(for r in "${recipes[@]}"; do
  grep -v '^[[:space:]]*#' "servers/$r/mutants/manifest.txt" | grep -v '^[[:space:]]*$' \
    | awk -F' [|] ' -v rc="$r" '{ n = $1; t = $3; k = $4; gsub(/[ \t]+/, "", n); gsub(/[ \t]+/, "", t); gsub(/[ \t]+/, "", k); print n "\t" t "\t" rc "\t" k }'
done)
tests_of() { awk -F'\t' -v n="$1" '$1 == n { print $2 }' <<<"$all"; }
recipe_of() { awk -F'\t' -v n="$1" '$1 == n { print $3 }' <<<"$all"; }
kind_of() { awk -F'\t' -v n="$1" '$1 == n { print $4 }' <<<"$all"; }
[ ${#names[@]} -gt 0 ] || mapfile -t names < <(cut -f1 <<<"$all")
for n in "${names[@]}"; do [ -n "$(tests_of "$n")" ] || die "no variant '$n' in ${manifests[*]}"; done

out=${STICKLER_REPORT_DIR:-reports/mutants-$(date +%Y%m%d-%H%M%S)}
mkdir -p "$out" || die "cannot create $out"
out=$(cd "$out" && pwd)
tool=$(mktemp -d)/stickler-mutants
go build -o "$tool" ./cmd/stickler-mutants || die "building cmd/stickler-mutants failed"

# Each variant must apply to its image before its tests mean anything (a legal variant's pass
# proves nothing if the patch never applied); the container exits non-zero if it does not.
declare -A image
for n in "${names[@]}"; do
  r=$(recipe_of "$n")
  [ -n "${image[$r]:-}" ] || image[$r]=$("servers/$r/build.sh") || die "building the $r image failed (see above)"
  docker run --rm --label stickler --entrypoint sh "${image[$r]}" /stickler/mutants/apply.sh "$n" >"$out/apply-$n.log" 2>&1 \
    || { cat "$out/apply-$n.log" >&2; die "variant $n does not apply to ${image[$r]}"; }
done
echo "mutants.sh: ${#names[@]} variant(s) apply to their images (${image[*]})"

# Passed into the containers by the harness (COMPLEMENT_SHARE_ENV_PREFIX, prefix removed).
prefix=${COMPLEMENT_SHARE_ENV_PREFIX:-STICKLER_PASS_}
export COMPLEMENT_SHARE_ENV_PREFIX=$prefix
for n in "${names[@]}"; do
  tests=$(tests_of "$n")
  dir=$out/$n
  mkdir -p "$dir"
  r=$(recipe_of "$n")
  echo "mutants.sh: variant $n: STICKLER_SERVER=$r ./run.sh -run '$tests' (log: $dir/run.log)"
  # Strict: a variant that breaks a SHOULD (SYNC-3, SYNC-9) is caught when its test fails,
  # and without STICKLER_STRICT that failure is only a warning and the run passes. A
  # legal-should variant is the opposite case: it breaks only SHOULDs and must get warnings
  # and nothing else, so it runs without strictness.
  # Each recipe's own expectations apply (the reference's lists what its patches do not fix yet).
  strict=1
  [ "$(kind_of "$n")" = legal-should ] && strict=0
  env "${prefix}STICKLER_MUTANT=$n" STICKLER_SERVER="$r" STICKLER_STRICT=$strict STICKLER_REPORT_DIR="$dir" ./run.sh -run "$tests" >"$dir/run.log" 2>&1
  status=$?
  echo "$status" >"$dir/exit"
  tail -1 "$dir/run.log" | sed 's/^/    /'
  [ "$status" = 2 ] && { tail -5 "$dir/run.log" >&2; die "variant $n: the run could not start (see $dir/run.log)"; }
done

"$tool" -manifest "$(IFS=,; echo "${manifests[*]}")" -dir "$out" "${names[@]}"
status=$?
rm -rf "$(dirname "$tool")"
echo "mutants.sh: table in $out/mutants.md, mutants.json and mutants.html"
exit $status
