#!/bin/sh
# robust_killed.sh - writers SIGKILLed at random points leave the
# database readable and every passed triplet passed.
. "$(dirname "$0")/../lib.sh"
plan 3
R=user@test.example

write_exim_conf

# ---- 4. writers killed with SIGKILL at random points ----
write_gl_conf "on_error = accept" "auto_whitelist_clients = 0"
rm -f "$DB"*
NOW=1800000000
"$H/gl-hammer" "$T/greylist.conf" 1 4000 $NOW >/dev/null 2>&1
A list --json --state passed | sort >"$T/passed.before"
nb=$(wc -l <"$T/passed.before")
broken=0; round=0
while [ $round -lt 15 ]; do
	pids=""
	for j in 1 2 3 4 5 6; do
		"$H/gl-hammer" "$T/greylist.conf" $((round * 10 + j)) 100000 $NOW >/dev/null 2>&1 &
		pids="$pids $!"
	done
	sleep 0.$(( $(od -An -N1 -tu1 /dev/urandom) % 8 + 1 ))
	kill -9 $pids 2>/dev/null
	wait $pids 2>/dev/null
	# list exits 1 when a record cannot be read (stats only warns)
	A list >/dev/null 2>"$T/kill.err" || { broken=$((broken + 1)); cat "$T/kill.err"; }
	round=$((round + 1))
done
check "15 rounds of 6 writers killed at random points: the database stays readable" test $broken -eq 0
A list --json --state passed | sort >"$T/passed.after"
missing=$(awk -F'"' '{print $4, $8, $12}' "$T/passed.before" | while read -r c s r; do
	grep -qF "\"client\":\"$c\",\"sender\":\"$s\",\"recipient\":\"$r\",\"state\":\"passed\"" "$T/passed.after" || echo x
done | wc -l)
check "all $nb triplets passed before the kills are still passed ($missing missing)" test "$missing" -eq 0
expect_rcpt "451 4.7.1 " "the next RCPT after the kills is answered normally" 192.0.2.200 after-kill@x.example
