# port.sh - the one free-port picker of the tests (sourced).
# free_port: prints a port below the ephemeral range (20000-29999) that
# nothing on this machine uses; a port recently the local end of an
# outgoing connection could not be bound (TIME-WAIT). At most 50 tries.
free_port() {
	i=0
	while [ $i -lt 50 ]; do
		p=$(( 20000 + ( $(od -An -N2 -tu2 /dev/urandom) % 10000 ) ))
		if ! ss -Htan 2>/dev/null | awk '{print $4; print $5}' | grep -q ":$p\$"; then
			echo "$p"
			return 0
		fi
		i=$((i + 1))
	done
	return 1
}
