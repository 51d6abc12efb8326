#!/usr/bin/env bash
# Sharded push on one machine: the same push of 48 images run as 1, 2 and 4 concurrent
# `ferry push --shard I/N` processes, wall time and destination registry requests.
# docs/scale.md records the figures. Usage:
#
#   bench/shards.sh                  build, seed, ROUNDS rounds of N = 1, 2, 4
#   ROUNDS=5 SHARDS="1 2 4 8" bench/shards.sh
#
# Knobs: ROUNDS (default 3), SHARDS (default "1 2 4"), IMAGES (default 48), SKIP_BUILD=1,
# PROFILE (release, the default, or debug: the binaries of target/PROFILE), KEEP=1 (keep
# the work dir), WORK (default a fresh /tmp/ferry-shards.*).
# Every run pushes into a fresh namespace and is checked: every destination tag must hold
# its source digest, and no tag may be written by two shards (registry log, User-Agent).
set -uo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
ROUNDS=${ROUNDS:-3}
SHARDS=${SHARDS:-"1 2 4"}
IMAGES=${IMAGES:-48}
SKIP_BUILD=${SKIP_BUILD:-0}
PROFILE=${PROFILE:-release}
FERRY=$ROOT/target/$PROFILE/ferry
LAB=$ROOT/target/$PROFILE/ferry-lab
WORK=${WORK:-$(mktemp -d /tmp/ferry-shards.XXXXXX)}

log() { printf '[shards %(%H:%M:%S)T] %s\n' -1 "$*" >&2; }
die() {
    log "ERROR: $*"
    exit 1
}

cd "$ROOT" || die "cannot cd to $ROOT"
if [ "$SKIP_BUILD" != 1 ]; then
    flag=--release
    [ "$PROFILE" = release ] || flag=
    cargo build $flag -p ferry-cli -p ferry-testkit >&2 || die "cargo build failed"
fi
bash "$ROOT/scripts/ensure-tools.sh" || die "scripts/ensure-tools.sh failed"

LAB_PID=
cleanup() {
    [ -n "$LAB_PID" ] && kill -TERM "$LAB_PID" 2>/dev/null && wait "$LAB_PID" 2>/dev/null
    [ "${KEEP:-0}" = 1 ] || rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

"$LAB" serve --dir "$WORK/lab" --name src --name dst --no-stdin >"$WORK/lab.out" 2>"$WORK/lab.err" &
LAB_PID=$!
for _ in $(seq 300); do
    [ -f "$WORK/lab/registries.json" ] && break
    kill -0 "$LAB_PID" 2>/dev/null || die "ferry-lab serve exited: $(cat "$WORK/lab.err")"
    sleep 0.1
done
[ -f "$WORK/lab/registries.json" ] || die "registries did not come up"
lab_field() { python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))[sys.argv[2]][sys.argv[3]])' "$WORK/lab/registries.json" "$1" "$2"; }
SRC=$(lab_field src host)
DST=$(lab_field dst host)
DST_LOG=$(lab_field dst log)

# ---------------------------------------------------------------- seed
log "seeding $IMAGES multi-arch builds (2 platforms, 512 KiB + 64 KiB layers) into $SRC"
refs=()
for i in $(seq -w 1 "$IMAGES"); do refs+=("build/app$i:1.0"); done
"$LAB" seed --registry "$SRC" --archs amd64,arm64 --layers 512K,64K --seed 7 \
    "${refs[@]}" >"$WORK/seeded.txt" || die "seeding failed"

# Items: build k goes to product/appk under two tags.
python3 - "$WORK/seeded.txt" "$SRC" >"$WORK/items.yaml" <<'EOF' || die "items"
import sys
src = sys.argv[2]
for line in open(sys.argv[1]):
    ref, digest = line.split()
    repo, tag = ref.rsplit(":", 1)
    name = repo.split("/")[-1]
    print(f"""- ContainerImagePushItem:
    name: {src}/{ref}
    dest: [product/{name}]
    source_tags: ["{tag}", latest]
    pull_info:
      tag_specs:
        - {{registry: "{src}", repository: {repo}, tag: "{tag}", media_types: []}}
      digest_specs:
        - {{registry: "{src}", repository: {repo}, digest: "{digest}", media_type: application/vnd.oci.image.index.v1+json}}""")
