#!/usr/bin/env bash
# ferry vs skopeo (and vs the destination's own ingest), side by side on loopback registries;
# and (P1) ferry push vs pubtools-quay's ContainerImagePusher, the original it reimplements.
# Scenarios and targets: docs/performance.md (S1-S5, M1) and bench/RESULTS.md (P1). Usage:
#
#   bench/run.sh                      build, seed, ROUNDS rounds of S1-S4, report
#   SCENARIOS=P1 bench/run.sh         only P1 (make bench-pubtools); SCENARIOS="S1 S2 S3 S4 P1": all
#   ROUNDS=5 bench/run.sh             more rounds (default 3; runs alternate ferry, peer, ...)
#   REPORT=bench/last.md bench/run.sh also write the markdown report to a file
#
# Knobs (environment): ROUNDS, SKIP_BUILD=1 (use existing target/release binaries),
# NO_FERRY=1 (peers only: test the harness without ferry), FERRY_FLAGS (after the command; default
# "-q --tls-verify=false"), S4_SIZE (bytes, default 268435456), KEEP=1 (keep the work dir),
# WORK (work dir, default a fresh /tmp/ferry-bench.*), REPORT (file for the report).
# P1 knobs: PUBTOOLS_QUAY_VERSION (default 0.38.0), PUBTOOLS_VENV (default
# ~/.cache/ferry-bench/pq-VERSION; created with pip when missing, ~5 min; needs libkrb5-dev
# and gcc, installed with apt when krb5-config is missing), P1_BUILDS (default 8).
# P1 writes the test CAs of its two registries to /etc/containers/certs.d/HOST:PORT/ca.crt
# (where the skopeo that pubtools-quay runs looks) and removes them at the end: run as root.
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
run_ferry() { [ "$NO_FERRY" != 1 ]; }
ARCHS=amd64,arm64,ppc64le,s390x
SCENARIOS=${SCENARIOS:-S1 S2 S3 S4}
PUBTOOLS_QUAY_VERSION=${PUBTOOLS_QUAY_VERSION:-0.38.0}
PUBTOOLS_VENV=${PUBTOOLS_VENV:-${XDG_CACHE_HOME:-$HOME/.cache}/ferry-bench/pq-$PUBTOOLS_QUAY_VERSION}
P1_BUILDS=${P1_BUILDS:-8}
# want SCENARIO: whether SCENARIOS names it; want_s: any of S1-S4.
want() { [[ " $SCENARIOS " == *" $1 "* ]]; }
want_s() { want S1 || want S2 || want S3 || want S4; }
for s in $SCENARIOS; do
    case $s in S1 | S2 | S3 | S4 | P1) ;; *)
        echo "SCENARIOS: unknown scenario $s (S1 S2 S3 S4 P1)" >&2
        exit 2
        ;;
    esac
done

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
if want P1 && ! "$PUBTOOLS_VENV/bin/python" -c 'import pubtools._quay, pushsource' 2>/dev/null; then
    # pubtools-quay depends on gssapi bindings, built from source.
    command -v krb5-config >/dev/null || need_apt+=(libkrb5-dev)
    command -v gcc >/dev/null || need_apt+=(gcc)
    python3 -c 'import venv, ensurepip' 2>/dev/null || need_apt+=(python3-venv)
