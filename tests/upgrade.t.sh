#!/usr/bin/env bash
# upgrade.t.sh: a home written by an earlier release opens with this one.
# For each old revision below, builds its hansa binary from a
# `git worktree add` of it, cached in the build directory so a re-run is
# cheap; with it makes a home with documents, an edit, a tombstone, a
# member, a purged version and a bundle, and records what list, search,
# history and member list answer. Then this build opens the same home: it
# upgrades the store in place after a backup copy of the data file
# (store/data.mdb.schema<N>.bak, N the old schema), passes fsck, gives the
# same answers, keeps its identity, imports the old bundle into a fresh
# home to the same ids, and accepts new writes. The revisions: 82de91b,
# the last release before this session's format changes (schema 1), and
# 8fe4d94 (schema 5, before the versions table). Written to hold for any
# newer store schema. Skips (77) outside a git checkout or without the
# commits.
# Needs: HANSA, HX_BUILD, HX_SRC, jq, cmake, git.
set -u
: "${HANSA:?}" "${HX_BUILD:?}" "${HX_SRC:?}"
REVS="82de91b:1 8fe4d94:5"
git -C "$HX_SRC" rev-parse --git-dir >/dev/null 2>&1 || { echo "upgrade.t.sh: not a git checkout: skipped"; exit 77; }
for rs in $REVS; do
	git -C "$HX_SRC" cat-file -e "${rs%:*}^{commit}" 2>/dev/null || { echo "upgrade.t.sh: no commit ${rs%:*}: skipped"; exit 77; }
done

TOP=$(mktemp -d /tmp/hx-upgrade.XXXXXX)
T=$TOP
WT=
cleanup() {
	[ -n "$WT" ] && git -C "$HX_SRC" worktree remove --force "$WT" >/dev/null 2>&1
	rm -rf "$TOP"
}
trap cleanup EXIT
unset HANSA_HOME HANSA_PASSPHRASE
fail() { echo "FAIL: $*" >&2; exit 1; }

# --- the old binary (cached) -------------------------------------------------
old_binary() { # old_binary REV: sets OLD
OLD_REV=$1
OLD="$HX_BUILD/upgrade-$OLD_REV/hansa"
if [ ! -x "$OLD" ]; then
	WT="$T/src-$OLD_REV"
	git -C "$HX_SRC" worktree add --detach "$WT" "$OLD_REV" >/dev/null 2>&1 || fail "git worktree add $OLD_REV"
	B="$HX_BUILD/upgrade-$OLD_REV/build"
	mkdir -p "$B"
	cmake -S "$WT" -B "$B" -DCMAKE_BUILD_TYPE=Release >"$T/cmake.log" 2>&1 ||
		{ tail -20 "$T/cmake.log"; fail "cmake of $OLD_REV"; }
	cmake --build "$B" --target hansa -j2 >>"$T/cmake.log" 2>&1 ||
		{ tail -20 "$T/cmake.log"; fail "build of $OLD_REV"; }
	cp "$B/hansa" "$OLD.tmp" && mv "$OLD.tmp" "$OLD" || fail "cache the old binary"
	rm -rf "$B"
	git -C "$HX_SRC" worktree remove --force "$WT" >/dev/null 2>&1
	WT=
fi
}

