#!/bin/sh
# stuck.sh - greylist-admin stuck through the real Exim: a sender that
# retries one recipient from three addresses in different /24s (no SPF,
# no verified pool name) is listed with a whitelist line that, once run,
# lets its next retry through; a sender that retried from its subnet and
# passed, one that passed in the end, and a one-second burst from three
# networks are not listed. metrics counts the stuck senders.
. "$(dirname "$0")/../lib.sh"
plan 21

write_exim_conf
write_gl_conf "auto_whitelist_clients = 0" "retry_window = 1h"
sed -i 's/^delay = 2s/delay = 4s/' "$T/greylist.conf"
stuck_metric() {
	A metrics | awk '$1 == "exim_greylist_stuck_senders" { print $2 }'
}

expect_rcpt "451 " "stuck sender, first attempt from 192.0.2.10" 192.0.2.10 reset@saas.example
expect_rcpt "451 " "fine sender, first attempt" 192.0.2.20 news@fine.example
expect_rcpt "451 " "mixed sender, first attempt" 192.0.2.30 ok@mixed.example
for ip in 192.0.2.40 198.51.100.40 203.0.113.40; do
	rcpt $ip forged@burst.example >/dev/null
done
sleep 2.1
expect_rcpt "451 " "stuck sender retries from 198.51.100.10: new again" 198.51.100.10 reset@saas.example
rcpt 198.51.100.30 ok@mixed.example >/dev/null
sleep 2.1
expect_rcpt "451 " "stuck sender retries from 203.0.113.10: new again" 203.0.113.10 reset@saas.example
rcpt 203.0.113.30 ok@mixed.example >/dev/null
expect_rcpt "250 " "fine sender retries from its /24 and passes" 192.0.2.21 news@fine.example
expect_rcpt "250 " "mixed sender passes from its first subnet in the end" 192.0.2.31 ok@mixed.example

A stuck >"$T/stuck.out" 2>"$T/stuck.err"; rc=$?
check "stuck: exit $rc, nothing on stderr" sh -c "test $rc -eq 0 && test ! -s '$T/stuck.err'"
check "it lists the stuck sender: $(head -1 "$T/stuck.out")" \
	grep -qx 'saas.example -> user@test.example: 3 first contacts (3 attempts) from 3 clients and 1 senders, none passed' "$T/stuck.out"
check "... with its clients and sender" \
	sh -c "grep -qx '  clients: 192.0.2.0/24, 198.51.100.0/24, 203.0.113.0/24' '$T/stuck.out' &&
	       grep -qx '  senders: reset@saas.example' '$T/stuck.out'"
check "... and the pool macros (no SPF or host name was passed)" grep -q 'GREYLIST_USE_SPF = yes' "$T/stuck.out"
check "it lists nothing else (not the fine, mixed or burst senders)" \
	test "$(grep -c ' -> ' "$T/stuck.out")" -eq 1
A stuck --json >"$T/stuck.json"
check "--json: one object, the entry is the sender address" \
	sh -c "test \$(wc -l <'$T/stuck.json') -eq 1 && grep -q '\"domain\":\"saas.example\",\"recipient\":\"user@test.example\",\"first_contacts\":3,' '$T/stuck.json' && grep -q '\"whitelist_entry\":\"reset@saas.example\"' '$T/stuck.json'"
check "metrics counts 1 stuck sender" test "$(stuck_metric)" = 1

line=$(sed -n 's/^  let it through: //p' "$T/stuck.out")
check "the whitelist line has an owner and an expiry: $line" \
	sh -c "echo \"\$1\" | grep -q '^greylist-admin -c $T/greylist.conf whitelist add reset@saas.example --owner [^ ]* --expires 30d --comment '" sh "$line"
cmd=$(printf '%s' "$line" | sed "s|^greylist-admin |'$GL_ADMIN' |")
eval "$cmd" >"$T/add.out" 2>&1; rc=$?
check "running it adds the entry (exit $rc)" grep -q '^added reset@saas.example (owner ' "$T/add.out"
expect_rcpt "250 " "the stuck sender's next retry, from a fourth network, goes through" 2001:db8::10 reset@saas.example
check "... as whitelisted" grep -q 'greylist: accept whitelist .*whitelist=database' "$T/bh.err"
A stuck >"$T/stuck2.out"
check "stuck no longer lists it" grep -q '^no stuck senders' "$T/stuck2.out"
check "metrics: 0 stuck senders" test "$(stuck_metric)" = 0

# Addresses are untrusted: a sender with shell characters never reaches
# the command line; the domain stands in for it.
now=$(date +%s)
for c in 192.0.2.0/24 198.51.100.0/24 203.0.113.0/24; do
	printf '{"type":"triplet","client":"%s","sender":"a'"'"'$(touch${IFS}%s/pwned)@evil.example","recipient":"bob@test.example","state":"pending","first_seen":%d,"last_seen":%d,"attempts":1,"passed_at":0}\n' \
		"$c" "$T" $((now - 600)) $((now - 600 + ${#c} * 20))
done | A import >/dev/null
A stuck >"$T/stuck3.out"
line=$(sed -n 's/^  let it through: //p' "$T/stuck3.out")
cmd=$(printf '%s' "$line" | sed "s|^greylist-admin |'$GL_ADMIN' |")
(cd "$T" && eval "$cmd") >"$T/add3.out" 2>&1
check "a hostile sender: the line whitelists its domain, and running it runs nothing else" \
	sh -c "grep -q '^added evil.example ' '$T/add3.out' && test ! -e '$T/pwned'"