fi
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
if want P1; then
    [ -w /etc/containers ] || mkdir -p /etc/containers/certs.d 2>/dev/null ||
        die "P1 writes CAs under /etc/containers/certs.d: run as root"
    if ! "$PUBTOOLS_VENV/bin/python" -c 'import pubtools._quay, pushsource' 2>/dev/null; then
        # pushsource: the driver builds its items as pub's sources do.
        log "creating $PUBTOOLS_VENV with pubtools-quay==$PUBTOOLS_QUAY_VERSION (takes minutes)"
        python3 -m venv "$PUBTOOLS_VENV" &&
            "$PUBTOOLS_VENV/bin/pip" install -q "pubtools-quay==$PUBTOOLS_QUAY_VERSION" pushsource >&2 ||
            die "pip install pubtools-quay==$PUBTOOLS_QUAY_VERSION pushsource into $PUBTOOLS_VENV failed"
    fi
    PUBTOOLS_VERSION_SEEN=$("$PUBTOOLS_VENV/bin/python" -c \
        'import importlib.metadata as m; print(m.version("pubtools-quay"))') ||
        die "pubtools-quay in $PUBTOOLS_VENV does not import"
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
P1_LAB_PID=
P1_CERT_DIRS=()
cleanup() {
    for pid in $LAB_PID $P1_LAB_PID; do
        kill -TERM "$pid" 2>/dev/null
        wait "$pid" 2>/dev/null
    done
    for d in "${P1_CERT_DIRS[@]}"; do rm -rf "$d"; done
    if [ "${KEEP:-0}" = 1 ]; then
        log "kept $WORK"
    else
        rm -rf "$WORK"
    fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# wait_lab DIR PID: until DIR/registries.json appears.
wait_lab() {
    for _ in $(seq 300); do
        [ -f "$1/registries.json" ] && return 0
        kill -0 "$2" 2>/dev/null || die "ferry-lab serve exited: $(cat "$1.err")"
        sleep 0.1
    done
    die "registries did not come up: $(cat "$1.err")"
}
lab_field() { python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))[sys.argv[2]][sys.argv[3]])' "$WORK/lab/registries.json" "$1" "$2"; }
if want_s; then
    "$LAB" serve --dir "$WORK/lab" --name src --name dst --no-stdin >"$WORK/lab.out" 2>"$WORK/lab.err" &
    LAB_PID=$!
    wait_lab "$WORK/lab" "$LAB_PID"
    SRC=$(lab_field src host)
    DST=$(lab_field dst host)
    DST_LOG=$(lab_field dst log)
    log "source $SRC, destination $DST"
fi
if want P1; then
    # P1: both registries HTTPS (test CA) with a token realm, like a build registry and Quay.
    P1_USER=bench
    P1_PASSWORD=p1-$RANDOM$RANDOM
    export P1_PASSWORD
    "$LAB" serve --dir "$WORK/p1lab" --name build --name quay --tls \
        --token "$P1_USER:$P1_PASSWORD" --no-stdin >"$WORK/p1lab.out" 2>"$WORK/p1lab.err" &
    P1_LAB_PID=$!
    wait_lab "$WORK/p1lab" "$P1_LAB_PID"
    p1_field() { python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))[sys.argv[2]][sys.argv[3]])' "$WORK/p1lab/registries.json" "$1" "$2"; }
    P1_BUILD=$(p1_field build host)
    P1_QUAY=$(p1_field quay host)
    P1_QUAY_LOG=$(p1_field quay log)
    P1_BUILD_LOG=$(p1_field build log)
    # Both registries' processes: their CPU seconds per run are recorded (the floor of a run
    # on this machine is the registries' own work for the bytes).
    P1_REGISTRY_PIDS="$(pgrep -f "$(p1_field build root)/config.yml") $(pgrep -f "$(p1_field quay root)/config.yml")"
    mkdir -p "$WORK/p1-certs"
    for r in build quay; do
        host=$(p1_field "$r" host)
        cp "$(p1_field "$r" ca)" "$WORK/p1-certs/$r.crt"
        P1_CERT_DIRS+=("/etc/containers/certs.d/$host")
        mkdir -p "/etc/containers/certs.d/$host" &&
            cp "$(p1_field "$r" ca)" "/etc/containers/certs.d/$host/ca.crt" ||
            die "cannot write /etc/containers/certs.d/$host/ca.crt"
    done
    p1_auth=$(printf '%s:%s' "$P1_USER" "$P1_PASSWORD" | base64 -w0)
    printf '{"auths":{"%s":{"auth":"%s"},"%s":{"auth":"%s"}}}\n' \
        "$P1_BUILD" "$p1_auth" "$P1_QUAY" "$p1_auth" >"$WORK/p1-ferry-auth.json"
    # pubtools-quay's registry client (requests) verifies against $REQUESTS_CA_BUNDLE.
    cat "$WORK/p1-certs/build.crt" "$WORK/p1-certs/quay.crt" >"$WORK/p1-ca-bundle.pem"
    log "P1: build registry https://$P1_BUILD, quay https://$P1_QUAY (token realms)"
