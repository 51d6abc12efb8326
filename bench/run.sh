#!/usr/bin/env bash
# ferry vs skopeo (and vs the destination's own ingest), side by side on loopback registries.
# Scenarios, workloads and targets (S1-S5, M1): bench/RESULTS.md. Usage:
#
#   bench/run.sh                      build, seed, ROUNDS rounds of every scenario, report
#   ROUNDS=5 bench/run.sh             more rounds (default 3; runs alternate ferry, peer, ...)
#   REPORT=bench/last.md bench/run.sh also write the markdown report to a file
#
# Knobs (environment): ROUNDS, SKIP_BUILD=1 (use existing target/release binaries),
# NO_FERRY=1 (peers only: test the harness without ferry), FERRY_FLAGS (after the command; default
# "-q --tls-verify=false"), S4_SIZE (bytes, default 268435456), KEEP=1 (keep the work dir),
# WORK (work dir, default a fresh /tmp/ferry-bench.*), REPORT (file for the report).
#
# Exits non-zero only when something failed to run (a build, a seed, a copy, a check that
# the destination got the right digests), never because a target was missed.
set -uo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
ROUNDS=${ROUNDS:-3}
NO_FERRY=${NO_FERRY:-0}
SKIP_BUILD=${SKIP_BUILD:-0}
S4_SIZE=${S4_SIZE:-268435456}
read -r -a FERRY_FLAGS <<<"${FERRY_FLAGS:--q --tls-verify=false}"
FERRY=$ROOT/target/release/ferry
LAB=$ROOT/target/release/ferry-lab
WORK=${WORK:-$(mktemp -d /tmp/ferry-bench.XXXXXX)}
SKOPEO_CACHE=/var/lib/containers/cache/blob-info-cache-v1.boltdb
ARCHS=amd64,arm64,ppc64le,s390x

log() { printf '[bench %(%H:%M:%S)T] %s\n' -1 "$*" >&2; }
die() {
    log "ERROR: $*"
    exit 1
}
FAILED=0
fail() {
    log "FAILED: $*"
    FAILED=1
}

# ---------------------------------------------------------------- build and tools
cd "$ROOT" || die "cannot cd to $ROOT"
if [ "$SKIP_BUILD" != 1 ]; then
    pkgs=(-p ferry-testkit)
    [ "$NO_FERRY" = 1 ] || pkgs+=(-p ferry-cli)
    log "cargo build --release ${pkgs[*]}"
    cargo build --release "${pkgs[@]}" >&2 || die "cargo build failed"
fi
[ -x "$LAB" ] || die "$LAB missing (cargo build --release -p ferry-testkit)"
[ "$NO_FERRY" = 1 ] || [ -x "$FERRY" ] || die "$FERRY missing (cargo build --release -p ferry-cli)"

bash "$ROOT/scripts/ensure-tools.sh" || die "scripts/ensure-tools.sh failed"
need_apt=()
[ -x /usr/bin/time ] || need_apt+=(time)
command -v curl >/dev/null || need_apt+=(curl)
command -v python3 >/dev/null || need_apt+=(python3)
if [ "${#need_apt[@]}" -gt 0 ]; then
    log "installing ${need_apt[*]}"
    sudo_cmd=()
    [ "$(id -u)" -eq 0 ] || sudo_cmd=(sudo -n)
    "${sudo_cmd[@]}" apt-get update -qq && "${sudo_cmd[@]}" env DEBIAN_FRONTEND=noninteractive \
        apt-get install -y -qq "${need_apt[@]}" >&2 || die "apt-get install ${need_apt[*]} failed"
fi
if [ "$(id -u)" -ne 0 ] && [ -e "$SKOPEO_CACHE" ] && [ ! -w "$(dirname "$SKOPEO_CACHE")" ]; then
    die "cannot delete $SKOPEO_CACHE as $(id -un); run as root"
fi

mkdir -p "$WORK"/{out,runs}
RESULTS=$WORK/results.tsv # scenario tool round seconds rss_kib dst_requests methods_json
: >"$RESULTS"
log "work dir $WORK"

