#!/usr/bin/env python3
"""Runs Splunk's own Python client (splunk-sdk) against a Splunk simulator and prints a JSON
report of each step. Usage: splunk_sdk_check.py <base-url> <username> <password> <app> [bearer]
Exit status 0 even when a step fails: the caller asserts on the report."""
import json
import sys
import traceback
from urllib.parse import urlparse

import splunklib.binding as binding
import splunklib.client as client


def main() -> None:
    base, user, password, app = sys.argv[1:5]
    bearer = sys.argv[5] if len(sys.argv) > 5 else None
    u = urlparse(base)
    out = {}

    def step(name, fn):
        try:
            out[name] = {"ok": True, "value": fn()}
        except Exception as e:  # report, never crash
            out[name] = {"ok": False, "error": f"{type(e).__name__}: {e}", "trace": traceback.format_exc()[-1500:]}

    service = client.connect(scheme=u.scheme, host=u.hostname, port=u.port, username=user, password=password, app=app, autologin=True)
    out["login"] = {"ok": bool(service.token), "value": str(service.token).split(" ")[0]}
    step("version", lambda: list(service.splunk_version))
    step("create", lambda: service.kvstore.create("sdk_check", fields={"score": "number", "value": "string"}).status)
    step("exists", lambda: "sdk_check" in service.kvstore)
    step("fields", lambda: {k: v for k, v in service.kvstore["sdk_check"].content.items() if k.startswith("field.")})
    try:
        coll = service.kvstore["sdk_check"]
    except Exception as e:
        out["collection"] = {"ok": False, "error": f"{type(e).__name__}: {e}"}
        print(json.dumps(out))
        return
    docs = [{"_key": f"k{i}", "value": f"10.0.0.{i}", "score": i * 10} for i in range(5)]
    step("batch_save", lambda: coll.data.batch_save(*docs))
    step("batch_save_again", lambda: coll.data.batch_save({"_key": "k1", "value": "10.0.0.1", "score": 99}))
    step("query", lambda: coll.data.query())
    step("query_filtered", lambda: coll.data.query(query=json.dumps({"score": {"$gte": 30}}), sort="score:-1", fields="_key,score"))
    step("query_by_id", lambda: coll.data.query_by_id("k1"))
    step("insert", lambda: coll.data.insert(json.dumps({"_key": "new", "value": "x"})))
    step("update", lambda: coll.data.update("new", json.dumps({"value": "y"})))
    step("delete_by_id", lambda: coll.data.delete_by_id("k0").status)
    step("query_after_delete", lambda: sorted(d["_key"] for d in coll.data.query()))
    step("delete_missing", lambda: coll.data.delete_by_id("k0").status)
    step("delete_query", lambda: coll.data.delete(json.dumps({"value": "y"})).status)
    step("count_after_delete_query", lambda: len(coll.data.query()))
    step("es_ip_intel", lambda: "ip_intel" in client.connect(scheme=u.scheme, host=u.hostname, port=u.port, username=user, password=password, owner="nobody", app="DA-ESS-ThreatIntelligence").kvstore)
    # Enterprise Security: the SDK writes an ip_intel row as splunk_es does (batch_save in DA-ESS-ThreatIntelligence)
    def es_batch_save():
        es = client.connect(scheme=u.scheme, host=u.hostname, port=u.port, username=user, password=password, owner="nobody", app="DA-ESS-ThreatIntelligence")
        ip_intel = es.kvstore["ip_intel"]
        ip_intel.data.batch_save({"_key": "sdk1", "ip": "198.51.100.7", "weight": 80, "threat_key": "sdk", "time": 1767225600})
        return ip_intel.data.query_by_id("sdk1")
    step("es_batch_save", es_batch_save)

    # an app that is not installed: splunkd answers 404 and the SDK raises HTTPError
    def unknown_app():
        s = client.connect(scheme=u.scheme, host=u.hostname, port=u.port, username=user, password=password, owner="nobody", app="no_such_app")
        return len(s.kvstore.list())
    step("unknown_app", unknown_app)

    if bearer:
        def with_bearer():
            s = client.connect(scheme=u.scheme, host=u.hostname, port=u.port, splunkToken=bearer, app=app)
            return len(s.kvstore["sdk_check"].data.query())
        step("bearer_query", with_bearer)

    def bad_login():
        try:
            client.connect(scheme=u.scheme, host=u.hostname, port=u.port, username=user, password="wrong")
            return "no error"
        except binding.AuthenticationError:
            return "AuthenticationError"
    step("bad_login", bad_login)
    step("delete_collection", lambda: service.kvstore.delete("sdk_check") is not None)
    step("exists_after_delete", lambda: "sdk_check" in service.kvstore)
    print(json.dumps(out))


if __name__ == "__main__":
    main()
