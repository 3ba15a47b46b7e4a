#!/usr/bin/env bash
# Builds Masar and opens the desktop window on the embedded demo database (./demo/),
# creating and filling it on first run. Log in as demo / masar-demo.
set -euo pipefail
cd "$(dirname "$0")/.."
# The window needs a graphical session: say so before a long build, not after it.
if [ -z "${DISPLAY:-}" ] && [ -z "${WAYLAND_DISPLAY:-}" ]; then
  echo "run-desktop: no graphical session (DISPLAY and WAYLAND_DISPLAY are unset)." >&2
  echo "  Run it from a desktop session, or on a virtual display: xvfb-run -a ./scripts/run-desktop.sh" >&2
  exit 2
fi
scripts/setup.sh
# The same crates as the test suite builds, so that neither recompiles the other's.
cargo build --locked --workspace
db=${MASAR_DB:-$PWD/demo/masar.db}
if [ ! -f "$db" ]; then
  # The demo's names in the system's language (French when it is none of the three).
  lang=${LANG:0:2}
  case "$lang" in fr|ar|en) ;; *) lang=fr ;; esac
  MASAR_DB=$db MASAR_USER=demo MASAR_PASSWORD=masar-demo ./target/debug/masar demo --lang "$lang" >/dev/null
  echo "demo database made at $db (user demo, password masar-demo)"
fi
exec ./target/debug/masar-desktop --db "$db" --demo
