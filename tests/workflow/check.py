"""Keeps .github/workflows/release.yml valid where it cannot run: actionlint does not
install on these machines (its PyPI wrapper downloads the binary at install time), so
this reads the workflow as YAML and checks what a typo would break: the trigger, that
every step runs a command or uses an action pinned to a version, that every
`${{ matrix.X }}` names a key of every matrix entry, and that each entry names the
bundles the Tauri bundler makes on its system."""
import re
import sys

import yaml

BUNDLES = {"windows": {"nsis", "msi"}, "macos": {"app", "dmg"}, "ubuntu": {"deb", "rpm", "appimage"}}

with open(sys.argv[1] if len(sys.argv) > 1 else ".github/workflows/release.yml", encoding="utf-8") as f:
    text = f.read()
flow = yaml.safe_load(text)
problems = []
# YAML reads the key `on` as True.
trigger = flow.get("on", flow.get(True))
if not trigger or "push" not in trigger:
    problems.append("no push trigger")
for name, job in flow["jobs"].items():
    entries = job.get("strategy", {}).get("matrix", {}).get("include", [])
    keys = set.intersection(*(set(e) for e in entries)) if entries else set()
    for used in re.findall(r"\$\{\{\s*matrix\.(\w+)\s*\}\}", yaml.safe_dump(job)):
        if used not in keys:
            problems.append(f"{name}: matrix.{used} is not a key of every matrix entry")
    for entry in entries:
        system = entry["os"].split("-")[0]
        unknown = set(entry["bundles"].split(",")) - BUNDLES.get(system, set())
        if unknown:
            problems.append(f"{name}: {entry['os']} cannot bundle {sorted(unknown)}")
    for i, step in enumerate(job["steps"]):
        if ("run" in step) == ("uses" in step):
            problems.append(f"{name}: step {i + 1} must either run a command or use an action")
        if "uses" in step and "@" not in step["uses"]:
            problems.append(f"{name}: step {i + 1} uses {step['uses']} without a version")
if problems:
    print("release workflow:", *problems, sep="\n  ")
    sys.exit(1)
print(f"release workflow: {len(flow['jobs'])} job(s), valid")
