#!/bin/sh
# install.sh install|uninstall - "make install" and "make uninstall".
#
# Environment (set by the Makefile): DESTDIR, PREFIX, SO, ADMIN,
# SYSTEMDUNITDIR, MANIFEST (yes|no).
#
# Program files (module, commands, man pages, snippets, systemd units) are
# replaced atomically (written beside the target, then renamed), so a
# running Exim never sees half a file. Configuration files
# (/etc/exim4/greylist.conf, /etc/exim4/greylist-whitelist,
# /etc/cron.d/exim-greylist) are handled as dpkg handles conffiles: installed
# when absent, updated when unchanged since the last "make install", and
# otherwise left alone with the new version beside them as FILE.dist.
#
# Everything installed, and every directory created, is recorded with its
# SHA-256 in $PREFIX/share/exim-greylist/installed-files; "uninstall"
# removes exactly those, except configuration files edited since (it says
# so and keeps them). Before it removes anything, "uninstall" switches
# greylisting off in Exim when Debian's configuration still points at
# this installation (greylist-setup-exim4 disable), because a
# configuration naming removed files would defer mail.
set -eu
mode=${1:-}
: "${PREFIX:=/usr/local}" "${DESTDIR:=}" "${SO:=module/greylist.so}"
: "${ADMIN:=tools/greylist-admin}" "${MANIFEST:=yes}"
: "${SYSTEMDUNITDIR:=$PREFIX/lib/systemd/system}"

D=$DESTDIR
share=$PREFIX/share/exim-greylist
manifest=$share/installed-files
tmp=$(mktemp -d "${TMPDIR:-/tmp}/gl-install-XXXXXX")
trap 'rm -rf "$tmp"' EXIT INT TERM
say() { echo "make $mode: $*"; }
sha() { sha256sum "$1" | cut -d' ' -f1; }

# record TYPE PATH [SHA]: one line of the new manifest.
record() {
	[ "$MANIFEST" = yes ] || return 0
	echo "$1 ${3:--} $2" >>"$tmp/manifest"
}

# mkdirs DIR...: creates missing directories, recording each one made.
mkdirs() {
	for d in "$@"; do
		missing=""
		p=$d
		while [ -n "$p" ] && [ "$p" != / ] && [ ! -d "$D$p" ]; do
			missing="$p $missing"
			p=$(dirname "$p")
		done
		for m in $missing; do
			mkdir -m 0755 "$D$m"
			record dir "$m"
		done
	done
}

# put MODE SRC DEST: a program file, replaced atomically.
put() {
	mkdirs "$(dirname "$3")"
	install -m "$1" "$2" "$D$3.gl-new"
	mv -f "$D$3.gl-new" "$D$3"
	record file "$3" "$(sha "$D$3")"
}

# old_sha PATH: the SHA-256 the previous install recorded for PATH.
old_sha() {
	[ -f "$tmp/old" ] || return 0
	awk -v p="$1" '$1 == "conf" && $3 == p { print $2 }' "$tmp/old"
}

# conf SRC DEST: a configuration file; never overwrites an edited copy.
conf() {
	mkdirs "$(dirname "$2")"
	new=$(sha "$1")
	if [ ! -e "$D$2" ]; then
		install -m 0644 "$1" "$D$2"
		record conf "$2" "$new"
		[ -n "$D" ] || say "installed $2"
	elif cmp -s "$1" "$D$2"; then
		record conf "$2" "$new"
		rm -f "$D$2.dist"
	elif [ "$(sha "$D$2")" = "$(old_sha "$2")" ]; then
		install -m 0644 "$1" "$D$2.gl-new"
		mv -f "$D$2.gl-new" "$D$2"
		record conf "$2" "$new"
		rm -f "$D$2.dist"
		say "updated $2 (it was unchanged since the last make install)"
	else
		install -m 0644 "$1" "$D$2.dist"
		record file "$2.dist" "$new"
		# Still ours (edited since): uninstall keeps it and says so.
		o=$(old_sha "$2")
		[ -z "$o" ] || record conf "$2" "$o"
		say "kept your $2 (it differs from this version's);" \
		    "the new version is beside it: $2.dist"
	fi
}

# subst FILE: FILE with @SBIN@, @PREFIX@ and @SHARE@ filled in, in $tmp.
subst() {
	sed -e "s,@SBIN@,$PREFIX/sbin,g" -e "s,@PREFIX@,$PREFIX,g" \
	    -e "s,@SHARE@,$share,g" "$1" >"$tmp/$(basename "$1")"
	echo "$tmp/$(basename "$1")"
}

