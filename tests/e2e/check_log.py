"""The window's support log after an end-to-end run: it says what happened (commands by
name, errors by code) and holds no name or phone that the tests typed into the window."""
import pathlib
import sys

folder = pathlib.Path(sys.argv[1])
text = "".join(p.read_text(encoding="utf-8", errors="replace") for p in sorted(folder.glob("*.log")))
typed = ["Fatima", "Zahra", "فاطمة", "الزهراء", "0612345678", "Benali", "<img"]
if "command login" not in text:
    sys.exit(f"support log: nothing logged in {folder}")
found = [t for t in typed if t in text]
if found:
    sys.exit(f"support log: holds what was typed: {found}")
print(f"support log: {len(text.splitlines())} lines, no name or phone typed in the tests")
