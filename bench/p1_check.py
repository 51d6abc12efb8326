#!/usr/bin/env python3
"""Scenario P1's check: what each tool landed in the destination registry.

    p1_check.py read --host HOST:PORT --user U --password-env VAR [--namespace NS] REPO:TAG...
        prints JSON {"REPO:TAG": {"digest": ..., "platforms": [...]}} for NS/REPO:TAG (digest
        null when the tag is missing); https without certificate checks, bearer tokens from the realm the
        registry names (Basic credentials).
    p1_check.py compare --want WANT.json --mode same-digest|same-platforms A.json B.json...
        WANT.json maps REPO:TAG to the source's {"digest", "platforms"}; each A.json (from
        read --namespace) maps the same REPO:TAG keys to what the tool landed. same-digest: every tag holds the source's digest; same-platforms:
        every tag holds the source's platforms (a merge may write a new list). Prints one
        line per problem and exits 1 when there is any.

Standard library only (runs with the system python3).
"""

import argparse
import base64
import json
import os
import re
import ssl
import sys
import urllib.error
import urllib.parse
import urllib.request

ACCEPT = ",".join(
    [
        "application/vnd.oci.image.index.v1+json",
        "application/vnd.docker.distribution.manifest.list.v2+json",
        "application/vnd.oci.image.manifest.v1+json",
        "application/vnd.docker.distribution.manifest.v2+json",
    ]
)
CTX = ssl.create_default_context()
CTX.check_hostname = False
CTX.verify_mode = ssl.CERT_NONE


def open_url(req):
    return urllib.request.urlopen(req, context=CTX, timeout=60)


class Reader:
    def __init__(self, host, user, password):
        self.base = "https://" + host
        self.basic = base64.b64encode(("%s:%s" % (user, password)).encode()).decode()
        self.tokens = {}

    def token(self, repo, challenge):
        if repo in self.tokens:
            return self.tokens[repo]
        params = dict(re.findall(r'(\w+)="([^"]*)"', challenge))
        query = urllib.parse.urlencode(
            {"service": params.get("service", ""), "scope": "repository:%s:pull" % repo}
        )
        req = urllib.request.Request(params["realm"] + "?" + query)
        req.add_header("Authorization", "Basic " + self.basic)
        with open_url(req) as r:
            body = json.load(r)
        self.tokens[repo] = body.get("token") or body["access_token"]
        return self.tokens[repo]

    def get(self, repo, ref):
        url = "%s/v2/%s/manifests/%s" % (self.base, repo, ref)
        for attempt in range(2):
            req = urllib.request.Request(url, headers={"Accept": ACCEPT})
            if repo in self.tokens:
                req.add_header("Authorization", "Bearer " + self.tokens[repo])
            try:
                with open_url(req) as r:
                    return r.headers.get("Docker-Content-Digest"), json.load(r)
            except urllib.error.HTTPError as e:
                if e.code == 401 and attempt == 0:
                    self.token(repo, e.headers.get("WWW-Authenticate", ""))
                    continue
                if e.code == 404:
                    return None, None
                raise
        return None, None

    def describe(self, ref):
        repo, tag = ref.rsplit(":", 1)
        digest, body = self.get(repo, tag)
        if digest is None:
            return {"digest": None, "platforms": []}
        plats = []
        for m in body.get("manifests", []):
            p = m.get("platform", {})
            plats.append(
                "/".join(x for x in (p.get("os"), p.get("architecture"), p.get("variant")) if x)
            )
        return {"digest": digest, "platforms": sorted(plats)}


def main():
    ap = argparse.ArgumentParser()
    sub = ap.add_subparsers(dest="cmd", required=True)
    r = sub.add_parser("read")
    r.add_argument("--host", required=True)
    r.add_argument("--user", required=True)
    r.add_argument("--password-env", required=True)
    r.add_argument("--namespace")
    r.add_argument("refs", nargs="+")
    c = sub.add_parser("compare")
    c.add_argument("--want", required=True)
    c.add_argument("--mode", choices=["same-digest", "same-platforms"], required=True)
    c.add_argument("files", nargs="+")
    a = ap.parse_args()

    if a.cmd == "read":
        password = os.environ.get(a.password_env)
        if not password:
            print("p1_check: $%s is not set" % a.password_env, file=sys.stderr)
            return 2
        reader = Reader(a.host, a.user, password)
        prefix = a.namespace + "/" if a.namespace else ""
        out = {ref: reader.describe(prefix + ref) for ref in a.refs}
        print(json.dumps(out, indent=1, sort_keys=True))
        return 0

    with open(a.want) as f:
        want = json.load(f)
    problems = 0
    for path in a.files:
        with open(path) as f:
            got = json.load(f)
        for ref, w in sorted(want.items()):
            g = got.get(ref)
            if g is None or g["digest"] is None:
                print("%s: %s is missing" % (path, ref))
                problems += 1
            elif a.mode == "same-digest" and g["digest"] != w["digest"]:
                print("%s: %s has %s, the source %s" % (path, ref, g["digest"], w["digest"]))
                problems += 1
            elif sorted(g["platforms"]) != sorted(w["platforms"]):
                print("%s: %s has platforms %s, the source %s"
                      % (path, ref, g["platforms"], w["platforms"]))
                problems += 1
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
