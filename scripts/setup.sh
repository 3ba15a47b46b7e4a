#!/usr/bin/env bash
# Installs what building and testing Masar needs on a fresh Debian/Ubuntu machine, then
# the front end's npm packages and the Python readers of the exports. Idempotent: what is already present is not fetched again.
set -euo pipefail
cd "$(dirname "$0")/.."

packages=(
  build-essential pkg-config perl sqlite3 curl file
  # The Tauri window (WebKitGTK) and its build.
  libwebkit2gtk-4.1-dev libgtk-3-dev libsoup-3.0-dev libxdo-dev libssl-dev
  libayatana-appindicator3-dev librsvg2-dev patchelf
  # The real window under a virtual display, driven over WebDriver, and screenshots.
  xvfb xauth x11-utils imagemagick webkit2gtk-driver
  # Node.js for the front end's build.
  nodejs npm
  # Readers of the exports: Python (a virtual environment, below) and LibreOffice for XLSX;
  # poppler's pdftotext and pdftoppm for the donor report's PDF.
  python3 python3-venv libreoffice-calc-nogui poppler-utils
  # Checking the .rpm package's file list (rpm -qlp), and the release workflow's YAML.
  rpm python3-yaml
  # Two Syncthing instances on loopback carry bundles in the sync test.
  syncthing
  # GNU time gives the scale test the peak memory of masar alone.
  time
)

missing=()
for p in "${packages[@]}"; do
  dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p")
done
# A machine whose Node.js did not come from Debian (node already on the PATH) keeps it.
if command -v node >/dev/null && command -v npm >/dev/null; then
  filtered=()
  for p in "${missing[@]}"; do [[ "$p" == nodejs || "$p" == npm ]] || filtered+=("$p"); done
  missing=("${filtered[@]}")
fi
if [ ${#missing[@]} -gt 0 ]; then
  sudo=""
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  echo "setup: installing ${#missing[@]} system packages (${missing[*]}); the details go to target/setup-apt.log"
  mkdir -p target
  if ! { $sudo apt-get update -qq && DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}"; } > target/setup-apt.log 2>&1; then
    tail -n 20 target/setup-apt.log >&2
    echo "setup: installing the system packages failed (the whole log: target/setup-apt.log)" >&2
    exit 1
  fi
fi

command -v cargo >/dev/null || { echo "setup: Rust (cargo) is required: install it with rustup" >&2; exit 1; }
# The suite checks formatting and clippy before the tests.
if ! cargo fmt --version >/dev/null 2>&1 || ! cargo clippy --version >/dev/null 2>&1; then
  rustup component add rustfmt clippy >/dev/null 2>&1 || { echo "setup: cargo fmt and cargo clippy are required: rustup component add rustfmt clippy" >&2; exit 1; }
fi

# Python readers the exports are checked with (the csv module, and libhxl from PyPI), in a
# virtual environment of the project's own.
if ! target/py/bin/python -c "import hxl" >/dev/null 2>&1; then
  python3 -m venv target/py || { echo "setup: python3 with venv is required (Debian: python3-venv)" >&2; exit 1; }
  target/py/bin/pip install -q --disable-pip-version-check libhxl==5.2.2 six==1.16.0
fi

# The front end: exact versions from the lock file, built into ui/dist for the window.
if [ ! -d ui/node_modules ] || [ ui/package-lock.json -nt ui/node_modules/.package-lock.json ]; then
  (cd ui && npm ci --no-audit --no-fund)
fi
# Rebuilt only when its sources changed: a rebuild rewrites ui/dist, and the desktop app,
# which embeds it, would recompile for nothing.
if [ ! -f ui/dist/index.html ] || [ -n "$(find ui/src ui/index.html ui/package-lock.json ui/vite.config.ts -newer ui/dist/index.html -print -quit)" ]; then
  (cd ui && npx vite build --logLevel warn)
fi
