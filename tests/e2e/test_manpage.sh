#!/usr/bin/env bash
# The man page (docs/dockergate.1) is generated from the program's own --help texts by
# scripts/manpage.py: the committed page must be exactly what the current binary gives, every
# command must have its section, and groff must render it without a warning.
set -uo pipefail
DG=$1
T=$(mktemp -d "${TMPDIR:-/tmp}/dg-man.XXXXXX")
trap 'rm -rf "$T"' EXIT
TAP_NAME="manpage" TAP_DIAG=30
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
. "$here/../tools/tap.sh"
python3 "$repo/scripts/manpage.py" "$DG" >"$T/page.1" 2>"$T/err"
ok $? "scripts/manpage.py runs" "$T/err"
diff -u "$repo/docs/dockergate.1" "$T/page.1" >"$T/diff"
ok $? "docs/dockergate.1 agrees with every --help text (regenerate: python3 scripts/manpage.py build/dockergate > docs/dockergate.1)" "$T/diff"
"$DG" --help | sed -n '/^Commands:/,/^$/p' | awk 'NF >= 2 && $1 != "Commands:" {print $1}' | grep -v -e '^help$' -e '^version$' >"$T/cmds"
missing=""
while read -r c; do grep -q "^\.SS $c\$" "$T/page.1" || missing="$missing $c"; done <"$T/cmds"
echo "missing:$missing" >"$T/m"
[[ -z "$missing" && -s "$T/cmds" ]]
ok $? "a section for each of the $(wc -l <"$T/cmds") commands" "$T/m"
if command -v groff >/dev/null; then
	groff -man -Tutf8 -ww -z "$repo/docs/dockergate.1" >"$T/groff" 2>&1 && [[ ! -s "$T/groff" ]]
	ok $? "groff renders it without a warning" "$T/groff"
fi
# the exit statuses: one table in the program (src/lib/base/error.c, `--help`), the same in docs/errors.md
"$DG" --help | sed -n '/^Exit status/,/^$/p' | sed 1d |
	sed -E 's/^ +([0-9]+)  ([a-z]+) +(.*)$/\1|\2|\3/' >"$T/st.help"
sed -n '/^| status /,/^$/p' "$repo/docs/errors.md" | sed '1,2d' | sed '/^$/d' |
	awk -F' [|] ' '{sub(/^[|] */, "", $1); gsub(/ +$/, "", $1); gsub(/ +$/, "", $2); gsub(/\\[|]/, "|", $3); print $1 "|" $2 "|" $3}' >"$T/st.doc"
diff -u "$T/st.help" "$T/st.doc" >"$T/st.diff" && [[ $(wc -l <"$T/st.help") -ge 10 ]]
ok $? "docs/errors.md's status table (status, name, meaning) is the program's ($(wc -l <"$T/st.help") statuses)" "$T/st.diff"
tap_end