# Per run, $WORK/out/ keeps the command output (.log), peak RSS (.rss) and the destination's
# access-log lines (.access.log); KEEP=1 keeps them after the run.

# skopeo gets its own policy, an empty registries.conf and an empty auth file.
printf '{"default":[{"type":"insecureAcceptAnything"}]}\n' >"$WORK/policy.json"
: >"$WORK/registries.conf"
printf '{"auths":{}}\n' >"$WORK/auth.json"
# (Only in skopeo's environment: docker-registry reads REGISTRY_* variables as configuration.)
SKOPEO=(env "REGISTRY_AUTH_FILE=$WORK/auth.json" skopeo --policy "$WORK/policy.json" --registries-conf "$WORK/registries.conf")
SKOPEO_TLS=(--src-tls-verify=false --dest-tls-verify=false)

# ---------------------------------------------------------------- registries
LAB_PID=
cleanup() {
    if [ -n "$LAB_PID" ]; then
        kill -TERM "$LAB_PID" 2>/dev/null
        wait "$LAB_PID" 2>/dev/null
    fi
    if [ "${KEEP:-0}" = 1 ]; then
        log "kept $WORK"
    else
        rm -rf "$WORK"
    fi
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
[ -f "$WORK/lab/registries.json" ] || die "registries did not come up: $(cat "$WORK/lab.err")"
lab_field() { python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))[sys.argv[2]][sys.argv[3]])' "$WORK/lab/registries.json" "$1" "$2"; }
SRC=$(lab_field src host)
DST=$(lab_field dst host)
DST_LOG=$(lab_field dst log)
log "source $SRC, destination $DST"

# ---------------------------------------------------------------- seed
log "seeding S1 (one 4-arch index, small layers)"
S1_DIGEST=$("$LAB" seed --registry "$SRC" --archs "$ARCHS" --layers 65536,16384 --seed 1 s1/app:v1) ||
    die "seed S1 failed"
log "seeding S2 (12 builds x 4 arches, 4 MiB base shared per arch + 512 KiB)"
S2_TAGS=()
for i in $(seq -w 1 12); do S2_TAGS+=("b$i"); done
"$LAB" seed --registry "$SRC" --archs "$ARCHS" --layers 4M,512K --shared-base 2 --seed 100 \
    "${S2_TAGS[@]/#/s2/app:}" >"$WORK/s2.digests" || die "seed S2 failed"
log "seeding S4 (one image, one layer of $S4_SIZE bytes)"
"$LAB" blob-layout --dir "$WORK/s4-layout" --size "$S4_SIZE" --tag v1 --registry "$SRC" \
    --repo s4/big >"$WORK/s4.json" || die "seed S4 failed"
s4_field() { python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); print(d[sys.argv[2]][sys.argv[3]] if len(sys.argv)>3 else d[sys.argv[2]])' "$WORK/s4.json" "$@"; }
S4_DIGEST=$(s4_field digest)
S4_LAYER=$(s4_field layer path)
S4_LAYER_DIGEST=$(s4_field layer digest)
S4_LAYER_SIZE=$(s4_field layer size)

# ---------------------------------------------------------------- helpers
ACCEPT='application/vnd.oci.image.index.v1+json,application/vnd.docker.distribution.manifest.list.v2+json,application/vnd.oci.image.manifest.v1+json,application/vnd.docker.distribution.manifest.v2+json'

# digest HOST REPO REF: the Docker-Content-Digest the registry answers for a manifest.
digest() {
    curl -sS -f -I -H "Accept: $ACCEPT" "http://$1/v2/$2/manifests/$3" 2>/dev/null |
        awk 'tolower($1)=="docker-content-digest:"{print $2}' | tr -d '\r'
}
# expect_digest WHAT HOST REPO REF WANT
expect_digest() {
    local got
    got=$(digest "$2" "$3" "$4")
    [ "$got" = "$5" ] || fail "$1: $2/$3:$4 has digest '${got:-none}', expected $5"
}
# blob_present HOST REPO DIGEST SIZE
blob_present() {
    local len
    len=$(curl -sS -f -I "http://$1/v2/$2/blobs/$3" 2>/dev/null |
        awk 'tolower($1)=="content-length:"{print $2}' | tr -d '\r')
    [ "$len" = "$4" ]
}

