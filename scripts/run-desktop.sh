#!/usr/bin/env bash
# Builds Masar and opens the desktop window on the embedded demo database (./demo/),
# creating and filling it on first run. Log in as demo / masar-demo.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
cargo build --locked -p masar-cli -p masar-desktop
db=${MASAR_DB:-$PWD/demo/masar.db}
if [ ! -f "$db" ]; then
  MASAR_DB=$db MASAR_USER=demo MASAR_PASSWORD=masar-demo ./target/debug/masar demo >/dev/null
  echo "demo database made at $db (user demo, password masar-demo)"
fi
exec ./target/debug/masar-desktop --db "$db" --demo
