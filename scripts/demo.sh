#!/usr/bin/env bash
# make demo: two local registries (a build registry and a "public" one), a multi-arch
# build and its source image seeded, push items read from the build registry, a push
# that merges the new build into a list holding an architecture only the destination
# has, signed with a throwaway gpg key as it is pushed, the report, and skopeo checking
# the signatures under a signedBy policy. Everything runs on 127.0.0.1 and is removed at
# the end.
set -euo pipefail
cd "$(dirname "$0")/.."
FERRY=${FERRY:-target/release/ferry}
LAB=${LAB:-target/release/ferry-lab}
[ -x "$FERRY" ] && [ -x "$LAB" ] || { echo "build first: cargo build --release -p ferry-cli -p ferry-testkit" >&2; exit 1; }

WORK=$(mktemp -d /tmp/ferry-demo.XXXXXX)
LAB_PID=
cleanup() {
    [ -d "$WORK/gnupg" ] && GNUPGHOME="$WORK/gnupg" gpgconf --kill all 2>/dev/null
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

bold "3. A throwaway signing key (gpg), and where signatures go (registries.d)"
export GNUPGHOME="$WORK/gnupg"
mkdir -m 700 "$GNUPGHOME"
echo "s2k-count 65536" >"$GNUPGHOME/gpg-agent.conf"
export DEMO_SIGN_PASSPHRASE="demo passphrase"
gpg --batch --pinentry-mode loopback --passphrase "$DEMO_SIGN_PASSPHRASE" \
    --quick-gen-key "ferry demo <demo@ferry.test>" default default never 2>/dev/null
FPR=$(gpg --batch --with-colons --list-secret-keys | awk -F: '$1 == "fpr" {print $10; exit}')
KEY_ID=${FPR: -16}
gpg --batch --pinentry-mode loopback --passphrase "$DEMO_SIGN_PASSPHRASE" \
    --armor --export-secret-keys "$FPR" >"$WORK/signing-key.asc"
gpg --batch --armor --export "$FPR" >"$WORK/signing-key.pub.asc"
mkdir "$WORK/registries.d"
cat >"$WORK/registries.d/demo.yaml" <<YAML
default-docker:
  lookaside: file://$WORK/sigstore
YAML
echo "key ID $KEY_ID; registries.d:"
sed 's/^/  /' "$WORK/registries.d/demo.yaml"

bold "4. Push items, read from the build registry (the app is to be signed with the key)"
run "$FERRY" items \
    "registry:?image=$BUILD/rh-osbs/app:1.0&dest=product/app,product/app:latest&dest_signing_key=$KEY_ID" \
    "registry:?image=$BUILD/rh-osbs/app-source:1.0&dest=product/app-source" >"$WORK/items.yaml"
grep -E '^- |name:|arch:|dest:|dest_signing_key:' "$WORK/items.yaml" | sed 's/^/  /'

bold "5. Target settings (signing: the key the items name, its passphrase from the environment)"
cat >"$WORK/target.yaml" <<YAML
registry: "$QUAY"
namespace: org
repo_layout: nested
multiarch: merge
tag_retries: 3
retry_wait: 1s
jobs: 8
signing:
  - key_id: "$KEY_ID"
    key_file: "$WORK/signing-key.asc"
    passphrase_env: DEMO_SIGN_PASSPHRASE
YAML
sed 's/^/  /' "$WORK/target.yaml"

bold "6. The plan (--dry-run writes nothing; it lists the signatures it would write)"
run "$FERRY" --registries.d "$WORK/registries.d" push --target "$WORK/target.yaml" --dry-run "$WORK/items.yaml"

bold "7. The push (each tag's list and its children signed once the tag is confirmed)"
run "$FERRY" --registries.d "$WORK/registries.d" push --target "$WORK/target.yaml" "$WORK/items.yaml"

bold "8. The result: s390x, which only the public registry had, is kept"
run "$FERRY" inspect "$QUAY/org/product/app:1.0" -o json >"$WORK/after.json"
echo "platforms: $(json "$WORK/after.json" '", ".join(d["platforms"])')"
echo "skopeo (an independent client) agrees:"
skopeo inspect --raw --tls-verify=false "docker://$QUAY/org/product/app:1.0" \
    | python3 -c 'import json,sys; print("  " + ", ".join(m["platform"]["architecture"] for m in json.load(sys.stdin)["manifests"]))'
run "$FERRY" check --deep "$QUAY/org/product/app:1.0"

bold "9. The same push again writes nothing (the signatures are present)"
run "$FERRY" --registries.d "$WORK/registries.d" push --target "$WORK/target.yaml" "$WORK/items.yaml"
echo "signature files: $(find "$WORK/sigstore" -type f | wc -l)"

bold "10. skopeo verifies the signatures: a policy that accepts org/product/app only signed by the key"
cat >"$WORK/policy.json" <<JSON
{
  "default": [{"type": "reject"}],
  "transports": {
    "docker": {
      "$QUAY/org/product/app": [
        {"type": "signedBy", "keyType": "GPGKeys", "keyPath": "$WORK/signing-key.pub.asc"}
      ]
    },
    "dir": {"": [{"type": "insecureAcceptAnything"}]}
  }
}
JSON
: >"$WORK/registries.conf"
for tag in 1.0 latest; do
    run skopeo --policy "$WORK/policy.json" --registries.d "$WORK/registries.d" \
        --registries-conf "$WORK/registries.conf" \
        copy --all --quiet --src-tls-verify=false \
        "docker://$QUAY/org/product/app:$tag" "dir:$WORK/verified-$tag"
done
echo "signature verification passed: skopeo accepted org/product/app:1.0 and :latest (every platform)"
# A tag the key never signed is refused under the same policy.
"$LAB" seed --registry "$QUAY" org/product/app:unsigned --archs amd64 --single --seed 30 >/dev/null
if skopeo --policy "$WORK/policy.json" --registries.d "$WORK/registries.d" \
    --registries-conf "$WORK/registries.conf" copy --quiet --src-tls-verify=false \
    "docker://$QUAY/org/product/app:unsigned" "dir:$WORK/refused" 2>"$WORK/refused.err"; then
    echo "skopeo accepted an unsigned tag: the policy is not checking" >&2
    exit 1
fi
grep -qi "signature" "$WORK/refused.err" || { cat "$WORK/refused.err" >&2; exit 1; }
echo "and skopeo refuses org/product/app:unsigned, which the key never signed:"
sed 's/^/  /' "$WORK/refused.err"
echo
echo "demo done."