clear_skopeo_cache() { rm -f "$SKOPEO_CACHE"; }

# timed SCENARIO TOOL ROUND CMD...: runs CMD under /usr/bin/time, records wall seconds, peak
# RSS and the requests the destination logged while it ran.
timed() {
    local scenario=$1 tool=$2 round=$3
    shift 3
    local tag="$scenario-$tool-$round" mark t0 t1 rc
    mark=$("$LAB" mark --log "$DST_LOG")
    [ "$tool" = skopeo ] && clear_skopeo_cache
    t0=$(date +%s%N)
    /usr/bin/time -f %M -o "$WORK/out/$tag.rss" "$@" >"$WORK/out/$tag.log" 2>&1
    rc=$?
    t1=$(date +%s%N)
    if [ "$rc" -ne 0 ]; then
        fail "$scenario $tool round $round: exit $rc: $*"
        tail -n 20 "$WORK/out/$tag.log" >&2
        return 1
    fi
    local secs rss counts
    secs=$(python3 -c "print(f'{($t1-$t0)/1e9:.4f}')")
    rss=$(tail -n 1 "$WORK/out/$tag.rss")
    counts=$("$LAB" count --log "$DST_LOG" --since-line "$mark" --json)
    # The destination's access-log lines of this run, for a look at where requests go.
    tail -n "+$((mark + 1))" "$DST_LOG" >"$WORK/out/$tag.access.log"
    local total
    total=$(python3 -c 'import json,sys; print(json.loads(sys.argv[1])["total"])' "$counts")
    printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$scenario" "$tool" "$round" "$secs" "$rss" "$total" \
        "$counts" >>"$RESULTS"
    log "$(printf '%-3s %-11s round %s: %7.3f s  rss %6d KiB  %4d dst requests' \
        "$scenario" "$tool" "$round" "$secs" "$rss" "$total")"
}

# Upload the S4 layer file with curl: POST, then one PUT with the body (monolithic).
# --upload-file streams the file; --data-binary @FILE reads it all into memory first and was
# ~40% slower here (1.3 s vs 1.85 s for 256 MiB), so the faster, stricter reference is used.
curl_put() {
    local repo=$1 loc sep
    loc=$(curl -sS -f -X POST -D - -o /dev/null "http://$DST/v2/$repo/blobs/uploads/" |
        awk 'tolower($1)=="location:"{print $2}' | tr -d '\r') || return 1
    [[ $loc == http* ]] || loc="http://$DST$loc"
    sep='?'
    [[ $loc == *\?* ]] && sep='&'
    curl -sS -f -o /dev/null -X PUT -H 'Expect:' -H 'Content-Type: application/octet-stream' \
        --upload-file "$S4_LAYER" "$loc${sep}digest=${S4_LAYER_DIGEST/:/%3A}"
}
# Upload the S4 layer file with curl: POST, PATCH with the body, PUT ?digest= without one.
curl_patch() {
    local repo=$1 loc sep
    loc=$(curl -sS -f -X POST -D - -o /dev/null "http://$DST/v2/$repo/blobs/uploads/" |
        awk 'tolower($1)=="location:"{print $2}' | tr -d '\r') || return 1
    [[ $loc == http* ]] || loc="http://$DST$loc"
    loc=$(curl -sS -f -X PATCH -D - -o /dev/null -H 'Expect:' \
        -H 'Content-Type: application/octet-stream' --upload-file "$S4_LAYER" "$loc" |
        awk 'tolower($1)=="location:"{print $2}' | tr -d '\r') || return 1
    [[ $loc == http* ]] || loc="http://$DST$loc"
    sep='?'
    [[ $loc == *\?* ]] && sep='&'
    curl -sS -f -o /dev/null -X PUT -H 'Content-Length: 0' "$loc${sep}digest=${S4_LAYER_DIGEST/:/%3A}"
}
export -f curl_put curl_patch
export DST S4_LAYER S4_LAYER_DIGEST

