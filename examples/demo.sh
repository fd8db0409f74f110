#!/bin/sh
# The README's Quick start demo: install `agents` (with ruff, the real tool it runs), register a
# copy of the sample project, count its lines, then format it with ruff in workspaces that see
# the whole project, review the changes and apply them. Run from the repository's root:
#   sh examples/demo.sh
set -eu
if [ -t 1 ]; then bold=$(printf '\033[1m') plain=$(printf '\033[0m'); else bold='' plain=''; fi
say() { printf '\n%s$ %s%s\n' "$bold" "$*" "$plain"; }

cd "$(dirname "$0")/.."
python3 -m pip install --quiet -e '.[examples]'
SAMPLE=$(mktemp -d)
cp -R examples/sample-project/. "$SAMPLE"
say agents project add "$SAMPLE" --name sample
agents project add "$SAMPLE" --name sample
say agents plan run --project sample --action line-count
agents plan run --project sample --action line-count
say agents plan create --project sample --action format
PLAN=$(agents plan create --project sample --action format)
echo "$PLAN"
say agents plan execute "$PLAN"
agents plan execute "$PLAN"
say agents plan diff "$PLAN" --stat
agents plan diff "$PLAN" --stat
say agents plan diff "$PLAN" -- src/common/config.py
agents plan diff "$PLAN" -- src/common/config.py
say agents plan apply "$PLAN"
agents plan apply "$PLAN"
say agents plan list
agents plan list
printf '\nThe sample project, formatted: %s\n' "$SAMPLE"
