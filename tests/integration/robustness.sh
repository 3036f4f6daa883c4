#!/bin/sh
# robustness.sh - the module never breaks or slows an SMTP session:
# corrupt, locked, missing, unwritable and full databases, killed
# writers, hostile input, and configuration errors, through the real Exim.
. "$(dirname "$0")/../lib.sh"
H=${GL_HELPERS:-$TOP/build/tests}
R=user@test.example
DB=$T/db/greylist.gdbm
A() { "$GL_ADMIN" -c "$T/greylist.conf" "$@"; }
be() { exim_run -C "$T/exim.conf" -be "\${dlfunc{GREYLIST_SO}{greylist}{GREYLIST_CONF}{$1}{$2}{$3}}" 2>"$T/be.err"; }
# rcpt IP FROM: the reply to RCPT through exim -bh, its log kept in $T/bh.err.
rcpt() { : >"$T/bh.err"; smtp_bh "$1" "$2" $R; }

write_exim_conf

# ---- 1. corrupt databases ----
for mode in accept defer; do
	write_gl_conf "on_error = $mode"
	head -c 8192 /dev/urandom >"$DB"
	r=$(rcpt 192.0.2.1 a@x.example)
	want=250; [ $mode = defer ] && want=451
	case $r in "$want "*) ok "random-bytes database, on_error=$mode: $want" ;; *) nok "random bytes, on_error=$mode: '$r'" ;; esac
	check "... one log line names the file and the problem" \
		test "$(grep -c "greylist: $DB: cannot open database" "$T/bh.err")" -eq 1
done
write_gl_conf "on_error = accept"
A list >/dev/null 2>"$T/adm.err"; rc=$?
check "greylist-admin on a random-bytes file: exit 1 with one line" \
	sh -c "test $rc -eq 1 && test \$(wc -l <'$T/adm.err') -eq 1 && grep -q '$DB' '$T/adm.err'"
A recover >"$T/rec.out" 2>&1
check "recover brings a random-bytes file back (old one kept aside)" \
	sh -c "grep -q 'header was unreadable' '$T/rec.out' && ls '$DB'.broken-* >/dev/null"
r=$(rcpt 192.0.2.1 a@x.example)
case $r in "451 4.7.1 "*) ok "after recover, greylisting works again" ;; *) nok "after recover: '$r'" ;; esac

rm -f "$DB"*
"$H/gl-hammer" "$T/greylist.conf" 7 3000 >/dev/null 2>&1
sz=$(stat -c %s "$DB")
truncate -s $((sz / 3)) "$DB"
r=$(rcpt 192.0.2.1 b@x.example)
case $r in 250*|"451 4.7.1 "*) ok "truncated database: answered ($r)" ;; *) nok "truncated database: '$r'" ;; esac
check "... no crash, daemonless Exim still answered and logged nothing odd" \
	sh -c "! grep -q -E 'SIGSEGV|signal|Segmentation' '$T/bh.err'"
A recover >"$T/rec2.out" 2>&1
check "recover on a truncated file says what it kept ($(head -c 80 "$T/rec2.out"))" \
	grep -q '^recovered ' "$T/rec2.out"
check "after recover the admin reads it" sh -c "'$GL_ADMIN' -c '$T/greylist.conf' list >/dev/null"

rm -f "$DB"*
"$H/gl-poke" "$DB" 192.0.2.0/24 c@x.example $R "not a record"
for mode in accept defer; do
	write_gl_conf "on_error = $mode"
	r=$(rcpt 192.0.2.9 c@x.example)
	want=250; [ $mode = defer ] && want=451
	case $r in "$want "*) ok "a record the decoder refuses, on_error=$mode: $want" ;; *) nok "bad record, $mode: '$r'" ;; esac
	check "... the log says which file and what" grep -q "greylist: $DB: record of 12 bytes, want 32 (client 192.0.2.0/24)" "$T/bh.err"
done
r=$(rcpt 192.0.2.9 other@x.example)
case $r in "451 4.7.1 "*) ok "other triplets are unaffected" ;; *) nok "other triplets: '$r'" ;; esac
A list >/dev/null 2>"$T/adm2.err"; rc=$?
check "greylist-admin list: exit 1, one line pointing at recover" \
	sh -c "test $rc -eq 1 && grep -q 'could not be read (see .recover.)' '$T/adm2.err'"
A recover >"$T/rec3.out"
check "recover drops the bad record: $(cat "$T/rec3.out")" grep -q 'kept 1 records, lost 1' "$T/rec3.out"