run_ferry() { [ "$NO_FERRY" != 1 ]; }

# Warm-up (untimed): the layer file into the page cache, the blob into the destination's
# store, so every timed S4 run meets the same registry state.
log "warm-up upload of the S4 layer"
cat "$S4_LAYER" >/dev/null
curl_put warmup/s4 || die "warm-up curl upload failed"
blob_present "$DST" warmup/s4 "$S4_LAYER_DIGEST" "$S4_LAYER_SIZE" || die "warm-up blob missing"

# ---------------------------------------------------------------- rounds
ID=$(date +%s)
LOAD_START=$(cut -d' ' -f1-3 /proc/loadavg)
for r in $(seq 1 "$ROUNDS"); do
    log "---- round $r of $ROUNDS"
    p="x$ID-r$r"

    # S1 (+ S5 from the same runs): one 4-arch image, fresh destination repository.
    if run_ferry; then
        timed S1 ferry "$r" "$FERRY" copy "${FERRY_FLAGS[@]}" "$SRC/s1/app:v1" "$DST/$p-ferry/s1/app:v1" &&
            expect_digest "S1 ferry" "$DST" "$p-ferry/s1/app" v1 "$S1_DIGEST"
    fi
    timed S1 skopeo "$r" "${SKOPEO[@]}" copy --all --preserve-digests "${SKOPEO_TLS[@]}" \
        "docker://$SRC/s1/app:v1" "docker://$DST/$p-skopeo/s1/app:v1" &&
        expect_digest "S1 skopeo" "$DST" "$p-skopeo/s1/app" v1 "$S1_DIGEST"

    # S2: sync 12 builds into a fresh repository; S3: the same sync again.
    # skopeo sync docker->docker appends the source repository's last component ("app")
    # to the destination, so both tools end at .../s2/app with the same tags.
    if run_ferry; then
        timed S2 ferry "$r" "$FERRY" sync "${FERRY_FLAGS[@]}" "$SRC/s2/app" "$DST/$p-ferry/s2/app"
    fi
    timed S2 skopeo "$r" "${SKOPEO[@]}" sync --all --preserve-digests --src docker --dest docker \
        "${SKOPEO_TLS[@]}" "$SRC/s2/app" "$DST/$p-skopeo/s2"
    if run_ferry; then
        timed S3 ferry "$r" "$FERRY" sync "${FERRY_FLAGS[@]}" "$SRC/s2/app" "$DST/$p-ferry/s2/app"
    fi
    timed S3 skopeo "$r" "${SKOPEO[@]}" sync --all --preserve-digests --src docker --dest docker \
        "${SKOPEO_TLS[@]}" "$SRC/s2/app" "$DST/$p-skopeo/s2"
    tools=(skopeo)
    run_ferry && tools=(ferry skopeo)
    for tool in "${tools[@]}"; do
        while read -r ref want; do
            expect_digest "S2 $tool" "$DST" "$p-$tool/s2/app" "${ref##*:}" "$want"
        done <"$WORK/s2.digests"
    done

    # S4 (+ M1): one big layer; the ingest reference is curl uploading the blob file.
    if run_ferry; then
        timed S4 ferry "$r" "$FERRY" copy "${FERRY_FLAGS[@]}" "$SRC/s4/big:v1" "$DST/$p-ferry/s4/big:v1" &&
            expect_digest "S4 ferry" "$DST" "$p-ferry/s4/big" v1 "$S4_DIGEST"
    fi
    timed S4 skopeo "$r" "${SKOPEO[@]}" copy --all --preserve-digests "${SKOPEO_TLS[@]}" \
        "docker://$SRC/s4/big:v1" "docker://$DST/$p-skopeo/s4/big:v1" &&
        expect_digest "S4 skopeo" "$DST" "$p-skopeo/s4/big" v1 "$S4_DIGEST"
    timed S4 curl-put "$r" bash -c 'curl_put "$1"' _ "$p-curlput/s4/big" &&
        { blob_present "$DST" "$p-curlput/s4/big" "$S4_LAYER_DIGEST" "$S4_LAYER_SIZE" ||
            fail "S4 curl-put: blob missing"; }
    timed S4 curl-patch "$r" bash -c 'curl_patch "$1"' _ "$p-curlpatch/s4/big" &&
        { blob_present "$DST" "$p-curlpatch/s4/big" "$S4_LAYER_DIGEST" "$S4_LAYER_SIZE" ||
            fail "S4 curl-patch: blob missing"; }
