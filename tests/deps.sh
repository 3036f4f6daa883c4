#!/bin/sh
# deps.sh check|install PKG... - the Debian packages the project needs.
# check: exit 1 (naming them) when any is missing. install: apt-get them.
set -u
mode=$1; shift
missing=""
for p in "$@"; do
	dpkg-query -W -f='${Status}\n' "$p" 2>/dev/null | grep -q '^install ok installed$' ||
		missing="$missing $p"
done
[ -z "$missing" ] && exit 0
if [ "$mode" = check ]; then
	echo "missing Debian packages:$missing" >&2
	exit 1
fi
if [ "$(id -u)" != 0 ]; then
	echo "make deps: these Debian packages are missing:$missing" >&2
	echo "make deps: run 'make deps' as root, or: sudo apt-get install$missing" >&2
	exit 1
fi
echo "make deps: installing$missing"
export DEBIAN_FRONTEND=noninteractive
# A fresh machine may have no package lists yet.
if ! apt-get install -y -q --no-install-recommends $missing; then
	apt-get update -q && apt-get install -y -q --no-install-recommends $missing || exit 1
fi
