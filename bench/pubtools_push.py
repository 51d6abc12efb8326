#!/usr/bin/env python3
"""Scenario P1's reference: pubtools-quay's ContainerImagePusher pushing container images.

Runs inside the pubtools-quay venv that bench/run.sh creates. Usage:

    pubtools_push.py --settings SETTINGS.json --items ITEMS.json [--namespace NS]
                     [--time-file FILE]

SETTINGS.json is pubtools-quay target settings (bench/pubtools-target-settings.json with the
@...@ placeholders filled in by bench/run.sh). --namespace overrides its quay_namespace (each
timed round pushes into a fresh namespace). ITEMS.json is a list of
{"name": ..., "pull_url": "HOST/REPO:TAG", "digest": ..., "media_type": ...,
"dest": ["REPO:TAG", ...]}: the same builds and
destinations ferry gets in its items file.

What it does, as pub's push-docker task does before and around it:
- builds one pushsource ContainerImagePushItem per build (src = pull_url, dest = the
  destination repo:tag list) and turns it into the item pubtools-quay reads (attributes
  file_type / errors / metadata with pull_url, pull_data, tags {repo: [tag, ...]}, arch,
  build), the shape pub hands to pubtools-quay;
- calls ContainerImagePusher(items, target_settings).push_container_images(), which is what
  PushDocker.run() calls to push: per item it reads the source manifest list with its
  registry client (https, Bearer token from the realm), then runs `skopeo login` (checks
  with `skopeo login --get-login` first) and `skopeo copy --all` once per destination tag
  through its local executor, items 5 at a time (num_thread_container_push).

Nothing is stubbed: every registry request is real. PushDocker.run()'s other steps (Pyxis
repository checks, signing, backup mapping for rollback, security manifests, index images)
are not run and not timed: they talk to services this bench does not have and are not part
of the push that ferry's figure is compared with.

The push alone (ContainerImagePusher construction + push_container_images) is timed with
time.monotonic(); --time-file (default $TIME_FILE) gets those seconds (Python start-up and imports excluded, in
pubtools-quay's favour).
"""

import argparse
import json
import logging
import os
import sys
import time


class PubPushItem:
    """The push item pubtools-quay reads: pub's container push item (attributes only)."""

    def __init__(self, name, metadata):
        self.name = name
        self.file_type = "docker"
        self.errors = {}
        self.metadata = metadata

    def __repr__(self):
        return "PubPushItem(%s)" % self.name


def pushsource_item(entry):
    """A pushsource ContainerImagePushItem for one build (what pub's sources produce)."""
    from pushsource import (
        ContainerImageDigestPullSpec,
        ContainerImagePullInfo,
        ContainerImagePushItem,
        ContainerImageTagPullSpec,
    )

    src = entry["pull_url"]
    tag_spec = ContainerImageTagPullSpec._from_str(src)
    digest_spec = ContainerImageDigestPullSpec(
        registry=tag_spec.registry,
        repository=tag_spec.repository,
        digest=entry["digest"],
        media_type=entry["media_type"],
    )
    return ContainerImagePushItem(
        name=entry["name"],
        src=src,
        dest=list(entry["dest"]),
        pull_info=ContainerImagePullInfo(tag_specs=[tag_spec], digest_specs=[digest_spec]),
    )


def to_pub_item(ps_item):
    """pushsource item -> the metadata dict pubtools-quay's pusher reads."""
    tags = {}
    for dest in ps_item.dest:
        repo, tag = dest.rsplit(":", 1)
        tags.setdefault(repo, []).append(tag)
    return PubPushItem(
        ps_item.name,
        {
            "pull_url": ps_item.src,
            "pull_data": {"registry": ps_item.src.split("/", 1)[0]},
            "tags": tags,
            "arch": "amd64",
            "build": {},
        },
    )


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--settings", required=True)
    ap.add_argument("--items", required=True)
    ap.add_argument("--namespace")
    ap.add_argument("--time-file", default=os.environ.get("TIME_FILE"))
    args = ap.parse_args()

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")
    with open(args.settings) as f:
        settings = json.load(f)
    if args.namespace:
        settings["quay_namespace"] = args.namespace
    with open(args.items) as f:
        entries = json.load(f)

    from pubtools._quay.container_image_pusher import ContainerImagePusher

    items = [to_pub_item(pushsource_item(e)) for e in entries]

    t0 = time.monotonic()
    ContainerImagePusher(items, settings).push_container_images()
    secs = time.monotonic() - t0

    print("pubtools-quay ContainerImagePusher: %d items, %.3f s" % (len(items), secs))
    if args.time_file:
        with open(args.time_file, "w") as f:
            f.write("%.4f\n" % secs)
    return 0


if __name__ == "__main__":
    sys.exit(main())
