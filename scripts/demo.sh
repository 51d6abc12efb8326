#!/usr/bin/env bash
# make demo: two local registries (a build registry and a "public" one), a multi-arch
# build and its source image seeded, push items read from the build registry, a push
# that merges the new build into a list holding an architecture only the destination
# has, and the report. Everything runs on 127.0.0.1 and is removed at the end.
set -euo pipefail
cd "$(dirname "$0")/.."
FERRY=${FERRY:-target/release/ferry}
LAB=${LAB:-target/release/ferry-lab}
[ -x "$FERRY" ] && [ -x "$LAB" ] || { echo "build first: cargo build --release -p ferry-cli -p ferry-testkit" >&2; exit 1; }

WORK=$(mktemp -d /tmp/ferry-demo.XXXXXX)
LAB_PID=
cleanup() {
    [ -n "$LAB_PID" ] && kill "$LAB_PID" 2>/dev/null && wait "$LAB_PID" 2>/dev/null
    rm -rf "$WORK"
}
trap cleanup EXIT

bold() { printf '\n\033[1m== %s\033[0m\n' "$*"; }
run() { printf '$ %s\n' "$*" >&2; "$@"; }
json() { python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); print(eval(sys.argv[2]))' "$@"; }

"$LAB" serve --dir "$WORK/lab" --name build --name quay --no-stdin >"$WORK/lab.log" 2>&1 &
LAB_PID=$!
for _ in $(seq 1 200); do [ -s "$WORK/lab/registries.json" ] && break; sleep 0.05; done
[ -s "$WORK/lab/registries.json" ] || { cat "$WORK/lab.log" >&2; exit 1; }
BUILD=$(json "$WORK/lab/registries.json" 'd["build"]["host"]')
QUAY=$(json "$WORK/lab/registries.json" 'd["quay"]["host"]')
echo "build registry: $BUILD    public registry: $QUAY"

bold "1. The public registry already serves org/product/app:1.0 for amd64, arm64 and s390x"
"$LAB" seed --registry "$QUAY" org/product/app:1.0 --archs amd64,arm64,s390x --seed 1 \
    --label com.redhat.component=app-container >/dev/null
run "$FERRY" inspect "$QUAY/org/product/app:1.0" -o json >"$WORK/before.json"
echo "platforms: $(json "$WORK/before.json" '", ".join(d["platforms"])')"

bold "2. A new build lands in the build registry: amd64, arm64 and ppc64le (no s390x), and its source image"
"$LAB" seed --registry "$BUILD" rh-osbs/app:1.0 --archs amd64,arm64,ppc64le --seed 10 \
    --label com.redhat.component=app-container --label version=1.0
"$LAB" seed --registry "$BUILD" rh-osbs/app-source:1.0 --archs amd64 --single --source-image --seed 20

bold "3. Push items, read from the build registry"
run "$FERRY" items \
    "registry:?image=$BUILD/rh-osbs/app:1.0&dest=product/app,product/app:latest&dest_signing_key=199e2f91fd431d51" \
    "registry:?image=$BUILD/rh-osbs/app-source:1.0&dest=product/app-source" >"$WORK/items.yaml"
grep -E '^- |name:|arch:|dest:' "$WORK/items.yaml" | sed 's/^/  /'

bold "4. Target settings"
cat >"$WORK/target.yaml" <<YAML
registry: "$QUAY"
namespace: org
repo_layout: nested
multiarch: merge
tag_retries: 3
retry_wait: 1s
jobs: 8
YAML
sed 's/^/  /' "$WORK/target.yaml"

bold "5. The plan (--dry-run writes nothing)"
run "$FERRY" push --target "$WORK/target.yaml" --dry-run "$WORK/items.yaml"

bold "6. The push"
run "$FERRY" push --target "$WORK/target.yaml" "$WORK/items.yaml"

bold "7. The result: s390x, which only the public registry had, is kept"
run "$FERRY" inspect "$QUAY/org/product/app:1.0" -o json >"$WORK/after.json"
echo "platforms: $(json "$WORK/after.json" '", ".join(d["platforms"])')"
echo "skopeo (an independent client) agrees:"
skopeo inspect --raw --tls-verify=false "docker://$QUAY/org/product/app:1.0" \
    | python3 -c 'import json,sys; print("  " + ", ".join(m["platform"]["architecture"] for m in json.load(sys.stdin)["manifests"]))'
run "$FERRY" check --deep "$QUAY/org/product/app:1.0"

bold "8. The same push again writes nothing"
run "$FERRY" push --target "$WORK/target.yaml" "$WORK/items.yaml"
echo
echo "demo done."