# ---- 2. a held lock: answered within the bound, per on_error ----
write_gl_conf "on_error = accept" "lock_timeout = 200ms"
"$H/gl-holdlock" "$DB" 8 >"$T/lock.out" &
LPID=$!
PIDS="$PIDS $LPID"
i=0; while ! grep -q locked "$T/lock.out" 2>/dev/null && [ $i -lt 50 ]; do sleep 0.1; i=$((i+1)); done
t0=$(date +%s%N)
r=$(rcpt 192.0.2.77 busy@x.example)
t1=$(date +%s%N)
ms=$(( (t1 - t0) / 1000000 ))
case $r in 250*) ok "lock held elsewhere, on_error=accept: 250" ;; *) nok "held lock: '$r'" ;; esac
check "... the log says the database was busy" grep -q 'database busy: lock not granted within 200 ms' "$T/bh.err"
check "... the whole Exim session took ${ms} ms (bound: 2 x lock_timeout + Exim start, < 2000)" test "$ms" -lt 2000
write_gl_conf "on_error = defer" "lock_timeout = 200ms"
r=$(rcpt 192.0.2.77 busy@x.example)
case $r in "451 "*) ok "lock held elsewhere, on_error=defer: 451" ;; *) nok "held lock defer: '$r'" ;; esac
kill "$LPID" 2>/dev/null; wait "$LPID" 2>/dev/null

# ---- 3. unusable storage ----
write_gl_conf "on_error = accept"
sed -i "s|^database = .*|database = $T/missing/dir/g.gdbm|" "$T/greylist.conf"
r=$(rcpt 192.0.2.5 d@x.example)
case $r in 250*) ok "database directory missing: on_error answer" ;; *) nok "missing dir: '$r'" ;; esac
check "... logged with the file and the reason" grep -q "greylist: $T/missing/dir/g.gdbm: cannot open database: .*No such file or directory" "$T/bh.err"

# As Debian-exim (as in production): a directory it cannot write.
AS_EXIM_USER=1 write_exim_conf
mkdir -p "$T/rodb"; chmod 0755 "$T/rodb"
write_gl_conf "on_error = defer"
sed -i "s|^database = .*|database = $T/rodb/g.gdbm|" "$T/greylist.conf"
r=$(rcpt 192.0.2.5 e@x.example)
case $r in "451 "*) ok "directory not writable by the Exim user, on_error=defer: 451" ;; *) nok "unwritable dir: '$r'" ;; esac
check "... logged: permission denied" grep -q "greylist: $T/rodb/g.gdbm: cannot open database: .*Permission denied" "$T/bh.err"
"$H/gl-hammer" "$T/greylist.conf" 3 200 >/dev/null 2>&1   # as root: a file Debian-exim cannot read
chmod 0600 "$T/rodb/g.gdbm"
write_gl_conf "on_error = accept"
sed -i "s|^database = .*|database = $T/rodb/g.gdbm|" "$T/greylist.conf"
r=$(rcpt 192.0.2.5 e@x.example)
case $r in 250*) ok "database file unreadable by the Exim user: on_error answer" ;; *) nok "unreadable file: '$r'" ;; esac
check "... logged: permission denied" grep -q "Permission denied" "$T/bh.err"
write_exim_conf

# A full disk: a 256 KiB tmpfs filled up after some records.
mkdir -p "$T/small"
if mount -t tmpfs -o size=256k tmpfs "$T/small" 2>/dev/null; then
	write_gl_conf "on_error = accept"
	sed -i "s|^database = .*|database = $T/small/g.gdbm|" "$T/greylist.conf"
	r=$(rcpt 192.0.2.6 keep@x.example)
	dd if=/dev/zero of="$T/small/fill" bs=4k 2>/dev/null
	i=0; r=250
	while [ $i -lt 400 ]; do
		# letters, not digits: sender_normalize folds digit runs
		r=$(rcpt 192.0.2.6 "full$(echo $i | tr 0-9 a-j)@x.example")
		case $r in 250*) break ;; esac
		i=$((i + 1))
	done
	case $r in 250*) ok "disk full: the RCPT gets the on_error answer after $i writes" ;; *) nok "disk full: '$r'" ;; esac
	check "... the log says why" grep -q -E "greylist: $T/small/g.gdbm: .*(No space left|cannot write|cannot close|cannot open)" "$T/bh.err"
	check "... what was written before is still there" sh -c "'$GL_ADMIN' -c '$T/greylist.conf' list | grep -q 'keep@x.example'"
	rm -f "$T/small/fill"
	umount "$T/small"
else
	ok "disk full # SKIP cannot mount a tmpfs here"
fi

