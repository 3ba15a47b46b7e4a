#!/usr/bin/env bash
# Builds Masar, fills a demo database and prints this year's indicators.
# The database lives in ./demo/ (user "demo", password "masar-demo").
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
cargo build --locked -p masar-cli
export MASAR_DB=${MASAR_DB:-$PWD/demo/masar.db} MASAR_USER=${MASAR_USER:-demo} MASAR_PASSWORD=${MASAR_PASSWORD:-masar-demo}
if [ ! -f "$MASAR_DB" ]; then
  ./target/debug/masar demo
fi
year=$(date +%Y)
./target/debug/masar report indicators --from "$((year - 1))-01-01" --to "$year-12-31" --by sex --by donor
