#!/usr/bin/env bash
# scripts/demo-offline.sh: an offline regional office catches up from a
# bundle carried on a USB stick, and what it wrote travels back the same
# way. Called by scripts/demo (which exports HANSA and HX_DEMO_DIR); runs on
# its own too: HANSA=build/hansa scripts/demo-offline.sh
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
HANSA=${HANSA:-$ROOT/build/release/hansa}
[ -x "$HANSA" ] || { echo "demo-offline.sh: no hansa binary at $HANSA (set HANSA)" >&2; exit 1; }
if [ -n "${HX_DEMO_DIR:-}" ]; then
	D="$HX_DEMO_DIR/offline"
	mkdir -p "$D"
else
	D=$(mktemp -d /tmp/hansa-offline-demo.XXXXXX)
	trap 'rm -rf "$D"' EXIT
fi
DOCS="$ROOT/docs/demo"
USB="$D/usb-stick"
mkdir -p "$USB"

say() { printf '\n== %s\n' "$*"; }
as() {
	local node=$1 a shown=""
	shift
	for a in "$@"; do
		case $a in *" "*) shown="$shown \"$a\"" ;; *) shown="$shown $a" ;; esac
	done
	shown=${shown//$D\//}
	printf '[%s] $ hansa%s\n' "$node" "$shown"
	"$HANSA" --home "$D/$node" "$@"
}
size() { stat -c %s "$1"; }

say "Offline offices: the Vidzeme office in Cēsis has no network link; its partner in Riga is connected."
as riga init --name "Riga Planning Region" --town Riga --region Rīga --country LV >/dev/null
as cesis init --name "Vidzeme Planning Region" --town Cēsis --region Vidzeme --country LV >/dev/null
RIGA=$("$HANSA" --home "$D/riga" id --json | sed -n 's/.*"key":[[:space:]]*"\([0-9a-f]*\)".*/\1/p')
CESIS=$("$HANSA" --home "$D/cesis" id --json | sed -n 's/.*"key":[[:space:]]*"\([0-9a-f]*\)".*/\1/p')
echo "Each office accepts the other as a member (only members' entries are stored):"
as riga member add "$CESIS" --name "Vidzeme Planning Region" --town Cēsis --country LV
as cesis member add "$RIGA" --name "Riga Planning Region" --town Riga --country LV

say "Riga holds the shared library."
for f in "$DOCS"/*.md; do
	as riga publish "$f"
done

say "First visit: Riga writes the whole library to a USB stick, and a state file of what it holds."
as riga export --bundle "$USB/library.hxb"
as riga state --out "$USB/riga.state"
echo "At Cēsis, the stick goes in; every entry is checked (signature, member author, limits, date) before it is stored:"
as cesis import "$USB/library.hxb"
echo "Importing the same file again changes nothing:"
as cesis import "$USB/library.hxb"

say "Weeks pass. Riga publishes a new version of a practice and a new note; Cēsis, offline, writes its own practice."
sed 's/^title: .*/title: Innovation brokerage for SMEs (updated after the Riga workshop)/' \
	"$DOCS/innovation-brokerage.md" | as riga publish -
printf -- '---\npath: notes/riga-workshop\ntitle: Notes from the Riga workshop\nkind: note\ntags: [workshop, brokerage]\n---\nTwelve brokers from four regions compared their intake forms.\n' |
	as riga publish -
printf -- '---\npath: practices/rural-coworking\ntitle: Rural co-working spaces in Vidzeme\nkind: practice\ntags: [rural, co-working]\nregion: Vidzeme\n---\nFour municipalities share one booking system for their co-working rooms.\n' |
	as cesis publish -

say "Second visit. Cēsis writes its state, and a bundle of only what Riga lacks (from Riga's state on the stick)."
as cesis state --out "$USB/cesis.state"
as cesis export --bundle "$USB/from-cesis.hxb" --missing-from "$USB/riga.state"
echo "At Riga: Cēsis's practice comes in, and Riga writes only what Cēsis lacks:"
as riga import "$USB/from-cesis.hxb"
as riga export --bundle "$USB/catch-up.hxb" --missing-from "$USB/cesis.state"
echo "The catch-up bundle is $(size "$USB/catch-up.hxb") bytes, the whole library $(size "$USB/library.hxb");" \
	"the state file that asked for it $(size "$USB/cesis.state")."

say "Back in Cēsis, the office catches up."
as cesis import "$USB/catch-up.hxb"
as cesis list
as cesis history practices/innovation-brokerage-smes

say "A damaged stick: one byte of one entry flipped. Everything else still imports, and the bad entry is named."
cp "$USB/library.hxb" "$D/damaged.hxb"
at=$(( $(size "$D/damaged.hxb") / 2 ))
byte=$(od -An -tu1 -j "$at" -N1 "$D/damaged.hxb" | tr -d ' ')
printf "\\$(printf %03o $((byte ^ 1)))" | dd of="$D/damaged.hxb" bs=1 seek="$at" conv=notrunc status=none
as newcomer init --name "Newcomer office" >/dev/null
as newcomer member add "$RIGA" --name "Riga Planning Region"
as newcomer import "$D/damaged.hxb" || echo "(exit status $?: something was refused, as it should be)"
as newcomer fsck

say "For the public: Cēsis writes the library as a static web site that opens from the file system."
as cesis export --html "$D/site"
echo "Open $D/site/index.html in a browser (search works without a server)."