fi

# ---------------------------------------------------------------- seed
if want_s; then
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
fi
if want P1; then
    # P1: P1_BUILDS 4-arch builds (each image a 2 MiB + a 256 KiB layer of its own) in the
    # build registry; each goes to 3 tags of its own repository at "quay".
    P1_REFS=()
    P1_DESTS=()
    for i in $(seq -w 1 "$P1_BUILDS"); do
        P1_REFS+=("build/app-$i:1.0-$i")
        P1_DESTS+=("product/app-$i:1.0,product/app-$i:1.0-$i,product/app-$i:latest")
    done
    log "seeding P1 ($P1_BUILDS builds x 4 arches, 2 MiB + 256 KiB per image) into $P1_BUILD"
    # A label: configs without labels are source images, which ferry push never merges.
    "$LAB" seed --registry "https://$P1_BUILD" --creds "$P1_USER:$P1_PASSWORD" --archs "$ARCHS" \
        --label com.redhat.component=app \
        --layers 2M,256K --seed 500 --json "${P1_REFS[@]}" >"$WORK/p1-seed.json" ||
        die "seed P1 failed"
    # What each tool must land: every destination tag (flat Quay layout, product----app-NN)
    # with the source's digest (overwrite) or platforms (merge); the items for both tools.
    python3 - "$WORK" "$P1_BUILD" "${P1_REFS[@]}" <<'PY' || die "P1 items"
import json, sys
work, build, refs = sys.argv[1], sys.argv[2], sys.argv[3:]
seeded = {s["ref"]: s for s in json.load(open(f"{work}/p1-seed.json"))}
want, items = {}, []
for ref in refs:
    n = ref.split(":")[0].rsplit("-", 1)[1]
    dests = [f"product/app-{n}:{t}" for t in ("1.0", f"1.0-{int(n)}", "latest")]
    s = seeded[ref]
    items.append({"name": ref, "pull_url": f"{build}/{ref}", "digest": s["digest"],
                  "media_type": s["mediaType"], "dest": dests})
    for d in dests:
        repo, tag = d.split(":")
        want[f"{repo.replace('/', '----')}:{tag}"] = {
            "digest": s["digest"], "platforms": sorted(i["platform"] for i in s["images"])}
