#!/usr/bin/env bash
# The packages as IT installs them: builds the .deb and .rpm (release mode), checks the
# .rpm's file list, installs the .deb with apt-get, runs the installed `masar --version`,
# drives the installed window's first run over WebDriver (an English system: it must
# speak English), upgrades to a .deb of a higher version built in this run (the person is
# still there), then removes the package (the data folder stays). Root or sudo.
set -euo pipefail
cd "$(dirname "$0")/../.."
sudo=""
[ "$(id -u)" -eq 0 ] || sudo="sudo"

# The packages' version is the workspace's (tauri.conf.json names none).
version=$(python3 -c 'import tomllib; print(tomllib.load(open("Cargo.toml", "rb"))["workspace"]["package"]["version"])')
higher=$(python3 -c "v='$version'.split('.'); v[-1]=str(int(v[-1])+1); print('.'.join(v))")
scripts/package.sh
deb=$(ls target/release/bundle/deb/*_"$version"_*.deb)
rpm=$(ls target/release/bundle/rpm/*-"$version"-*.rpm)
cp "$deb" "$rpm" target/
deb=target/$(basename "$deb")
rpm=target/$(basename "$rpm")
echo "package: $(du -h "$deb" | cut -f1) $deb; $(du -h "$rpm" | cut -f1) $rpm"

# The .rpm holds the app, the command line, the desktop entry and the icons.
files=$(rpm -qlp "$rpm" 2>/dev/null)
for f in /usr/bin/masar /usr/bin/masar-desktop /usr/share/applications/Masar.desktop /usr/share/icons/hicolor/128x128/apps/masar-desktop.png; do
  grep -qx "$f" <<<"$files" || { echo "package: the .rpm lacks $f; it holds:"; echo "$files"; exit 1; }
done
# The .deb declares the system libraries the window needs, and its desktop entry speaks three languages.
dpkg-deb -f "$deb" Depends | grep -q libwebkit2gtk-4.1 || { echo "package: the .deb does not depend on WebKitGTK"; exit 1; }
entry=$(dpkg-deb --fsys-tarfile "$deb" | tar -xO usr/share/applications/Masar.desktop)
for key in 'Comment[fr]=' 'Comment[ar]=' 'Name[ar]=' 'Comment='; do
  grep -qF "$key" <<<"$entry" || { echo "package: the desktop entry lacks $key"; exit 1; }
done

name=$(dpkg-deb -f "$deb" Package)
home=$(mktemp -d)
cleanup() { $sudo apt-get remove -y -qq "$name" >/dev/null 2>&1 || true; rm -rf "$home"; }
trap cleanup EXIT

DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "./$deb" >/dev/null
/usr/bin/masar --version | grep -q "masar $version (database schema" || { echo "package: masar --version says: $(/usr/bin/masar --version)"; exit 1; }

# The installed window, on a fresh account's data folder, with an English system.
drive() {
  env -u LC_ALL -u LC_MESSAGES HOME="$home" XDG_DATA_HOME="$home/data" LANG=en_US.UTF-8 LANGUAGE=en MASAR_PACKAGE_PHASE="$1" MASAR_PACKAGE_VERSION="$2" \
    xvfb-run -a -s "-screen 0 1280x800x24" bash -c '
      tauri-driver --port 4444 > target/tauri-driver-package.log 2>&1 & td=$!
      for _ in $(seq 100); do curl -fs http://127.0.0.1:4444/status >/dev/null && break; sleep 0.1; done
      node --test --test-concurrency=1 tests/package/; rc=$?
      kill $td 2>/dev/null || true
      exit $rc'
}
export PATH="$HOME/.cargo/bin:$PATH"
drive first "$version"
[ -f "$home/data/masar/masar.db" ] || { echo "package: the database is not in the OS data folder ($home/data/masar)"; exit 1; }

# An upgrade keeps the data.
MASAR_PACKAGE_VERSION="$higher" scripts/package.sh
DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "./$(ls target/release/bundle/deb/*_"$higher"_*.deb)" >/dev/null
[ "$(dpkg-query -W -f='${Version}' "$name")" = "$higher" ] || { echo "package: the upgrade did not install $higher"; exit 1; }
drive upgraded "$higher"

# Removing the package leaves the users' data where it is.
$sudo apt-get remove -y -qq "$name" >/dev/null
[ ! -e /usr/bin/masar ] || { echo "package: /usr/bin/masar is still there after removal"; exit 1; }
[ -f "$home/data/masar/masar.db" ] || { echo "package: removing the package took the data"; exit 1; }
echo "package: built, installed, first run, upgraded to $higher, removed with the data kept"
