#!/usr/bin/env python3
"""Runs OASIS's taxii2-client against a stixgate TAXII 2.1 server and reports what it received.

Usage: taxii2_client_check.py DISCOVERY_URL API_KEY READ_COLLECTION_ID WRITE_COLLECTION_ID PAGE_SIZE ENVELOPE_FILE
Prints one JSON document: discovery, API root and collection information as the client parsed it,
every object and manifest entry read through as_pages (with the page sizes), one object and its
versions, and the status of add_objects (the envelope in ENVELOPE_FILE) to the writable collection.
"""
import json
import sys

import requests.auth
from taxii2client.v21 import Server, as_pages


class Bearer(requests.auth.AuthBase):
    def __init__(self, key):
        self.key = key

    def __call__(self, r):
        r.headers["Authorization"] = "Bearer " + self.key
        return r


def main(url, key, read_id, write_id, page_size, envelope_file):
    auth = Bearer(key)
    per_request = int(page_size)
    server = Server(url, auth=auth)
    report = {"title": server.title, "api_roots": [r.url for r in server.api_roots], "default": server.default.url if server.default else None}
    root = server.default
    report["root"] = {"title": root.title, "versions": root.versions, "max_content_length": root.max_content_length}
    cols = {c.id: c for c in root.collections}
    report["collections"] = [{"id": c.id, "title": c.title, "can_read": c.can_read, "can_write": c.can_write, "media_types": c.media_types} for c in root.collections]
    col = cols[read_id]
    objects, sizes = [], []
    for env in as_pages(col.get_objects, per_request=per_request):
        page = env.get("objects", [])
        sizes.append(len(page))
        objects.extend(page)
    report["objects"] = objects
    report["object_pages"] = sizes
    manifest = []
    for env in as_pages(col.get_manifest, per_request=per_request):
        manifest.extend(env.get("objects", []))
    report["manifest"] = manifest
    typed = col.get_objects(type="indicator", limit=per_request)
    report["typed_count"] = len(typed.get("objects", []))
    first = objects[0]["id"]
    report["one"] = col.get_object(first).get("objects", [])
    report["versions"] = col.object_versions(first).get("versions", [])
    with open(envelope_file, encoding="utf-8") as f:
        envelope = json.load(f)
    status = cols[write_id].add_objects(envelope)
    report["status"] = {"status": status.status, "total_count": status.total_count, "success_count": status.success_count, "failure_count": status.failure_count, "successes": status.successes, "failures": status.failures}
    json.dump(report, sys.stdout)
    sys.stdout.write("\n")
    return 0


if __name__ == "__main__":
    sys.exit(main(*sys.argv[1:]))