json.dump(items, open(f"{work}/p1-items.json", "w"), indent=1)
json.dump(want, open(f"{work}/p1-want.json", "w"), indent=1, sort_keys=True)
print("\n".join(sorted(want)), file=open(f"{work}/p1-refs.txt", "w"))
PY
    mapfile -t P1_CHECK_REFS <"$WORK/p1-refs.txt"
    # ferry's items: read from the build registry by `ferry items` (untimed).
    p1_urls=()
    while read -r name url dests; do
        p1_urls+=("registry:?image=$url&dest=$dests")
    done < <(python3 -c 'import json,sys
for i in json.load(open(sys.argv[1])): print(i["name"], i["pull_url"], ",".join(i["dest"]))' \
        "$WORK/p1-items.json")
    if run_ferry; then
        FERRY_PASSWORD=$P1_PASSWORD "$FERRY" items -q --cert-dir "$WORK/p1-certs" --creds "$P1_USER" \
            "${p1_urls[@]}" >"$WORK/p1-items.yaml" || die "ferry items for P1 failed"
    fi
    # pubtools-quay's target settings: bench/pubtools-target-settings.json filled in.
    sed -e "s|@QUAY_HOST@|$P1_QUAY|; s|@BUILD_HOST@|$P1_BUILD|; s|@USER@|$P1_USER|g" \
        -e "s|@PASSWORD@|$P1_PASSWORD|g; s|@QUAY_NAMESPACE@|unset|" \
        "$ROOT/bench/pubtools-target-settings.json" >"$WORK/p1-pubtools-settings.json"
fi

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

# proc_cpu PID...: the CPU time (user + system, clock ticks) the processes have used so far.
proc_cpu() {
    local sum=0 p
    for p in "$@"; do
        [ -r "/proc/$p/stat" ] && sum=$((sum + $(awk '{print $14 + $15}' "/proc/$p/stat")))
    done
    echo "$sum"
}
# timed SCENARIO TOOL ROUND CMD...: runs CMD under /usr/bin/time, records wall seconds, peak
# RSS, the requests the destination (TIMED_LOG, default DST_LOG) logged while it ran and the
# CPU seconds the processes in TIMED_CPU_PIDS (P1: both registries) used meanwhile.
# A command that writes its own seconds to $TIME_FILE (P1's pubtools-quay driver: the push
# without Python's start-up) is recorded with those; the wall time is kept as well.
timed() {
    local scenario=$1 tool=$2 round=$3
    shift 3
    local tag="$scenario-$tool-$round" mark t0 t1 rc logf=${TIMED_LOG:-${DST_LOG:-}}
    mark=$("$LAB" mark --log "$logf")
    local cpu0
    cpu0=$(proc_cpu ${TIMED_CPU_PIDS:-})
    [[ $tool == skopeo || $tool == pubtools* ]] && clear_skopeo_cache
    export TIME_FILE="$WORK/out/$tag.inner"
    rm -f "$TIME_FILE"
    t0=$(date +%s%N)
    /usr/bin/time -f %M -o "$WORK/out/$tag.rss" "$@" >"$WORK/out/$tag.log" 2>&1
    rc=$?
    t1=$(date +%s%N)
    local regcpu
    regcpu=$(python3 -c "print(f'{($(proc_cpu ${TIMED_CPU_PIDS:-}) - $cpu0) / $(getconf CLK_TCK):.2f}')")
    if [ "$rc" -ne 0 ]; then
        fail "$scenario $tool round $round: exit $rc: $*"
        tail -n 20 "$WORK/out/$tag.log" >&2
        return 1
    fi
    local secs wall rss counts
    wall=$(python3 -c "print(f'{($t1-$t0)/1e9:.4f}')")
    secs=$wall
    [ -s "$TIME_FILE" ] && secs=$(head -n 1 "$TIME_FILE")
    rss=$(tail -n 1 "$WORK/out/$tag.rss")
    counts=$("$LAB" count --log "$logf" --since-line "$mark" --json)
    # The destination's access-log lines of this run, for a look at where requests go.
    tail -n "+$((mark + 1))" "$logf" >"$WORK/out/$tag.access.log"
    local total
    total=$(python3 -c 'import json,sys; print(json.loads(sys.argv[1])["total"])' "$counts")
    printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$scenario" "$tool" "$round" "$secs" "$rss" "$total" \
        "$counts" "$wall" "$regcpu" >>"$RESULTS"
    log "$(printf '%-3s %-15s round %s: %7.3f s (wall %7.3f)  rss %6d KiB  %4d dst requests' \
        "$scenario" "$tool" "$round" "$secs" "$wall" "$rss" "$total")"
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


# Warm-up (untimed): the layer file into the page cache, the blob into the destination's
# store, so every timed S4 run meets the same registry state.
if want S4; then
    log "warm-up upload of the S4 layer"
    cat "$S4_LAYER" >/dev/null
    curl_put warmup/s4 || die "warm-up curl upload failed"
    blob_present "$DST" warmup/s4 "$S4_LAYER_DIGEST" "$S4_LAYER_SIZE" || die "warm-up blob missing"
fi

# ---------------------------------------------------------------- P1
# p1_check_landed TOOL ROUND NAMESPACE MODE: reads every destination tag the tool wrote and
# compares with the source (same-digest or same-platforms).
p1_check_landed() {
    local out="$WORK/out/P1-$1-$2.landed.json"
    python3 "$ROOT/bench/p1_check.py" read --host "$P1_QUAY" --user "$P1_USER" \
        --password-env P1_PASSWORD --namespace "$3" "${P1_CHECK_REFS[@]}" >"$out" ||
        { fail "P1 $1 round $2: cannot read what it landed"; return 1; }
    python3 "$ROOT/bench/p1_check.py" compare --want "$WORK/p1-want.json" --mode "$4" "$out" >&2 ||
        fail "P1 $1 round $2: the destination does not hold the source's images ($4)"
}
# p1_ferry MODE NAMESPACE: ferry push of the P1 items with multiarch MODE into NAMESPACE.
p1_ferry() {
    local target="$WORK/p1-target-$2.yaml"
    cat >"$target" <<YAML
registry: "$P1_QUAY"
namespace: "$2"
repo_layout: flat
multiarch: $1
source_credentials: {username: "$P1_USER", password_env: P1_PASSWORD}
dest_credentials: {username: "$P1_USER", password_env: P1_PASSWORD}
YAML
    # --authfile: ferry push applies source_credentials only to the hosts of registry: source
    # URLs, not to the pull specs of items read from a file, so the build registry's
    # credentials come from a docker-format auth file (as in pub's environment).
    "$FERRY" push -q --cert-dir "$WORK/p1-certs" --authfile "$WORK/p1-ferry-auth.json" \
        --target "$target" "$WORK/p1-items.yaml"
}
# p1_ferry_pubtools NAMESPACE: ferry push given pubtools-quay's own settings file (the one
# p1_pubtools gets, its quay_namespace set to NAMESPACE) and nothing else: no credentials flag,
# no --cert-dir (the CAs are in /etc/containers/certs.d, where pubtools-quay's skopeo reads
# them too), ferry's defaults (multiarch: merge).
p1_ferry_pubtools() {
    local settings="$WORK/p1-pubtools-settings-$1.json"
    python3 -c 'import json,sys; s=json.load(open(sys.argv[1])); s["quay_namespace"]=sys.argv[2]; json.dump(s, open(sys.argv[3], "w"), indent=1)' \
        "$WORK/p1-pubtools-settings.json" "$1" "$settings"
    "$FERRY" push -q --target "$settings" "$WORK/p1-items.yaml"
}
# p1_pubtools NAMESPACE: pubtools-quay's ContainerImagePusher, with a fresh skopeo auth file
# (each pub task starts logged out; it logs in to both registries itself).
p1_pubtools() {
    env REGISTRY_AUTH_FILE="$WORK/p1-auth-$1.json" REQUESTS_CA_BUNDLE="$WORK/p1-ca-bundle.pem" \
        "$PUBTOOLS_VENV/bin/python" \
        "$ROOT/bench/pubtools_push.py" --settings "$WORK/p1-pubtools-settings.json" \
        --items "$WORK/p1-items.json" --namespace "$1"
}
# p1_round ROUND PREFIX: ferry (merge), pubtools-quay, ferry (overwrite), each into a fresh
# namespace; then what each landed is checked.
p1_round() {
    local r=$1 ns="$2-p1" TIMED_LOG=$P1_QUAY_LOG TIMED_CPU_PIDS=$P1_REGISTRY_PIDS
    if run_ferry; then
        timed P1 ferry-merge "$r" bash -c 'p1_ferry "$@"' _ merge "$ns-ferry-merge" &&
            p1_check_landed ferry-merge "$r" "$ns-ferry-merge" same-platforms
    fi
    timed P1 pubtools-quay "$r" bash -c 'p1_pubtools "$@"' _ "$ns-pubtools" &&
        p1_check_landed pubtools-quay "$r" "$ns-pubtools" same-digest
    if run_ferry; then
        timed P1 ferry-overwrite "$r" bash -c 'p1_ferry "$@"' _ overwrite "$ns-ferry-overwrite" &&
            p1_check_landed ferry-overwrite "$r" "$ns-ferry-overwrite" same-digest
        # The drop-in check: pubtools-quay's settings file alone; the same tags and digests
        # as pubtools-quay landed (both are compared with the source's digests).
        timed P1 ferry-pubtools-settings "$r" bash -c 'p1_ferry_pubtools "$@"' _ "$ns-ferry-pq" &&
            p1_check_landed ferry-pubtools-settings "$r" "$ns-ferry-pq" same-digest
    fi
}
export -f p1_ferry p1_ferry_pubtools p1_pubtools
export FERRY WORK ROOT P1_QUAY P1_USER PUBTOOLS_VENV

# ---------------------------------------------------------------- rounds
ID=$(date +%s)
LOAD_START=$(cut -d' ' -f1-3 /proc/loadavg)
for r in $(seq 1 "$ROUNDS"); do
    log "---- round $r of $ROUNDS"
    p="x$ID-r$r"

    if want S1; then
        # S1 (+ S5 from the same runs): one 4-arch image, fresh destination repository.
        if run_ferry; then
            timed S1 ferry "$r" "$FERRY" copy "${FERRY_FLAGS[@]}" "$SRC/s1/app:v1" "$DST/$p-ferry/s1/app:v1" &&
                expect_digest "S1 ferry" "$DST" "$p-ferry/s1/app" v1 "$S1_DIGEST"
        fi
        timed S1 skopeo "$r" "${SKOPEO[@]}" copy --all --preserve-digests "${SKOPEO_TLS[@]}" \
            "docker://$SRC/s1/app:v1" "docker://$DST/$p-skopeo/s1/app:v1" &&
            expect_digest "S1 skopeo" "$DST" "$p-skopeo/s1/app" v1 "$S1_DIGEST"
    fi

    if want S2 || want S3; then
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
    fi

    if want S4; then
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
    fi

    want P1 && p1_round "$r" "$p"
done

# ---------------------------------------------------------------- report
CPU=$(lscpu | awk -F: '/^Model name/{gsub(/^[ \t]+/, "", $2); print $2; exit}')
COMMIT=$(git -C "$ROOT" rev-parse HEAD 2>/dev/null || echo unknown)
DIRTY=$(git -C "$ROOT" status --porcelain 2>/dev/null | grep -qv '^??' && echo " (work tree has uncommitted changes)")
python3 - "$RESULTS" "$ROUNDS" "$(nproc)" "$CPU" "$COMMIT$DIRTY" "${S4_LAYER_SIZE:-0}" "$(skopeo --version)" \
    "${PUBTOOLS_VERSION_SEEN:-}" "$P1_BUILDS" >"$WORK/report.md" <<'PY'
import json, statistics, sys, datetime
path, rounds, nproc, cpu, commit, s4_size, skopeo_version, pubtools_version, p1_builds = sys.argv[1:10]
rows = [l.rstrip("\n").split("\t") for l in open(path) if l.strip()]
runs = {}
for scen, tool, rnd, secs, rss, total, methods, wall, regcpu in rows:
    runs.setdefault((scen, tool), []).append(
        {"round": int(rnd), "secs": float(secs), "rss": int(rss), "reqs": int(total),
         "regcpu": float(regcpu),
         "methods": json.loads(methods)["methods"], "wall": float(wall),
         "statuses": json.loads(methods).get("statuses", {})})

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
def reqs(s, t):
    return [r["reqs"] for r in runs.get((s, t), [])]

def methods(s, t):
    rs = runs.get((s, t), [])
    if not rs:
        return "n/a"
    m = rs[len(rs) // 2]["methods"]
    return " ".join(f"{k} {v}" for k, v in sorted(m.items()))

if any(k[0].startswith("S") for k in runs):
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
if any(k[0] == "P1" for k in runs):
    pt = times("P1", "pubtools-quay")
    ptw = [r["wall"] for r in runs.get(("P1", "pubtools-quay"), [])]
    w(f"P1: ferry push vs pubtools-quay {pubtools_version} ContainerImagePusher (local skopeo "
      f"executor, 5 threads): {p1_builds} builds x 4 arches (2 MiB + 256 KiB layers per "
      f"image), each to 3 tags, build registry -> \"quay\", both HTTPS + token realm, fresh "
      f"namespace per run. pubtools-quay's seconds are its push alone (without Python "
      f"start-up: wall {fmt(ptw)} s).")
    w("")
    w("| tool | s (min / median / max) | ratio to pubtools-quay | target |")
    w("|---|---|---|---|")
    w(f"| pubtools-quay | {fmt(pt)} | 1 | |")
    names = {"ferry-merge": "ferry push, multiarch: merge",
             "ferry-overwrite": "ferry push, multiarch: overwrite",
             "ferry-pubtools-settings": "ferry push --target (pubtools-quay's settings file)"}
    for t, lim in (("ferry-merge", 0.15), ("ferry-overwrite", None),
                   ("ferry-pubtools-settings", 0.15)):
        f = times("P1", t)
        if not f:
            continue
        r = ratio(med(f), med(pt))
        shown = verdict(r, lim) if lim else (f"{r:.2f}" if r is not None else "n/a")
        w(f"| {names[t]} | {fmt(f)} | {shown} | {'<= 0.15' if lim else ''} |")
    w("")
    # The floor: the CPU the two registries spend per run (TLS, hashing, storing, serving the
    # bytes), shared by every tool: on nproc cores no run can be shorter than that / nproc.
    w("CPU seconds the two registries used per run (median) and the floor it sets on this "
      f"machine ({nproc} cores: registries' CPU / {nproc}; ratio to pubtools-quay's median):")
    w("")
    w("| tool | registries' CPU s | floor s | floor ratio |")
    w("|---|---|---|---|")
    for t in ("pubtools-quay", "ferry-merge", "ferry-overwrite", "ferry-pubtools-settings"):
        c = med([x["regcpu"] for x in runs.get(("P1", t), [])])
        if c is None:
            continue
        fl = c / int(nproc)
        fr = ratio(fl, med(pt))
        w(f"| {t} | {c:.2f} | {fl:.2f} | {f'{fr:.2f}' if fr is not None else 'n/a'} |")
    w("")
    w("Requests the \"quay\" registry logged per run (median; methods and statuses of one run):")
    w("")
    w("| tool | requests | methods | statuses |")
    w("|---|---|---|---|")
    for t in ("pubtools-quay", "ferry-merge", "ferry-overwrite", "ferry-pubtools-settings"):
        rq = med(reqs("P1", t))
        rs = runs.get(("P1", t), [])
        st = (" ".join(f"{k} {v}" for k, v in sorted(rs[len(rs) // 2]["statuses"].items()))
              if rs else "n/a")
        w(f"| {t} | {f'{rq:.0f}' if rq is not None else 'n/a'} | {methods('P1', t)} | {st} |")
    w("")
    w("Peak RSS, MiB (max over rounds; pubtools-quay: its largest process, Python or one "
      "skopeo): " + ", ".join(
        f"{t} {max(r['rss'] for r in runs[('P1', t)]) / 1024:.1f}"
        for t in ("pubtools-quay", "ferry-merge", "ferry-overwrite", "ferry-pubtools-settings")
        if ("P1", t) in runs))
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