# A full disk with backend = lmdb, which writes through a shared map: a
# page the filesystem cannot back must be an error, never a SIGBUS.
if mount -t tmpfs -o size=2m tmpfs "$T/small" 2>/dev/null; then
	write_gl_conf "on_error = accept" "backend = lmdb"
	sed -i "s|^database = .*|database = $T/small/g.lmdb|" "$T/greylist.conf"
	r=$(rcpt 192.0.2.6 keep@x.example)
	dd if=/dev/zero of="$T/small/fill" bs=4k 2>/dev/null
	"$H/gl-hammer" "$T/greylist.conf" 3 20000 "$(date +%s)" v 2>"$T/hammer.err"
	rc=$?
	check "lmdb, disk full: 20000 decisions end normally, no signal (exit $rc)" test $rc -eq 0
	check "... their writes fail saying why" \
		grep -q "g.lmdb: cannot write (allocating space): No space left" "$T/hammer.err"
	r=$(rcpt 192.0.2.6 fullnew@x.example)
	case $r in 250*) ok "lmdb, disk full: the RCPT gets the on_error answer" ;; *) nok "lmdb disk full: '$r'" ;; esac
	check "... the log says why" grep -q "greylist: $T/small/g.lmdb: cannot write (allocating space): No space left" "$T/bh.err"
	check "... what was written before is still there" sh -c "'$GL_ADMIN' -c '$T/greylist.conf' list | grep -q 'keep@x.example'"
	# the writer lock file is made anew on the full disk: an error too
	rm -f "$T/small/g.lmdb.wlock"
	dd if=/dev/zero of="$T/small/fill2" bs=4k 2>/dev/null
	r=$(rcpt 192.0.2.6 nolock@x.example)
	case $r in 250*) ok "lmdb, disk full, no writer lock file: the on_error answer" ;; *) nok "lmdb disk full, no lock file: '$r'" ;; esac
	check "... the log says why" grep -q "g.lmdb.wlock: cannot size lock file: No space left" "$T/bh.err"
	rm -f "$T/small/fill" "$T/small/fill2"
	r=$(rcpt 192.0.2.6 after@x.example)
	case $r in "451 4.7.1 "*) ok "lmdb: space again, greylisting again" ;; *) nok "lmdb after the disk full: '$r'" ;; esac
	umount "$T/small"
else
	ok "lmdb disk full # SKIP cannot mount a tmpfs here"
fi

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
	A stats >/dev/null 2>"$T/kill.err" || { broken=$((broken + 1)); cat "$T/kill.err"; }
	round=$((round + 1))
done
check "15 rounds of 6 writers killed at random points: the database stays readable" test $broken -eq 0
A list --json --state passed | sort >"$T/passed.after"
missing=$(awk -F'"' '{print $4, $8, $12}' "$T/passed.before" | while read -r c s r; do
	grep -qF "\"client\":\"$c\",\"sender\":\"$s\",\"recipient\":\"$r\",\"state\":\"passed\"" "$T/passed.after" || echo x
done | wc -l)
check "all $nb triplets passed before the kills are still passed ($missing missing)" test "$missing" -eq 0
r=$(rcpt 192.0.2.200 after-kill@x.example)
case $r in "451 4.7.1 "*) ok "the next RCPT after the kills is answered normally" ;; *) nok "after kills: '$r'" ;; esac

# ---- 5. hostile input ----
write_gl_conf "on_error = defer"
rm -f "$DB"*
long=$(printf '%0240d' 0 | tr 0 a)
r=$(rcpt 192.0.2.10 '%s%n%x%p@x.example')
case $r in "451 4.7.1 Greylisted"*) ok "a sender full of format directives: greylisted normally" ;; *) nok "%n sender: '$r'" ;; esac
check "... its log line is literal" grep -q 'greylist: defer 2 new client=192.0.2.0/24 ip=192.0.2.10 sender=<%s%n%x%p@x.example>' "$T/bh.err"
for from in '"quoted \"inner\" part"@x.example' \
	'back\\slash@x.example' '"john smith"@x.example' "$long@x.example"; do
	r=$(rcpt 192.0.2.10 "$from")
	case $r in "451 4.7.1 Greylisted"*) ok "hostile sender $(printf '%.40s' "$from"): greylisted normally" ;;
	*) nok "hostile sender $(printf '%.40s' "$from"): '$r'" ;; esac
done
r=$(rcpt 192.0.2.10 "$(printf 'caf\351@x.example')")
case $r in "451 4.7.1 "*|5*) ok "8-bit sender: answered ($(echo "$r" | cut -c1-3))" ;; *) nok "8-bit sender: '$r'" ;; esac
r=$(MAIL_OPTS=' SMTPUTF8' rcpt 192.0.2.10 "$(printf 'j\303\266rg@x.example')")
case $r in "451 4.7.1 "*) ok "UTF-8 sender with SMTPUTF8: greylisted" ;; *) nok "SMTPUTF8: '$r'" ;; esac
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
