#!/bin/sh
# counters-syscalls.sh - what the decision counters cost Exim in system
# calls: strace -f -c of exim -bh sessions of known triplets (1 and 5
# RCPTs), with the counters file and with counters = none. As root, from
# the top of the tree after "make":
#   sh tests/bench/counters-syscalls.sh
# Prints the totals and the calls that differ (expect open, fstat, mmap
# and close once per connection: a difference of 4 whatever the number
# of RCPTs). Writes only in its own temporary directory.
GL_TOP=$(cd "$(dirname "$0")/../.." && pwd)
command -v strace >/dev/null || { echo "needs strace (apt-get install strace)" >&2; exit 1; }
. "$GL_TOP/tests/lib.sh"
write_exim_conf
write_gl_conf "auto_whitelist_clients = 0"
sess() {
	{ printf 'EHLO c.example\r\nMAIL FROM:<%s>\r\n' "$2"
	  i=0; while [ $i -lt "$4" ]; do printf 'RCPT TO:<u%s@test.example>\r\n' $i; i=$((i+1)); done
	  printf 'QUIT\r\n'; } |
		strace -f -c -o "$T/st.$3" "$EXIM" -C "$T/exim.conf" -bh "$1" >/dev/null 2>&1
	tail -1 "$T/st.$3" | awk '{print $(NF-2)}'
}
sess 192.0.2.1 k@x.example w0 5 >/dev/null; sleep 2.2; sess 192.0.2.1 k@x.example w1 5 >/dev/null
for n in 1 5; do
	write_gl_conf "auto_whitelist_clients = 0"
	a=$(sess 192.0.2.1 k@x.example on$n $n)
	write_gl_conf "auto_whitelist_clients = 0" "counters = none"
	b=$(sess 192.0.2.1 k@x.example off$n $n)
	echo "known triplets, RCPTs=$n: counters on $a, counters = none $b system calls (difference $((a - b)))"
done
for f in on5 off5; do awk "NR>2 && \$NF !~ /^-/ {print \$NF, \$(NF-1)}" $T/st.$f | sort > $T/c.$f; done; join -a1 -a2 $T/c.on5 $T/c.off5 | awk "\$2 != \$3"
