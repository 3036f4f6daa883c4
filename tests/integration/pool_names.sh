#!/bin/sh
# pool_names.sh - which verified host names key on a pool, through the
# real Exim: exim -bh with the snippet's GREYLIST_USE_HOST_NAME and the
# name given with -oMs (what Exim sets after forward-confirming it; the
# DNS side is tests of their own). Names that are a registered domain
# themselves or generic key on the subnet, so a retry from another /24
# is deferred again and their pool is never auto-whitelisted; hosts of
# a real pool in different /24s share host:POOL. delay = 2s.
. "$(dirname "$0")/../lib.sh"
plan 27

write_gl_conf "auto_whitelist_clients = 2"
write_exim_conf
{ echo "GREYLIST_USE_HOST_NAME = yes"; cat "$T/exim.conf"; } >"$T/e" &&
	mv "$T/e" "$T/exim.conf"

# hb IP NAME FROM: the reply to RCPT TO:<user@test.example> from a client
# whose verified name is NAME; Exim's log lines in $T/bh.err.
hb() {
	: >"$T/bh.err"
	printf 'EHLO c.example\r\nMAIL FROM:<%s>\r\nRCPT TO:<user@test.example>\r\nQUIT\r\n' "$3" |
		exim_run -C "$T/exim.conf" -bh "$1" -oMs "$2" 2>>"$T/bh.err" |
		tr -d '\r' | grep -E '^[0-9]{3} ' | sed -n 4p
}
# want PREFIX DESC IP NAME FROM [CLIENT]: one check of the reply, and
# of the client part the module logged.
want() {
	w=$1 d=$2; shift 2
	r=$(hb "$1" "$2" "$3")
	case $r in
	"$w"*) if [ -z "${4:-}" ] || grep -q "client=$4 ip=$1 " "$T/bh.err"; then
			ok "$d: $r"
		else
			nok "$d: '$r', logged $(grep -o 'client=[^ ]*' "$T/bh.err")"
		fi ;;
	*) nok "$d: got '$r'"; sed 's/^/# /' "$T/bh.err" | grep -i greylist ;;
	esac
}

D='451 4.7.1 Greylisted'
# First contacts, all before the one sleep.
want "$D" "registered domain examplecorp.co.uk: its subnet" 192.0.2.10 examplecorp.co.uk a@corp.example 192.0.2.0/24
want "$D" "x.github.io (a private public suffix): its subnet" 192.0.2.11 x.github.io b@gh.example 192.0.2.0/24
want "$D" "shop.com.au: its subnet" 192.0.2.12 shop.com.au c@shop.example 192.0.2.0/24
want "$D" "generic 198-51-100-23.dyn.isp.example: its subnet" 198.51.100.23 198-51-100-23.dyn.isp.example d@dyn.example 198.51.100.0/24
want "$D" "generic c-203-0-113-9.hsd1.ca.isp.example: its subnet" 203.0.113.9 c-203-0-113-9.hsd1.ca.isp.example e@hsd.example 203.0.113.0/24
want "$D" "mail-a1.out.bigmail.example: the pool" 192.0.2.7 mail-a1.out.bigmail.example f@bigmail.example host:out.bigmail.example
want "$D" "mail-b7.out.bigmail.example, another sender: the same pool" 198.51.100.8 mail-b7.out.bigmail.example g@bigmail.example host:out.bigmail.example
want "$D" "dynamic host in 198.51.101.0/24" 198.51.101.5 198-51-101-5.dyn.isp.example p@dyn.example 198.51.101.0/24
want "$D" "dynamic host in 198.51.102.0/24" 198.51.102.5 198-51-102-5.dyn.isp.example q@dyn.example 198.51.102.0/24

# explain says why a name was not used, and which pool a real one is.
A explain 198.51.100.23 d@dyn.example user@test.example host=198-51-100-23.dyn.isp.example >"$T/ex1" 2>&1
check "explain: the dynamic name carries the address" grep -q "^host: *not used as a pool: 198-51-100-23.dyn.isp.example carries the client's address (its octets): a generic name" "$T/ex1"
A explain 192.0.2.10 a@corp.example user@test.example host=examplecorp.co.uk >"$T/ex2" 2>&1
check "explain: examplecorp.co.uk is a registered domain" grep -q "^host: *not used as a pool: examplecorp.co.uk is a registered domain itself" "$T/ex2"
A explain 198.51.100.9 x@dyn.example user@test.example host=x9.pool.isp.example >"$T/ex3" 2>&1
check "explain: 'pool' marks a dynamic pool" grep -q "^host: *not used as a pool: x9.pool.isp.example has 'pool', which marks" "$T/ex3"
A explain 192.0.2.7 f@bigmail.example user@test.example host=mail-a1.out.bigmail.example >"$T/ex4" 2>&1
check "explain: a real pool is used and no 'host:' reason printed" \
	sh -c "grep -q '^client: *host:out.bigmail.example (pool' '$T/ex4' && ! grep -q '^host:' '$T/ex4'"

A check --no-exim >"$T/chk" 2>&1
check "greylist-admin check: the public suffix list loads" grep -q '^info: public suffix list: loaded' "$T/chk"

sleep 3

# Retries from another /24, with a name of the same shape.
want "$D" "examplecorp.co.uk from another /24: deferred again" 198.51.100.10 examplecorp.co.uk a@corp.example 198.51.100.0/24
want "$D" "x.github.io from another /24: deferred again" 198.51.100.11 x.github.io b@gh.example 198.51.100.0/24
want "$D" "shop.com.au from another /24: deferred again" 198.51.100.12 shop.com.au c@shop.example 198.51.100.0/24
want "$D" "a dyn.isp.example sibling in another /24: deferred again" 203.0.113.23 203-0-113-23.dyn.isp.example d@dyn.example 203.0.113.0/24
want "$D" "a hsd1.ca.isp.example sibling in another /24: deferred again" 192.0.2.9 c-192-0-2-9.hsd1.ca.isp.example e@hsd.example 192.0.2.0/24
want "250" "mail-a1's sender retried by mail-b7 in another /24: passes" 198.51.100.8 mail-b7.out.bigmail.example f@bigmail.example host:out.bigmail.example
want "250" "mail-b7's sender retried by mail-a1: passes" 192.0.2.7 mail-a1.out.bigmail.example g@bigmail.example host:out.bigmail.example
# Two passes from the dynamic pool, each in its own /24.
want "250" "dynamic host in 198.51.101.0/24 retries: passes" 198.51.101.5 198-51-101-5.dyn.isp.example p@dyn.example 198.51.101.0/24
want "250" "dynamic host in 198.51.102.0/24 retries: passes" 198.51.102.5 198-51-102-5.dyn.isp.example q@dyn.example 198.51.102.0/24

# auto_whitelist_clients = 2: the real pool has passed two triplets and
# a third host of it is let through; the dynamic pool never is one client.
want "250" "a third bigmail host, new sender: auto-whitelisted pool" 203.0.113.77 mail-c3.out.bigmail.example h@bigmail.example host:out.bigmail.example
check "... logged as accept auto" grep -q "greylist: accept auto client=host:out.bigmail.example" "$T/bh.err"
want "$D" "a third dynamic host, new sender: greylisted (no pool to whitelist)" 198.51.103.5 198-51-103-5.dyn.isp.example r@dyn.example 198.51.103.0/24
A clients >"$T/clients" 2>&1
check "greylist-admin clients: no client named after the dynamic pool" \
	sh -c "grep -q 'host:out.bigmail.example' '$T/clients' && ! grep -q 'isp.example' '$T/clients'"
