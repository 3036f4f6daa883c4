#!/bin/sh
# exim_bh.sh - the snippet and the module through the real Exim, in
# host-checking (-bh) and expansion (-be) modes, with delay = 2s.
. "$(dirname "$0")/../lib.sh"
plan 43

write_gl_conf
write_exim_conf
R=user@test.example

bv() { exim_run -C "$T/exim.conf" -bV >"$T/bv.out" 2>&1; }
check "exim -bV accepts a configuration with the snippet" bv

# The ACL is wired: first contact is deferred with 451 4.7.1.
r=$(smtp_bh 192.0.2.7 alice@sender.example $R)
case $r in
"451 4.7.1 Greylisted: please try again in "[12]" seconds") ok "first contact: $r" ;;
*) nok "first contact: got '$r'" ;;
esac
r=$(smtp_bh 192.0.2.7 alice@sender.example $R)
case $r in "451 4.7.1 "*) ok "early retry deferred" ;; *) nok "early retry: '$r'" ;; esac
check "the main log line names the decision" grep -q 'greylist: defer [12] new client=192.0.2.0/24' "$T/bh.err"
check "one log line per deferral: Exim's own reject line is off" \
	sh -c "! grep -q 'temporarily rejected RCPT' '$T/bh.err'"
# GREYLIST_EXIM_LOG turns Exim's own line back on.
cp "$T/exim.conf" "$T/exim.conf.plain"
{ echo "GREYLIST_EXIM_LOG = main"; cat "$T/exim.conf.plain"; } >"$T/exim.conf"
: >"$T/bh.err"
r=$(smtp_bh 192.0.2.7 alice@sender.example $R)
check "GREYLIST_EXIM_LOG = main: Exim logs its reject line too" \
	grep -q 'temporarily rejected RCPT <user@test.example>: greylisted: defer [12] early' "$T/bh.err"
cp "$T/exim.conf.plain" "$T/exim.conf"

# More first contacts, all before the one sleep.
r=$(smtp_bh 192.0.2.8 '' $R)
case $r in "451 4.7.1 "*) ok "null sender deferred" ;; *) nok "null sender: '$r'" ;; esac
r=$(smtp_bh 2001:db8:1:2::5 v6@sender.example $R)
case $r in "451 4.7.1 "*) ok "IPv6 first contact deferred" ;; *) nok "IPv6: '$r'" ;; esac
r=$(smtp_bh 10.9.9.9 relay@sender.example $R)
case $r in 250*) ok "relay_from_hosts client skipped" ;; *) nok "relayed: '$r'" ;; esac
auth=$(printf '\0joe\0secret' | base64)
r=$(smtp_bh 198.51.100.1 auth@sender.example $R "$auth")
case $r in 250*) ok "authenticated client skipped" ;; *) nok "authenticated: '$r'" ;; esac
y=$(exim_run -C "$T/exim.conf" -be '${dlfunc{GREYLIST_SO}{greylist}{GREYLIST_CONF}{203.0.113.9}{be@sender.example}{be@test.example}}' 2>>"$T/be.err")
case $y in
"defer "[12]" new") ok "-be yield for a new triplet: $y" ;;
*) nok "-be yield for a new triplet: '$y'" ;;
esac

sleep 3

r=$(smtp_bh 192.0.2.7 alice@sender.example $R)
case $r in 250*) ok "retry after the delay accepted" ;; *) nok "retry after delay: '$r'" ;; esac
r=$(smtp_bh 192.0.2.200 alice@sender.example $R)
case $r in 250*) ok "/24 neighbour shares the pass" ;; *) nok "/24 neighbour: '$r'" ;; esac
r=$(smtp_bh 192.0.3.7 alice@sender.example $R)
case $r in "451 4.7.1 "*) ok "address outside the /24 is deferred" ;; *) nok "outside /24: '$r'" ;; esac
r=$(smtp_bh 192.0.2.9 '' $R)
case $r in 250*) ok "null sender passes after the delay" ;; *) nok "null sender retry: '$r'" ;; esac
r=$(smtp_bh 2001:db8:1:2::ffff v6@sender.example $R)
case $r in 250*) ok "/64 neighbour passes" ;; *) nok "/64 neighbour: '$r'" ;; esac
r=$(smtp_bh 2001:db8:1:3::5 v6@sender.example $R)
case $r in "451 4.7.1 "*) ok "other /64 deferred" ;; *) nok "other /64: '$r'" ;; esac
y=$(exim_run -C "$T/exim.conf" -be '${dlfunc{GREYLIST_SO}{greylist}{GREYLIST_CONF}{203.0.113.9}{be@sender.example}{be@test.example}}' 2>>"$T/be.err")
check "-be yield after the delay: '$y'" test "${y% [0-9]*}" = "accept pass"

n=$("$GL_ADMIN" -c "$T/greylist.conf" list --json | grep -c '"state":"passed"')
check "greylist-admin sees 4 passed triplets (got $n)" test "$n" -eq 4
check "no panic log" test ! -s "$T/log/paniclog"
check "no sanitizer report from Exim" sanitizer_clean "$T/bh.err"