from() { # from REV SCHEMA: the whole check from a home of REV
old_binary "$1"
SCH=$2
T="$TOP/$1"
mkdir -p "$T"
H="$T/home"
old() { "$OLD" --home "$H" "$@"; }
new() { "$HANSA" --home "$H" "$@"; }

# --- a home written by the old release ---------------------------------------
old init --name "Partner Old" --country EE >/dev/null || fail "old init"
"$OLD" --home "$T/other" init --name "Partner Other" --country LV >/dev/null || fail "old init other"
KO=$("$OLD" --home "$T/other" id --json | jq -r .key)
old member add "$KO" --name "Partner Other" >/dev/null 2>&1 || fail "old member add"
doc() { # doc PATH TITLE BODY
	printf -- '---\ntitle: %s\npath: %s\ntags: [upgrade]\n---\n%s\n' "$2" "$1" "$3" >"$T/d.md"
	old publish "$T/d.md" >/dev/null || fail "old publish $1"
}
doc practices/brokerage "Innovation brokerage" "Regional brokers meet firms monthly in Białystok."
doc practices/clusters "Cluster policy" "Klynger in Sorø and Cēsis."
doc practices/brokerage "Innovation brokerage, revised" "Brokers meet firms every two weeks in Białystok."
doc toolkits/old "Old toolkit" "To be deleted."
old delete toolkits/old >/dev/null || fail "old delete"
if [ "$SCH" -ge 5 ]; then # a purged version and a third version (purge came with schema 3)
	doc people/contact "Contact" "Call Anna on 555 0100."
	doc people/contact "Contact" "Write to the office."
	V1=$(old history people/contact --json | jq -r '.[0].id')
	old purge people/contact --version "$V1" >/dev/null 2>&1 || fail "old purge"
fi
old export --bundle "$T/old.hxb" >/dev/null || fail "old bundle"

answers() { # answers BIN: what the home answers, in a form both versions share
	local b=$1
	"$b" --home "$H" list --json | jq -c '[.[] | {id, path, title, author}] | sort_by(.path)'
	"$b" --home "$H" list --ids | sort
	"$b" --home "$H" history practices/brokerage --json | jq -c '[.[] | {id, timestamp, title}]'
	"$b" --home "$H" history toolkits/old --json | jq -c '[.[] | {id, kind}]'
	"$b" --home "$H" history people/contact --json 2>/dev/null | jq -c '[.[] | {id, title}]'
	[ "$SCH" -lt 5 ] || "$b" --home "$H" status --json | jq -c '{entries, documents}'
	for q in bialystok klynge brokers toolkit; do
		echo "search $q: $("$b" --home "$H" search --json "$q" | jq -c '[.. | objects | .id? // empty] | sort')"
	done
	"$b" --home "$H" member list --json | jq -c '[.[] | {key, name}] | sort_by(.key)'
	"$b" --home "$H" id --json | jq -c '{key}'
}
answers "$OLD" >"$T/before" || fail "old answers"
grep -q '"practices/brokerage"' "$T/before" || fail "the old home has no documents (the test's own check)"
old fsck >/dev/null 2>&1 || fail "old fsck"

# --- opened by this build -----------------------------------------------------
[ ! -e "$H/store/data.mdb.schema$SCH.bak" ] || fail "a backup before any upgrade"
new list >/dev/null || fail "the new binary cannot open the old home"
if [ -e "$H/store/data.mdb.schema$SCH.bak" ]; then
	# the copy is the old store: the old binary opens it and agrees
	mkdir -p "$T/bak/store"
	cp "$H/identity.key" "$H/profile.json" "$T/bak/" 2>/dev/null
	cp "$H/store/data.mdb.schema$SCH.bak" "$T/bak/store/data.mdb"
	"$OLD" --home "$T/bak" fsck >/dev/null 2>&1 || fail "the backup copy is not a sound old store"
else
	fail "no backup copy of the data file before the schema upgrade"
fi
new fsck >"$T/fsck.out" 2>&1 || fail "fsck after the upgrade: $(cat "$T/fsck.out")"
answers "$HANSA" >"$T/after" || fail "new answers"
diff -u "$T/before" "$T/after" || fail "the upgraded home answers differently"
# opened again: no second upgrade, no second backup needed
rm "$H/store/data.mdb.schema$SCH.bak"
new list >/dev/null || fail "second open"
[ ! -e "$H/store/data.mdb.schema$SCH.bak" ] || fail "upgraded twice"

# the old bundle imports into a fresh home of this build to the same ids
"$HANSA" --home "$T/fresh" init --name "Partner Fresh" --country DK >/dev/null || fail "new init"
"$HANSA" --home "$T/fresh" member add "$(new id --json | jq -r .key)" --name "Partner Old" >/dev/null 2>&1 ||
	fail "fresh member add"
"$HANSA" --home "$T/fresh" import "$T/old.hxb" >/dev/null 2>&1 || fail "import of the old bundle"
[ "$("$HANSA" --home "$T/fresh" list --ids | sort)" = "$(new list --ids | sort)" ] ||
	fail "the old bundle imported to other ids"

# and it takes new writes
doc2() { printf -- '---\ntitle: New\npath: practices/new\n---\nAfter the upgrade.\n' >"$T/n.md"; }
doc2
new publish "$T/n.md" >/dev/null || fail "publish after the upgrade"
new search upgrade >/dev/null || fail "search after the upgrade"
new fsck >/dev/null 2>&1 || fail "fsck after a write"
echo "upgrade.t.sh: from $1 (schema $SCH): ok"
}

for rs in $REVS; do
	from "${rs%:*}" "${rs#*:}"
done
echo "upgrade.t.sh: ok"
