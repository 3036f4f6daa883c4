#!/bin/sh
# dashboard.sh - the Grafana dashboard: valid JSON, installed in the
# share directory, and every metric (and label) its queries name exists
# in greylist-admin metrics' output.
. "$(dirname "$0")/../lib.sh"
plan 5
PY=/usr/bin/python3
J=$TOP/doc/exim-greylist-grafana.json

write_gl_conf
A metrics >"$T/metrics"; rc=$?
check "metrics runs (exit $rc)" test $rc -eq 0
cat >"$T/check.py" <<'EOP'
import json, re, sys
dash = json.load(open(sys.argv[1]))
samples = {}                      # sample name -> label names seen
for line in open(sys.argv[2]):
    if line.startswith("#") or not line.strip():
        continue
    m = re.match(r'([a-zA-Z_:][a-zA-Z0-9_:]*)(\{([^}]*)\})? ', line)
    labels = set(re.findall(r'([a-zA-Z_]+)="', m.group(3) or ""))
    samples.setdefault(m.group(1), set()).update(labels)
exprs = [t["expr"] for p in dash["panels"] for t in p.get("targets", [])]
exprs += [v["query"] for v in dash["templating"]["list"]]
bad, names = [], set()
for e in exprs:
    if e.count("(") != e.count(")") or e.count("{") != e.count("}"):
        bad.append("unbalanced: " + e)
    for name, sel in re.findall(r'(exim_greylist_[a-z_]+)(\{[^}]*\})?', e):
        names.add(name)
        if name not in samples:
            bad.append("no metric " + name)
            continue
        for lab in re.findall(r'([a-z_]+)=~?"', sel or ""):
            if lab not in samples[name] and lab != "instance":
                bad.append("%s has no label %s" % (name, lab))
    for grp in re.findall(r'by \(([^)]*)\)', e):
        for lab in [x.strip() for x in grp.split(",")]:
            if lab != "le" and not any(lab in samples.get(n, ()) for n in re.findall(r'exim_greylist_[a-z_]+', e)):
                bad.append("by %s: no such label in %s" % (lab, e))
print(len(exprs), len(names), "; ".join(bad))
sys.exit(1 if bad or not exprs else 0)
EOP
out=$($PY "$T/check.py" "$J" "$T/metrics" 2>&1); rc=$?
check "the dashboard is JSON and every metric and label its queries name exists in metrics' output ($out)" test $rc -eq 0
check "it shows decisions per minute by reason, the share that came back, the delay percentiles and stuck senders" \
	sh -c "grep -q 'rate(exim_greylist_decisions_total' '$J' && grep -q 'exim_greylist_window_never_retried' '$J' &&
	       grep -q 'histogram_quantile(0.95, sum by (le) (rate(exim_greylist_pass_delay_seconds_bucket' '$J' &&
	       grep -q 'exim_greylist_stuck_senders' '$J'"
# A query naming a metric that does not exist is caught (the check can fail).
sed 's/exim_greylist_stuck_senders/exim_greylist_stuck_sender/' "$J" >"$T/broken.json"
$PY "$T/check.py" "$T/broken.json" "$T/metrics" >/dev/null 2>&1; rc=$?
check "a dashboard naming a missing metric fails the check (exit $rc)" test $rc -eq 1
make -C "$TOP" -s install DESTDIR="$T/root" PREFIX=/usr SO="$GL_SO" ADMIN="$GL_ADMIN" >"$T/inst.out" 2>&1
check "make install puts it in the share directory" \
	cmp -s "$J" "$T/root/usr/share/exim-greylist/grafana-dashboard.json"