# Unknown optional arguments: reported in the panic log, never a failure.
y=$(exim_run -C "$T/exim.conf" -be '${dlfunc{GREYLIST_SO}{greylist}{GREYLIST_CONF}{203.0.113.9}{be@sender.example}{be@test.example}{colour=blue}{helo=x.example}}' 2>"$T/arg.err")
check "an unknown argument still yields a decision ('$y')" test "$y" = "accept known"
check "the unknown argument is named once in the log" \
	test "$(grep -c "greylist: unknown argument 'colour=blue' ignored" "$T/arg.err")" -eq 1
# Too few arguments, a bad configuration: the on_error answer, logged.
y=$(exim_run -C "$T/exim.conf" -be '${dlfunc{GREYLIST_SO}{greylist}{GREYLIST_CONF}{203.0.113.9}}' 2>"$T/few.err")
check "too few arguments: on_error answer ('$y')" test "$y" = "accept error"
check "too few arguments: logged" grep -q 'greylist: called with 2 arguments' "$T/few.err"
printf 'delay = 2s\nipv6_prefix = 129\non_error = defer\n' >"$T/bad.conf"
y=$(exim_run -C "$T/exim.conf" -be "\${dlfunc{GREYLIST_SO}{greylist}{$T/bad.conf}{203.0.113.9}{a@b.example}{c@test.example}}" 2>"$T/bad.err")
check "bad configuration: the default on_error answer ('$y')" test "$y" = "accept error"
check "bad configuration: file, line and key in the log" \
	grep -q "greylist: $T/bad.conf:2: key 'ipv6_prefix': bad value '129'" "$T/bad.err"
printf 'database = %s/db/greylist.gdbm\non_error = defer\n' "$T" >"$T/defer.conf"
y=$(exim_run -C "$T/exim.conf" -be "\${dlfunc{GREYLIST_SO}{greylist}{$T/defer.conf}{999.0.113.9}{a@b.example}{c@test.example}}" 2>"$T/ip.err")
check "an IP that is not an address: on_error = defer answer ('$y')" test "$y" = "defer 300 error"
check "... and the log says why" grep -q "greylist: '999.0.113.9' is not an IP address" "$T/ip.err"

# Pools through ${dlfunc}: with spf=pass the sender's domain is the client,
# so a retry from an unrelated address passes; a verified host name keys
# on its parent domain; a two-label name or no spf= keys on the subnet.
pool() { exim_run -C "$T/exim.conf" -be "\${dlfunc{GREYLIST_SO}{greylist}{GREYLIST_CONF}{$1}{$2}{pool@test.example}{$3}}" 2>>"$T/pool.err"; }
y1=$(pool 198.51.100.1 bounce-123@vendor.example spf=pass)
y2=$(pool 203.0.113.200 bounce-456@vendor.example spf=pass)
check "spf=pass: first attempt deferred ('$y1'), retry from another network early ('$y2')" \
	sh -c "test '$y1' = 'defer 2 new' && case '$y2' in 'defer '[12]' early') true;; *) false;; esac"
check "the log shows the pool key" grep -q 'client=spf:vendor.example ip=203.0.113.200 sender=<bounce-#@vendor.example>' "$T/pool.err"
y1=$(pool 198.51.100.2 x@outlook.example host=mail-eopbgr60135.outbound.protection.outlook.com)
check "host=: keyed on the name less its first label ('$y1')" \
	grep -q 'client=host:outbound.protection.outlook.com' "$T/pool.err"
sleep 2
y3=$(pool 192.0.2.99 bounce-789@vendor.example spf=pass)
check "after the delay a third address of the pool passes ('$y3')" test "${y3% [0-9]*}" = "accept pass"
y4=$(pool 198.51.100.3 x@outlook.example host=mail-db8eur05on2100.outbound.protection.outlook.com)
check "another host of the same pool passes ('$y4')" test "${y4% [0-9]*}" = "accept pass"

# make install puts every file in place under DESTDIR and PREFIX.
inst() { make -C "$TOP" -s install DESTDIR="$T/root" PREFIX=/usr SO="$GL_SO" ADMIN="$GL_ADMIN" >"$T/inst.out" 2>&1; }
check "make install DESTDIR=... PREFIX=/usr" inst
for f in usr/lib/exim4/greylist.so usr/sbin/greylist-admin \
	usr/share/exim-greylist/rcpt-acl.conf usr/share/exim-greylist/greylist.conf \
	usr/share/man/man8/greylist-admin.8 usr/share/man/man5/greylist.conf.5 \
	etc/cron.d/exim-greylist; do
	check "installed $f" test -s "$T/root/$f"
done
check "the cron file runs the installed admin" grep -q ' Debian-exim .*/usr/sbin/greylist-admin purge' "$T/root/etc/cron.d/exim-greylist"
