#!/usr/bin/env python3
"""Converts MISP JSON files (an event, {"response": [...]}, or an attribute/object collection) to
STIX 2.1 with the reference converter misp-stix (MISPtoSTIX21Parser).

Usage: misp_to_stix.py FILE...
Prints one JSON document: {FILE: {"objects": [...], "errors": [...]}}. Exit status 0 unless a
file could not be read.
"""
import json
import sys

from misp_stix_converter import MISPtoSTIX21Parser


def convert(path):
    with open(path, encoding="utf-8") as f:
        content = json.load(f)
    parser = MISPtoSTIX21Parser()
    try:
        parser.parse_json_content(content)
    except Exception as e:  # noqa: BLE001 - the oracle reports, it does not stop
        return {"objects": [], "errors": [f"{type(e).__name__}: {e}"[:300]]}
    objects = [json.loads(o.serialize()) if hasattr(o, "serialize") else o for o in parser.stix_objects]
    errors = [str(e)[:300] for e in (parser.errors or {}).values()] if isinstance(parser.errors, dict) else [str(e)[:300] for e in (parser.errors or [])]
    return {"objects": objects, "errors": errors[:20]}


def main(paths):
    out = {}
    for path in paths:
        out[path] = convert(path)
    json.dump(out, sys.stdout)
    sys.stdout.write("\n")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