done

# ---------------------------------------------------------------- report
CPU=$(lscpu | awk -F: '/^Model name/{gsub(/^[ \t]+/, "", $2); print $2; exit}')
COMMIT=$(git -C "$ROOT" rev-parse HEAD 2>/dev/null || echo unknown)
DIRTY=$(git -C "$ROOT" status --porcelain 2>/dev/null | grep -qv '^??' && echo " (work tree has uncommitted changes)")
python3 - "$RESULTS" "$ROUNDS" "$(nproc)" "$CPU" "$COMMIT$DIRTY" "$S4_LAYER_SIZE" "$(skopeo --version)" \
    >"$WORK/report.md" <<'PY'
import json, statistics, sys, datetime
path, rounds, nproc, cpu, commit, s4_size, skopeo_version = sys.argv[1:8]
rows = [l.rstrip("\n").split("\t") for l in open(path) if l.strip()]
runs = {}
for scen, tool, rnd, secs, rss, total, methods in rows:
    runs.setdefault((scen, tool), []).append(
        {"round": int(rnd), "secs": float(secs), "rss": int(rss), "reqs": int(total),
         "methods": json.loads(methods)["methods"]})

def times(s, t):
    return [r["secs"] for r in runs.get((s, t), [])]

def med(xs):
    return statistics.median(xs) if xs else None

def fmt(xs):
    if not xs:
        return "n/a"
    return f"{min(xs):.3f} / {med(xs):.3f} / {max(xs):.3f}"

# S4 ingest: per round, the faster of curl PUT and curl PATCH+PUT.
put = {r["round"]: r["secs"] for r in runs.get(("S4", "curl-put"), [])}
patch = {r["round"]: r["secs"] for r in runs.get(("S4", "curl-patch"), [])}
ingest = [min(put[k], patch[k]) for k in sorted(set(put) & set(patch))]

def ratio(a, b):
    return a / b if a is not None and b else None

def verdict(x, limit):
    if x is None:
        return "n/a"
    return f"{x:.2f} ({'met' if x <= limit else 'MISSED'}, target <= {limit:.2f})"

out = []
w = out.append
w(f"Run {datetime.datetime.now().astimezone().isoformat(timespec='seconds')}, "
  f"{rounds} rounds (ferry, peer, ferry, peer, ...), `nproc` = {nproc}, CPU: {cpu}, "
  f"commit `{commit}`, {skopeo_version}.")
w("")
w("Wall seconds, min / median / max; ratio = ferry median / peer median.")
w("")
w("| id | work | ferry s | peer | peer s | ratio | target |")
w("|---|---|---|---|---|---|---|")
desc = {"S1": "4-arch image, small layers, fresh dest", "S2": "sync 12 builds x 4 arches",
        "S3": "same sync again (nothing to do)"}
limits = {"S1": 0.50, "S2": 0.35, "S3": 0.50}
for s in ("S1", "S2", "S3"):
    f, p = times(s, "ferry"), times(s, "skopeo")
    w(f"| {s} | {desc[s]} | {fmt(f)} | skopeo | {fmt(p)} | "
      f"{verdict(ratio(med(f), med(p)), limits[s])} | <= {limits[s]:.2f} |")