do_install() {
	[ -f "$SO" ] && [ -f "$ADMIN" ] || { say "build first (make)"; exit 1; }
	[ -z "$D" ] || mkdir -p "$D"
	if [ -f "$D$manifest" ]; then
		cp "$D$manifest" "$tmp/old"
		# Directories an earlier install created stay recorded.
		grep '^dir ' "$tmp/old" >>"$tmp/manifest" || :
	fi
	: >>"$tmp/manifest"
	put 0644 "$SO" "$PREFIX/lib/exim4/greylist.so"
	put 0755 "$ADMIN" "$PREFIX/sbin/greylist-admin"
	put 0755 "$(subst tools/greylist-setup-exim4)" "$PREFIX/sbin/greylist-setup-exim4"
	for f in exim-conf-snippets/*; do
		put 0644 "$f" "$share/$(basename "$f")"
	done
	put 0644 doc/exim-greylist-grafana.json "$share/grafana-dashboard.json"
	put 0644 doc/greylist-admin.8 "$PREFIX/share/man/man8/greylist-admin.8"
	put 0644 doc/greylist-setup-exim4.8 "$PREFIX/share/man/man8/greylist-setup-exim4.8"
	put 0644 doc/greylist.conf.5 "$PREFIX/share/man/man5/greylist.conf.5"
	put 0644 "$(subst doc/exim-greylist-purge.service)" \
		"$SYSTEMDUNITDIR/exim-greylist-purge.service"
	put 0644 doc/exim-greylist-purge.timer "$SYSTEMDUNITDIR/exim-greylist-purge.timer"
	for u in exim-greylist-snapshot.service exim-greylist-save.service; do
		put 0644 "$(subst doc/$u)" "$SYSTEMDUNITDIR/$u"
	done
	put 0644 doc/exim-greylist-snapshot.timer "$SYSTEMDUNITDIR/exim-greylist-snapshot.timer"
	put 0644 doc/exim-greylist.tmpfiles "$PREFIX/lib/tmpfiles.d/exim-greylist.conf"
	conf exim-conf-snippets/greylist.conf /etc/exim4/greylist.conf
	conf exim-conf-snippets/greylist-whitelist /etc/exim4/greylist-whitelist
	conf "$(subst doc/greylist.cron)" /etc/cron.d/exim-greylist
	if [ "$MANIFEST" = yes ]; then
		# Directories first (uninstall removes them last, deepest first).
		{ grep '^dir ' "$tmp/manifest" | awk '!seen[$0]++'
		  grep -v '^dir ' "$tmp/manifest" || :; } >"$tmp/manifest.new"
		install -m 0644 "$tmp/manifest.new" "$D$manifest"
		say "installed under $D$PREFIX and $D/etc; the list is in $D$manifest"
	fi
	if [ -z "$D" ]; then
		say "greylisting is not switched on by this; with Debian's Exim run"
		say "  $PREFIX/sbin/greylist-setup-exim4 enable"
	fi
}

# enabled_here: Debian's Exim configuration names this installation's module.
enabled_here() {
	for f in /etc/exim4/exim4.conf.localmacros /etc/exim4/conf.d/main/000_localmacros; do
		[ -f "$f" ] && grep -q "^GREYLIST_SO = $PREFIX/lib/exim4/greylist.so\$" "$f" && return 0
	done
	return 1
}

do_uninstall() {
	if [ ! -f "$D$manifest" ]; then
		say "no $D$manifest: nothing installed here by make install (PREFIX=$PREFIX)"
		exit 1
	fi
	if [ -z "$D" ] && enabled_here; then
		say "greylisting is on in Exim with this installation; switching it off first"
		if ! "$PREFIX/sbin/greylist-setup-exim4" disable; then
			say "greylist-setup-exim4 disable failed; nothing removed"
			exit 1
		fi
	fi
	cp "$D$manifest" "$tmp/old"
	grep -v '^dir ' "$tmp/old" | while read -r type sum path; do
		[ -e "$D$path" ] || continue
		if [ "$type" = conf ] && [ "$(sha "$D$path")" != "$sum" ]; then
			say "kept $path: edited since make install (remove it by hand when no longer wanted)"
			continue
		fi
		rm -f "$D$path"
	done
	rm -f "$D$manifest"
	grep '^dir ' "$tmp/old" | awk '{ print $3 }' | sort -r | while read -r d; do
		rmdir "$D$d" 2>/dev/null || :
	done
	say "removed what make install put under $D$PREFIX and $D/etc"
}

case $mode in
install) do_install ;;
uninstall) do_uninstall ;;
*) echo "usage: install.sh install|uninstall" >&2; exit 2 ;;
esac
