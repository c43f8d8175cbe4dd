#!/bin/bash
# The report as a browser sees it: builds the synthetic GRPO, SFT and
# pipeline directories (test_report DIR), writes the GRPO report again with
# `grpo report`, renders each page in headless Chromium (--dump-dom) and
# checks that the rendered DOM holds every SVG plot with its lines, the
# tables, the hostile completion as plain text and no script or image;
# then takes a screenshot.
#   test_report_chromium.sh GRPO_BIN TEST_REPORT_BIN WORK_DIR
set -u
GRPO=$1; FIXTURES=$2; WORK=$3
rm -rf "$WORK"; mkdir -p "$WORK"
pass=0; fail=0
check() { if eval "$1"; then pass=$((pass+1)); else fail=$((fail+1)); echo "FAIL: $2" >&2; fi; }
if ! command -v chromium > /dev/null 2>&1; then
  echo "chromium is not installed; run scripts/setup.sh (Debian package 'chromium')" >&2
  echo "0 passed, 1 failed"; exit 1
fi

"$FIXTURES" "$WORK/fx" > "$WORK/fixtures.log" 2>&1
check '[ $? -eq 0 ]' "test_report fixtures: $(tail -3 "$WORK/fixtures.log")"
"$GRPO" report "$WORK/fx/run" --out "$WORK/fx/run/cli.html" --csv "$WORK/fx/run/metrics.csv" 2> "$WORK/cli.err"
check '[ $? -eq 0 ] && grep -q "wrote .*cli.html" "$WORK/cli.err"' "grpo report: $(cat "$WORK/cli.err")"

# Each run gets a fresh profile; no network, no first-run work.
render() { # HTML_FILE OUT_FILE [extra chromium args]
  local html=$1 out=$2; shift 2
  local profile; profile=$(mktemp -d "$WORK/profile.XXXXXX")
  timeout 120 chromium --headless --no-sandbox --disable-gpu --disable-quic --no-first-run \
    --disable-background-networking --disable-component-update --disable-sync --hide-scrollbars \
    --user-data-dir="$profile" "$@" "file://$html" > "$out" 2> "$out.err"
  local rc=$?
  rm -rf "$profile"
  return $rc
}

# Counts elements and checks texts in a dumped DOM (python3, stdlib only).
dom_check() { # DOM_FILE SVGS TABLES MIN_POLYLINES NEEDLES...
  python3 - "$@" <<'PY'
import sys
from html.parser import HTMLParser
dom, svgs, tables, min_lines = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
needles = sys.argv[5:]
class P(HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.count, self.stack, self.pre_texts, self.captions = {}, [], [], []
    def handle_starttag(self, tag, attrs):
        self.count[tag] = self.count.get(tag, 0) + 1
        self.stack.append(tag)
        if tag in ("pre", "figcaption"): (self.pre_texts if tag == "pre" else self.captions).append("")
    def handle_endtag(self, tag):
        while self.stack and self.stack.pop() != tag: pass
    def handle_data(self, data):
        if "pre" in self.stack and self.pre_texts: self.pre_texts[-1] += data
        if "figcaption" in self.stack and self.captions: self.captions[-1] += data
p = P(); p.feed(open(dom, encoding="utf-8").read())
errs = []
if p.count.get("svg", 0) != svgs: errs.append("svg elements: %d, want %d" % (p.count.get("svg", 0), svgs))
if p.count.get("table", 0) != tables: errs.append("tables: %d, want %d" % (p.count.get("table", 0), tables))
if p.count.get("polyline", 0) < min_lines: errs.append("polylines: %d < %d" % (p.count.get("polyline", 0), min_lines))
for bad in ("script", "img", "iframe", "object", "embed", "link"):
    if p.count.get(bad): errs.append("a <%s> element in the DOM" % bad)
for n in needles:
    kind, _, text = n.partition(":")
    pool = p.captions if kind == "caption" else p.pre_texts
    if not any(text in t for t in pool): errs.append("no %s containing %r" % (kind, text))
for e in errs: print(dom + ": " + e, file=sys.stderr)
sys.exit(1 if errs else 0)
PY
}

HOSTILE="</pre></td></tr></table><script>alert('x')</script><img src=x onerror=alert(1)>"
for page in run/report.html run/cli.html; do
  render "$WORK/fx/$page" "$WORK/dom.html" --dump-dom
  check '[ $? -eq 0 ] && [ -s "$WORK/dom.html" ]' "chromium --dump-dom $page: $(tail -3 "$WORK/dom.html.err")"
  # 18 plots; 3 completion tables; the hostile completion is text in a <pre>
  check 'dom_check "$WORK/dom.html" 18 3 30 "caption:Reward" "caption:Accuracy and pass@1" "caption:Think, format and truncation rates" \
     "caption:Time per step" "pre:$HOSTILE" "pre:\"output_dir\""' "rendered GRPO report $page"
done
render "$WORK/fx/sft/report.html" "$WORK/dom_sft.html" --dump-dom
check 'dom_check "$WORK/dom_sft.html" 7 0 7 "caption:Loss" "caption:Learning rate"' "rendered SFT report"
render "$WORK/fx/pipe/report.html" "$WORK/dom_pipe.html" --dump-dom
# the evaluation table, the stage table; the SFT stage's 7 plots and the GRPO stage's 18
check 'dom_check "$WORK/dom_pipe.html" 25 2 30 "caption:Loss" "caption:Reward"' "rendered pipeline report"
check 'grep -q "eval-after" "$WORK/dom_pipe.html" && grep -q "+52.5 points" "$WORK/dom_pipe.html"' "pipeline table in the DOM"

render "$WORK/fx/run/report.html" "$WORK/shot.log" --window-size=1280,2400 --screenshot="$WORK/report.png"
check '[ -s "$WORK/report.png" ] && [ $(stat -c %s "$WORK/report.png") -gt 50000 ]' "screenshot missing or blank"
check 'head -c 8 "$WORK/report.png" | od -An -c | grep -q "P   N   G"' "screenshot is not a PNG"

echo "$pass passed, $fail failed"
[ $fail -eq 0 ]
