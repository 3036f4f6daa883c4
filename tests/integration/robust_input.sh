#!/bin/sh
# robust_input.sh - hostile SMTP input, bad dlfunc arguments and bad
# configuration or whitelist files: answered, logged literally, never a
# crash, through Exim.
. "$(dirname "$0")/../lib.sh"
plan 43
R=user@test.example
be() { exim_run -C "$T/exim.conf" -be "\${dlfunc{GREYLIST_SO}{greylist}{GREYLIST_CONF}{$1}{$2}{$3}}" 2>"$T/be.err"; }

write_exim_conf

# ---- 5. hostile input ----
write_gl_conf "on_error = defer"
rm -f "$DB"*
long=$(printf '%0240d' 0 | tr 0 a)
expect_rcpt "451 4.7.1 Greylisted" "a sender full of format directives: greylisted normally" 192.0.2.10 '%s%n%x%p@x.example'
check "... its log line is literal" grep -q 'greylist: defer 2 new client=192.0.2.0/24 ip=192.0.2.10 sender=<%s%n%x%p@x.example>' "$T/bh.err"
for from in '"quoted \"inner\" part"@x.example' \
	'back\\slash@x.example' '"john smith"@x.example' "$long@x.example"; do
	expect_rcpt "451 4.7.1 Greylisted" "hostile sender $(printf '%.40s' "$from"): greylisted normally" 192.0.2.10 "$from"
done
expect_rcpt "451 4.7.1 |5" "8-bit sender: answered" 192.0.2.10 "$(printf 'caf\351@x.example')"
MAIL_OPTS=' SMTPUTF8'
expect_rcpt "451 4.7.1 " "UTF-8 sender with SMTPUTF8: greylisted" 192.0.2.10 "$(printf 'j\303\266rg@x.example')"
MAIL_OPTS=
check "no crash, no sanitizer report" sanitizer_clean "$T/bh.err"

cat >>"$T/exim.conf" <<EOC
EOC
long1000=$(printf '%01000d' 0 | tr 0 b)
sed -i "1i LONGLP = $long1000" "$T/exim.conf"
y=$(exim_run -C "$T/exim.conf" -be '${dlfunc{GREYLIST_SO}{greylist}{GREYLIST_CONF}{192.0.2.11}{LONGLP@x.example}{r@test.example}}' 2>"$T/be.err")
check "a 1000-character local part through \${dlfunc}: '$y'" test "$y" = "defer 2 new"
y=$(be '' '' '')
check "empty arguments: the on_error answer ('$y')" test "$y" = "defer 2 error"
y=$(be 'not-an-ip' a@x.example r@test.example)
check "an IP that is not an address: '$y'" test "$y" = "defer 2 error"
check "... and the log says why" grep -q "greylist: 'not-an-ip' is not an IP address" "$T/be.err"
y=$(be '%n%n%n' '%s' '%x')
check "format directives in every argument: '$y'" test "$y" = "defer 2 error"
check "... logged literally" grep -q "'%n%n%n' is not an IP address" "$T/be.err"
sed -i '/^LONGLP = /d' "$T/exim.conf"

# ---- 7. configuration errors name file, line and key ----
n=0
for bad in 'frobnicate = 1|unknown key .frobnicate.' 'delay = soon|key .delay.: bad value .soon.' \
	'ipv4_prefix = 33|key .ipv4_prefix.: bad value .33.' 'ipv6_prefix = 129|key .ipv6_prefix.: bad value .129.' \
	'on_error = maybe|key .on_error.: bad value .maybe.' \
	'delay = 5 minutes|key .delay.: bad value .5 minutes.' \
	'delay 5m|.delay 5m.: not a .key = value. line'; do
	line=${bad%%|*}; want=${bad#*|}
	n=$((n + 1))
	printf 'log = all\n%s\n' "$line" >"$T/bad$n.conf"
	y=$(exim_run -C "$T/exim.conf" -be "\${dlfunc{GREYLIST_SO}{greylist}{$T/bad$n.conf}{192.0.2.1}{a@x.example}{r@test.example}}" 2>"$T/cfg.err")
	case $want in /*) where="" ;; *) where="$T/bad$n.conf:2: " ;; esac
	check "bad configuration '$line': accept error, logged as ${where}..." \
		sh -c "test '$y' = 'accept error' && grep -q \"greylist: $where$want\" '$T/cfg.err'"
	check "... and the line says to run greylist-admin check" \
		grep -q "greylist: $where$want.*run 'greylist-admin -c $T/bad$n.conf check'" "$T/cfg.err"
	"$GL_ADMIN" -c "$T/bad$n.conf" list >/dev/null 2>"$T/cfg2.err"
	check "... greylist-admin says the same on stderr" grep -q "^greylist-admin: $where$want" "$T/cfg2.err"
done

# A bad whitelist line or a missing whitelist file costs those entries
# only: the good lines stay in force and everything else is greylisted.
printf '192.0.2.0/24\nnot an entry!\nrcpt:vip@test.example\n' >"$T/badwl"
printf 'log = all\ndelay = 2s\ndatabase = %s\nwhitelist = %s\nwhitelist = %s\n' \
	"$T/db/wl.gdbm" "$T/badwl" "$T/nope" >"$T/wl.conf"
dl() { printf '${dlfunc{GREYLIST_SO}{greylist}{%s}{%s}{%s}{%s}}' "$T/wl.conf" "$1" "$2" "$3"; }
# Three decisions in one Exim process (-be reads the line from stdin,
# which has no 256-character limit; it prompts with "> ").
y=$(echo "$(dl 192.0.2.9 a@x.example r@test.example) $(dl 198.51.100.1 a@x.example vip@test.example) $(dl 198.51.100.1 a@x.example r@test.example)" |
	exim_run -C "$T/exim.conf" -be 2>"$T/wl.err" | sed -n 's/^> //p' | head -1)
check "bad whitelist line: the entries before and after it hold, others are greylisted ('$y')" \
	test "$y" = "accept whitelist accept whitelist defer 2 new"
check "... the bad line is logged once per process, naming file and line" \
	test "$(grep -c "greylist: $T/badwl:2: .*line skipped (greylisting goes on; run 'greylist-admin -c $T/wl.conf check')" "$T/wl.err")" -eq 1
check "... and the missing file too" \
	test "$(grep -c "greylist: $T/nope: cannot open whitelist" "$T/wl.err")" -eq 1
"$GL_ADMIN" -c "$T/wl.conf" list >/dev/null 2>"$T/wl2.err"; rc=$?
check "greylist-admin works and warns about both (exit $rc)" \
	sh -c "test $rc -eq 0 && grep -q '^greylist-admin: warning: $T/badwl:2: ' '$T/wl2.err' && grep -q '^greylist-admin: warning: $T/nope: ' '$T/wl2.err'"
"$GL_ADMIN" -c "$T/wl.conf" check --no-exim >"$T/chk.out" 2>&1; rc=$?
check "greylist-admin check: exit 1 naming both (exit $rc)" \
	sh -c "test $rc -eq 1 && grep -q '^problem: $T/badwl:2: ' '$T/chk.out' && grep -q '^problem: $T/nope: ' '$T/chk.out'"

y=$(exim_run -C "$T/exim.conf" -be "\${dlfunc{GREYLIST_SO}{greylist}{$T/none.conf}{192.0.2.1}{a@x.example}{r@test.example}}" 2>"$T/cfg.err")
check "a missing configuration file: the on_error answer ('$y')" test "$y" = "accept error"
check "... logged with its name" grep -q "greylist: $T/none.conf: cannot open configuration" "$T/cfg.err"
