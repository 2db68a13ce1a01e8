#!/usr/bin/env bash
# Counts the public API as rustdoc lists it (target/doc/tower_webhook/all.html),
# per kind, leaving out the provider registry (`provider::*`), whose size grows
# with the providers and is not API a reader has to learn.
#
#   .ci/surface.sh            print the totals and the list
#   .ci/surface.sh --check    also fail above MAX_ITEMS items or MAX_CONSTANTS constants
#   .ci/surface.sh --no-build count an existing target/doc without running cargo doc
set -euo pipefail
cd "$(dirname "$0")/.."

MAX_ITEMS=150
MAX_CONSTANTS=10

check=0
build=1
for arg in "$@"; do
  case "$arg" in
    --check) check=1 ;;
    --no-build) build=0 ;;
    *) echo "usage: $0 [--check] [--no-build]" >&2; exit 2 ;;
  esac
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
echo "total: $items items, $constants constants (limits: $MAX_ITEMS items, $MAX_CONSTANTS constants)"
echo "== per top-level module"
printf '%s\n' "$list" | cut -f2 | awk -F'::' '{ print (NF > 1 ? $1 : "(crate root)") }' | sort | uniq -c | sort -rn
echo "== the list"
printf '%s\n' "$list" | awk -F'\t' '{ printf "%-14s %s\n", $1, $2 }'

if [ "$check" = 1 ]; then
  if [ "$items" -gt "$MAX_ITEMS" ] || [ "$constants" -gt "$MAX_CONSTANTS" ]; then
    echo "public surface too large: $items items (max $MAX_ITEMS), $constants constants (max $MAX_CONSTANTS)" >&2
    exit 1
  fi
fi
