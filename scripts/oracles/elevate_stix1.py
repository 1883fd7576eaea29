#!/usr/bin/env python3
"""Converts STIX 1.x packages to STIX 2.1 with the OASIS stix2-elevator (the reference converter).

Usage: elevate_stix1.py FILE...
Prints one JSON document: per file, {"objects": [...]} (the elevator's bundle objects) or
{"error": "..."}. Options are those of the elevator's own idiom tests: spec_version 2.1,
missing_policy ignore, incidents on, policy no_policy. Used by
test/integration/stix1-elevator.itest.ts to compute the agreement figures in
integrations/stix1/README.md.
"""
import contextlib
import io
import json
import sys
import warnings

# stixmarx 1.0.8 names lxml.etree._ElementStringResult, which lxml 5.1 removed (text results are
# all _ElementUnicodeResult now): alias it so the elevator runs with the lxml the venv holds.
from lxml import etree

if not hasattr(etree, "_ElementStringResult"):
    etree._ElementStringResult = etree._ElementUnicodeResult

# the elevator imports maec, which prints a numpy notice on stdout: keep stdout for the report
with contextlib.redirect_stdout(io.StringIO()):
    from stix2elevator import elevate
    from stix2elevator.options import initialize_options

OPTIONS = {"spec_version": "2.1", "missing_policy": "ignore", "incidents": True, "policy": "no_policy", "silent": True}


def main(paths):
    warnings.simplefilter("ignore")
    report = {}
    for path in paths:
        initialize_options(options=OPTIONS)
        sink = io.StringIO()
        try:
            with contextlib.redirect_stdout(sink), contextlib.redirect_stderr(sink):
                text = elevate(path)
            bundle = json.loads(text) if text else None
            report[path] = {"objects": bundle.get("objects", []) if bundle else []}
        except Exception as e:  # one package the elevator cannot read is a row, not a failed run
            report[path] = {"error": f"{type(e).__name__}: {e}"[:500]}
    json.dump(report, sys.stdout)
    sys.stdout.write("\n")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