EOF

median() { sort -g | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }

# ---------------------------------------------------------------- runs
declare -A WALL REQS
for round in $(seq "$ROUNDS"); do
    for n in $SHARDS; do
        ns="r$round-n$n"
        printf 'registry: %s\nnamespace: %s\nmultiarch: merge\n' "$DST" "$ns" >"$WORK/target-$ns.yaml"
        mark=$("$LAB" mark --log "$DST_LOG")
        start=$(date +%s.%N)
        pids=()
        for i in $(seq 0 $((n - 1))); do
            "$FERRY" push -q --tls-verify=false --shard "$i/$n" --target "$WORK/target-$ns.yaml" \
                -o json "$WORK/items.yaml" >"$WORK/report-$ns-$i.json" 2>"$WORK/err-$ns-$i.txt" &
            pids+=($!)
        done
        for p in "${pids[@]}"; do wait "$p" || die "a shard of $ns failed: $(cat "$WORK"/err-"$ns"-*.txt)"; done
        end=$(date +%s.%N)
        wall=$(python3 -c "print(round($end - $start, 3))")
        reqs=$("$LAB" count --log "$DST_LOG" --since-line "$mark" --method '*')
        "$FERRY" report merge -o json --shards "$n" "$WORK"/report-"$ns"-*.json >"$WORK/merged-$ns.json" ||
            die "report merge of $ns failed"
        # Every tag holds its source digest.
        while read -r ref digest; do
            repo=${ref%:*}
            name=${repo##*/}
            for tag in 1.0 latest; do
                got=$("$FERRY" digest -q --tls-verify=false "$DST/$ns/product/$name:$tag") ||
                    die "$DST/$ns/product/$name:$tag missing"
                [ "$got" = "$digest" ] || die "$ns/product/$name:$tag is $got, expected $digest"
            done
        done <"$WORK/seeded.txt"
        # No tag written by two shards (the shard is in the User-Agent).
        python3 - "$DST_LOG" "$mark" <<'EOF' || die "a tag was written by two shards in $ns"
import re, sys
writers = {}
for n, line in enumerate(open(sys.argv[1])):
    if n < int(sys.argv[2]):
        continue
    m = re.search(r'"PUT (/v2/\S+/manifests/[^ ?]+) HTTP[^"]*" (\d+) .* "([^"]*)"$', line)
    if m and not m.group(3).startswith("ferry-testkit"):
        ref = m.group(1)
        if ":" not in ref.rsplit("/", 1)[1]:
            writers.setdefault(ref, set()).add(m.group(3))
bad = {k: v for k, v in writers.items() if len(v) > 1}
sys.exit(1 if bad else 0)
EOF
        WALL[$n]+="$wall "
        REQS[$n]+="$reqs "
        log "round $round, $n shard(s): $wall s, $reqs requests"
    done
done

echo
echo "Sharded push of $IMAGES multi-arch builds (2 platforms each, 2 tags each), $ROUNDS rounds, nproc $(nproc), load $(cut -d' ' -f1-3 /proc/loadavg)"
echo
echo "| shards | wall s (min / median / max) | destination requests (median) |"
echo "|---|---|---|"
for n in $SHARDS; do
    w=$(tr ' ' '\n' <<<"${WALL[$n]}" | grep . | sort -g)
    echo "| $n | $(head -1 <<<"$w") / $(median <<<"$w") / $(tail -1 <<<"$w") | $(tr ' ' '\n' <<<"${REQS[$n]}" | grep . | median) |"
done