f4 = times("S4", "ferry")
size_mib = int(s4_size) / 2**20
w(f"| S4 | one {size_mib:.0f} MiB layer | {fmt(f4)} | ingest (curl, faster of PUT, PATCH+PUT) | "
  f"{fmt(ingest)} | {verdict(ratio(med(f4), med(ingest)), 1.10)} | <= 1.10 |")
sk4 = times("S4", "skopeo")
w(f"| S4 | one {size_mib:.0f} MiB layer | {fmt(f4)} | skopeo | {fmt(sk4)} | "
  f"{verdict(ratio(med(f4), med(sk4)), 1.00)} | <= skopeo |")
w("")
w(f"S4 ingest detail: curl PUT {fmt(list(put.values()))} s, curl PATCH+PUT "
  f"{fmt(list(patch.values()))} s.")
w("")

def reqs(s, t):
    return [r["reqs"] for r in runs.get((s, t), [])]

def methods(s, t):
    rs = runs.get((s, t), [])
    if not rs:
        return "n/a"
    m = rs[len(rs) // 2]["methods"]
    return " ".join(f"{k} {v}" for k, v in sorted(m.items()))

w("Requests the destination registry logged during each run (median; methods of one run):")
w("")
w("| scenario | ferry | ferry methods | skopeo | skopeo methods | ratio | target |")
w("|---|---|---|---|---|---|---|")
for s in ("S1", "S2", "S3", "S4"):
    f, p = med(reqs(s, "ferry")), med(reqs(s, "skopeo"))
    target = "<= 0.75 (S5)" if s == "S1" else ""
    r = ratio(f, p)
    rtxt = (verdict(r, 0.75) if s == "S1" else f"{r:.2f}") if r is not None else "n/a"
    fs = f"{f:.0f}" if f is not None else "n/a"
    ps = f"{p:.0f}" if p is not None else "n/a"
    w(f"| {s if s != 'S1' else 'S1 = S5'} | {fs} | {methods(s, 'ferry')} | {ps} | "
      f"{methods(s, 'skopeo')} | {rtxt} | {target} |")
w("")
w("Peak RSS (`/usr/bin/time -f %M`), max over rounds, MiB:")
w("")
w("| scenario | ferry | skopeo |")
w("|---|---|---|")
for s in ("S1", "S2", "S3", "S4"):
    def rss(t):
        xs = [r["rss"] for r in runs.get((s, t), [])]
        return f"{max(xs) / 1024:.1f}" if xs else "n/a"
    w(f"| {s} | {rss('ferry')} | {rss('skopeo')} |")
m1 = [r["rss"] / 1024 for r in runs.get(("S4", "ferry"), [])]
w("")
w(f"M1 (peak RSS of ferry in S4): "
  f"{(f'{max(m1):.1f} MiB ' + ('(met' if max(m1) <= 48 else '(MISSED') + ', target <= 48 MiB)') if m1 else 'n/a'}")
w("")
w("Every run, seconds:")
w("")
w("| scenario | tool | " + " | ".join(f"r{i}" for i in range(1, int(rounds) + 1)) + " |")
w("|---|---|" + "---|" * int(rounds))
for (s, t), rs in sorted(runs.items()):
    cells = {r["round"]: f"{r['secs']:.3f}" for r in rs}
    w(f"| {s} | {t} | " + " | ".join(cells.get(i, "-") for i in range(1, int(rounds) + 1)) + " |")
print("\n".join(out))
PY
[ $? -eq 0 ] || fail "report generation"
{
    echo
    echo "Load average (1/5/15 min) before the rounds: $LOAD_START; after: $(cut -d' ' -f1-3 /proc/loadavg)."
} >>"$WORK/report.md"
cat "$WORK/report.md"
if [ -n "${REPORT:-}" ]; then
    cp "$WORK/report.md" "$REPORT"
    log "report written to $REPORT"
fi
if [ "$FAILED" -ne 0 ]; then
    log "some runs FAILED (see above); work dir kept at $WORK"
    KEEP=1
    exit 1
fi
exit 0
