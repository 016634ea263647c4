#!/usr/bin/env bash
# The pictures of docs/WORKSHOPS.md, made from a real run of the article (as root; the lab runs in its sandbox):
#   docs/images/workshop-console.png   the console of `labrunner run … --until 3.4`, as a light terminal shows it
#   docs/images/workshop-report.png    the HTML report of that run (--report), in Debian's chromium, headless
# The console's colours are kept: its output is captured from a pseudo-terminal (script), turned into HTML here
# (ANSI colours → spans) and photographed by chromium like the report.
#
#   scripts/workshop-screenshots.sh        # after a Release build (./run-lab.sh builds one)
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
[[ "$(id -u)" -eq 0 ]] || { echo "workshop-screenshots: run as root (the article runs in a sandbox)" >&2; exit 3; }
command -v chromium >/dev/null || { echo "workshop-screenshots: chromium is missing: apt-get install -y chromium" >&2; exit 3; }
work="$(mktemp -d /tmp/lr-shots-XXXXXX)"
trap 'rm -rf "$work"' EXIT
cd "$ROOT"
# A terminal of 110 columns; LABRUNNER_SCRIPT_CACHE=off: nothing kept in ~/.cache by this run.
LABRUNNER_SCRIPT_CACHE=off script -qec \
  "stty cols 110 rows 60; dotnet src/LabRunner.Cli/bin/Release/net10.0/labrunner.dll run scenarios/article/article.yaml --until 2.7 --report $work/report.html" \
  "$work/console.typescript" >/dev/null
python3 - "$work/console.typescript" "$work/console.html" <<'PY'
import html, re, sys
text = open(sys.argv[1], encoding="utf-8", errors="replace").read().replace("\r", "")
text = "\n".join(l for l in text.split("\n") if not l.startswith(("Script started", "Script done")))
text = re.sub(r"\x1b[=>]", "", text)
palette = ["#000", "#b00020", "#0a7a28", "#8a5a00", "#1d4ed8", "#8e24aa", "#00796b", "#555",
           "#666", "#c62828", "#2e7d32", "#8a6d00", "#1565c0", "#8e24aa", "#00838f", "#222"]
colours = {"30": "#000", "31": "#b00020", "32": "#0a7a28", "33": "#8a5a00", "34": "#1d4ed8", "35": "#8e24aa", "36": "#00796b",
           "37": "#555", "90": "#666", "91": "#c62828", "92": "#2e7d32", "93": "#8a6d00", "94": "#1565c0", "95": "#8e24aa", "96": "#00838f", "97": "#222"}
out, open_spans = [], 0
for part in re.split(r"(\x1b\[[0-9;]*m)", text):
    m = re.fullmatch(r"\x1b\[([0-9;]*)m", part)
    if not m:
        out.append(html.escape(re.sub(r"\x1b\[[0-9;?]*[A-Za-z]", "", part)))
        continue
    codes = [c for c in m.group(1).split(";") if c]
    if not codes or codes == ["0"] or codes[0] == "0":
        out.append("</span>" * open_spans); open_spans = 0
    styles, i = [], 0
    while i < len(codes):
        c = codes[i]
        if c == "38" and i + 2 < len(codes) and codes[i + 1] == "5":
            n = int(codes[i + 2]); styles.append(f"color:{palette[n] if n < 16 else '#333'}"); i += 3; continue
        if c == "38" and i + 4 < len(codes) and codes[i + 1] == "2":
            styles.append(f"color:rgb({codes[i + 2]},{codes[i + 3]},{codes[i + 4]})"); i += 5; continue
        if c in colours: styles.append(f"color:{colours[c]}")
        if c == "1": styles.append("font-weight:bold")
        i += 1
    style = ";".join(styles)
    if style.strip(";"):
        out.append(f'<span style="{style.strip(";")}">'); open_spans += 1
out.append("</span>" * open_spans)
page = ('<!doctype html><meta charset="utf-8"><body style="margin:0;background:#fdfdfd">'
        '<pre style="font:14px/1.35 DejaVu Sans Mono,monospace;padding:16px;color:#1a1a1a;white-space:pre-wrap;width:1000px">'
        + "".join(out) + "</pre>")
open(sys.argv[2], "w", encoding="utf-8").write(page)
PY
shot() { # html, png, height
  chromium --headless --no-sandbox --disable-gpu --hide-scrollbars --window-size=1040,"$3" \
    --screenshot="$2" "file://$1" >/dev/null 2>&1
}
shot "$work/console.html" "$ROOT/docs/images/workshop-console.png" 1500
shot "$work/report.html" "$ROOT/docs/images/workshop-report.png" 2600
echo "workshop-screenshots: docs/images/workshop-console.png, docs/images/workshop-report.png"
