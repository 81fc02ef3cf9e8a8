#!/bin/sh
# scale-bundle.sh BUNDLE builds the folder tools/scale.sh runs from, on
# a Debian machine with Go and the suricata package installed (apt
# reaches the archive): vigil, built here; the installed Suricata with
# every shared library it loads and the loader (the packages of the
# installed versions, unpacked with dpkg -x), so that it runs on a
# machine without them; /etc/suricata/suricata.yaml; the peer rule sets
# (testdata/peer); and tools/scale.sh itself. Run from the repository
# root: `make scale-bundle` (BUNDLE=.bundle). Then copy BUNDLE to the
# machine to measure and run `sh BUNDLE/scale.sh BUNDLE` there.
set -eu
B=${1:?usage: scale-bundle.sh BUNDLE}
GO=${GO:-go}
SURICATA=$(command -v "${SURICATA:-suricata}")
rm -rf "$B"
mkdir -p "$B/suricata" "$B/peer"
B=$(cd "$B" && pwd)
# A static vigil, xz-compressed (scale.sh unpacks it with python3's lzma):
# the bundle must stay small enough to carry.
CGO_ENABLED=0 "$GO" build -trimpath -ldflags='-s -w' -o "$B/vigil" ./cmd/vigil
xz -T0 -6 "$B/vigil"
cp tools/scale.sh "$B/scale.sh"
cp testdata/peer/*.yaml testdata/peer/*.rules "$B/peer/"
cp /etc/suricata/suricata.yaml "$B/suricata.yaml"

# The packages of suricata and of every library ldd names, the loader
# (libc6) included, at their installed versions; a version the archive
# no longer has (a security update replaced it) is taken at the newest.
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
pkgs=$(dpkg -S "$SURICATA" | cut -d: -f1)
for lib in $(ldd "$SURICATA" | tr -s ' \t' '\n\n' | grep '^/'); do
	pkgs="$pkgs $( (dpkg -S "$(readlink -f "$lib")" 2>/dev/null || dpkg -S "$lib") | head -n1 | cut -d: -f1)"
done
(
	cd "$tmp"
	want=
	for p in $(echo "$pkgs" | tr ' ' '\n' | sort -u); do
		want="$want $p=$(dpkg-query -W -f='${Version}' "$p")"
	done
	# shellcheck disable=SC2086 # one word per package
	if ! apt-get download -q $want >/dev/null 2>&1; then
		for pv in $want; do
			apt-get download -q "$pv" >/dev/null 2>&1 || apt-get download -q "${pv%%=*}" >/dev/null
		done
	fi
)
for deb in "$tmp"/*.deb; do dpkg -x "$deb" "$B/suricata"; done
ls "$tmp" | sed 's/_amd64.deb$//' >"$B/suricata/PACKAGES"
# Of the packages' files, only the program, its configuration and the
# libraries ldd names (their files and the links to them) are kept.
keep=$tmp/keep
ldd "$SURICATA" | tr -s ' \t' '\n\n' | grep '^/' | while read -r lib; do
	basename "$lib"
	basename "$(readlink -f "$lib")"
done | sort -u >"$keep"
find "$B/suricata" \( -type f -o -type l \) ! -path "$B/suricata/usr/bin/suricata" ! -path "$B/suricata/etc/suricata/*" \
	! -name PACKAGES -print | while read -r f; do
	grep -qxF "$(basename "$f")" "$keep" || rm -f "$f"
done
rm -rf "$B/suricata/lib64" # an absolute link to the loader: scale.sh calls the bundled one
find "$B/suricata" -depth -type d -empty -delete

# It runs with nothing of the environment, nor of this machine's
# libraries: the bundled loader with the bundled libraries.
env -i sh "$B/scale.sh" --suricata "$B" --build-info | grep -q '^This is Suricata version 7'
du -sh "$B"
