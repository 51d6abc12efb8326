#!/usr/bin/env bash
# The repository's docs stand alone: README.md and docs/**/*.md must not point outside the
# repository (../shared, /work/...), and every relative link or `path.md` they name must
# exist. Run by `make lint`; exits 1 listing every problem.
set -uo pipefail
cd "$(dirname "$0")/.." || exit 2

mapfile -t files < <(ls README.md; find docs -name '*.md' | sort)
problems=0
fail() { echo "check-docs: $*" >&2; problems=$((problems + 1)); }

for f in "${files[@]}"; do
    dir=$(dirname "$f")
    while IFS=: read -r line text; do
        fail "$f:$line: points outside the repository: $text"
    done < <(grep -nE '\.\./shared|/work/shared|shared/docs/' "$f")

    # Markdown links [text](target): relative targets must exist (anchors ignored).
    while IFS=: read -r line target; do
        target=${target%%#*}
        [ -z "$target" ] && continue
        case "$target" in http://* | https://* | mailto:*) continue ;; esac
        [ -e "$dir/$target" ] || fail "$f:$line: link to a missing file: $target"
    done < <(grep -noE '\]\([^)[:space:]]+\)' "$f" | sed -E 's/^([0-9]+):\]\((.*)\)$/\1:\2/')

    # `some/path.md` or `name.md` in code spans: the file must exist, next to this one or
    # from the repository root.
    while IFS=: read -r line target; do
        [ -e "$dir/$target" ] || [ -e "$target" ] ||
            fail "$f:$line: names a missing file: $target"
    done < <(grep -noE '`[A-Za-z0-9_./-]+\.md`' "$f" | sed -E 's/^([0-9]+):`(.*)`$/\1:\2/')
done

if [ "$problems" -gt 0 ]; then
    echo "check-docs: $problems problem(s) in ${files[*]}" >&2
    exit 1
fi
echo "check-docs: ${#files[@]} file(s) stand alone"
