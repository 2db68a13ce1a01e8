#!/usr/bin/env bash
# Counts the public API as rustdoc lists it (target/doc/tower_webhook/all.html),
# per kind, leaving out the provider registry (`provider::*`), whose size grows
# with the providers and is not API a reader has to learn.
#
#   .ci/surface.sh                    print the totals and the list
#   .ci/surface.sh --check            also fail above 150 items or 10 constants (issue 19)
#   .ci/surface.sh --max-items N      fail above N items
#   .ci/surface.sh --max-constants N  fail above N constants
#   .ci/surface.sh --no-build         count an existing target/doc without running cargo doc
set -euo pipefail
cd "$(dirname "$0")/.."

max_items=
max_constants=
build=1
while [ $# -gt 0 ]; do
  case "$1" in
    --check) max_items=150; max_constants=10 ;;
    --max-items) max_items=$2; shift ;;
    --max-constants) max_constants=$2; shift ;;
    --no-build) build=0 ;;
    *) echo "usage: $0 [--check] [--max-items N] [--max-constants N] [--no-build]" >&2; exit 2 ;;
  esac
  shift
done

if [ "$build" = 1 ]; then
  cargo doc --no-deps --all-features --quiet
fi
all="${CARGO_TARGET_DIR:-target}/doc/tower_webhook/all.html"
[ -f "$all" ] || { echo "no $all: run cargo doc --no-deps --all-features" >&2; exit 1; }

# all.html is one section per kind: <h3 id="structs">Structs</h3><ul ...><li><a href=..>path</a></li>...
list=$(sed -e 's/<h3 id="[^"]*">/\nKIND /g' -e 's/<li>/\n/g' "$all" | awk '
  /^KIND / { sub(/^KIND /, ""); sub(/<.*/, ""); kind = $0; next }
  kind != "" && /^<a href="/ {
    line = $0; sub(/^<a href="[^"]*">/, "", line); sub(/<.*/, "", line)
    if (line !~ /^provider::/) print kind "\t" line
  }')

echo "== rustdoc items outside provider::, per kind"
printf '%s\n' "$list" | cut -f1 | sort | uniq -c | sort -rn
items=$(printf '%s\n' "$list" | grep -c . || true)
constants=$(printf '%s\n' "$list" | grep -c '^Constants	' || true)
echo "total: $items items, $constants constants (issue 19's target: at most 150 items, 10 constants)"
echo "== per top-level module"
printf '%s\n' "$list" | cut -f2 | awk -F'::' '{ print (NF > 1 ? $1 : "(crate root)") }' | sort | uniq -c | sort -rn
echo "== the list"
printf '%s\n' "$list" | awk -F'\t' '{ printf "%-14s %s\n", $1, $2 }'

status=0
if [ -n "$max_items" ] && [ "$items" -gt "$max_items" ]; then
  echo "public surface too large: $items items, at most $max_items" >&2
  status=1
fi
if [ -n "$max_constants" ] && [ "$constants" -gt "$max_constants" ]; then
  echo "public surface too large: $constants public constants, at most $max_constants" >&2
  status=1
fi
exit "$status"
