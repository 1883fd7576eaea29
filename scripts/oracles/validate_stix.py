#!/usr/bin/env python3
"""Validates STIX 2.1 bundles with the OASIS stix2-validator and every pattern with stix2-patterns.

Usage: validate_stix.py FILE...   (each FILE a bundle as printed by `stixgate convert`)
Prints one JSON document: per file, the object count, invalid objects with their errors, and
invalid patterns. Exit status 0 when everything is valid, 1 otherwise.
"""
import json
import sys

from stix2validator import ValidationOptions, validate_instance
from stix2patterns.validator import run_validator as validate_pattern


def main(paths):
    options = ValidationOptions(version="2.1", strict=False)
    report = {}
    ok = True
    for path in paths:
        with open(path, encoding="utf-8") as f:
            bundle = json.load(f)
        objects = bundle.get("objects", [])
        bad_objects = []
        bad_patterns = []
        for obj in objects:
            result = validate_instance(obj, options)
            if not result.is_valid:
                bad_objects.append({"id": obj.get("id"), "errors": [str(e) for e in result.errors][:5]})
            if obj.get("type") == "indicator" and obj.get("pattern_type", "stix") == "stix":
                errors = validate_pattern(obj["pattern"], stix_version="2.1")
                if errors:
                    bad_patterns.append({"id": obj.get("id"), "pattern": obj["pattern"][:300], "errors": [str(e) for e in errors][:3]})
        if bad_objects or bad_patterns:
            ok = False
        report[path] = {"objects": len(objects), "invalid_objects": bad_objects[:50], "invalid_count": len(bad_objects), "invalid_patterns": bad_patterns[:50], "invalid_pattern_count": len(bad_patterns)}
    json.dump(report, sys.stdout, indent=1)
    sys.stdout.write("\n")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
