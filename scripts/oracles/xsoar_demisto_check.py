#!/usr/bin/env python3
"""Runs Palo Alto's own Python client (demisto-py, module demisto_client) against an XSOAR
simulator and prints a JSON report of each step.
Usage: xsoar_demisto_check.py <base-url> <mode> <api-key> [auth-id]
  mode: v6 (Authorization: key), v8 (x-xdr-auth-id + standard key), v8adv (advanced key hash)
Exit status 0 even when a step fails: the caller asserts on the report."""
import json
import sys
import traceback
import warnings

warnings.filterwarnings("ignore")

import demisto_client  # noqa: E402
from demisto_client.demisto_api.rest import ApiException  # noqa: E402
from demisto_client.demisto_api.models import (  # noqa: E402
    FeedIndicatorsRequest,
    GenericIndicatorUpdateBatch,
    IndicatorContext,
    IndicatorFilter,
    IocObject,
)


def field(ioc, attr, key):
    """demisto-py gives IocObject models from create/edit but plain dicts inside IndicatorResult."""
    return ioc.get(key) if isinstance(ioc, dict) else getattr(ioc, attr)


def view(ioc):
    """The client's view of an indicator: what it deserialised from the server's answer."""
    return {"id": field(ioc, "id", "id"), "value": field(ioc, "value", "value"),
            "type": field(ioc, "indicator_type", "indicator_type"), "score": field(ioc, "score", "score"),
            "manualScore": field(ioc, "manual_score", "manualScore"), "version": field(ioc, "version", "version"),
            "comment": field(ioc, "comment", "comment"), "customFields": field(ioc, "custom_fields", "CustomFields")}


def main() -> None:
    base, mode, key = sys.argv[1:4]
    auth_id = sys.argv[4] if len(sys.argv) > 4 else None
    out = {}

    def step(name, fn):
        try:
            out[name] = {"ok": True, "value": fn()}
        except ApiException as e:
            out[name] = {"ok": False, "status": e.status, "error": f"ApiException {e.status}", "body": (e.body or "")[:500]}
        except Exception as e:  # report, never crash
            out[name] = {"ok": False, "error": f"{type(e).__name__}: {e}", "trace": traceback.format_exc()[-1500:]}

    if mode == "v6":
        api = demisto_client.configure(base_url=base, api_key=key, verify_ssl=False)
    elif mode == "v8":
        api = demisto_client.configure(base_url=base, api_key=key, auth_id=auth_id, verify_ssl=False)
    else:
        api = demisto_client.configure(base_url=base, advanced_api_key=key, auth_id=auth_id, verify_ssl=False)
    out["host"] = {"ok": True, "value": api.api_client.configuration.host}

    created = {}

    def create(value, itype, score):
        ioc = api.indicators_create(ioc_object=IndicatorContext(
            indicator=IocObject(value=value, indicator_type=itype, score=score, manual_score=True, comment="demisto-py",
                                custom_fields={"tags": ["oracle"]}),
            seen_now=True))
        created[value] = ioc
        return view(ioc)

    step("create_ip", lambda: create("198.51.100.7", "IP", 3))
    step("create_domain", lambda: create("evil.example", "Domain", 2))
    step("create_again", lambda: create("198.51.100.7", "IP", 3))

    def feed():
        req = FeedIndicatorsRequest(indicators=[
            {"value": f"203.0.113.{i}", "type": "IP", "score": 2, "sourceBrand": "oracle"} for i in range(1, 6)
        ])
        return api.create_feed_indicators_json(req)
    step("feed", feed)

    def search(query, size=100, page=0):
        r = api.indicators_search(indicator_filter=IndicatorFilter(query=query, size=size, page=page))
        return {"total": r.total, "iocs": [view(i) for i in (r.ioc_objects or [])]}
    step("search_all", lambda: search(""))
    step("search_ip", lambda: search('value:"198.51.100.7"'))
    step("search_paged", lambda: search("sourceBrands:oracle", size=2, page=1))
    step("search_size0", lambda: api.indicators_search(indicator_filter=IndicatorFilter(query="")).total)

    def edit():
        cur = view(api.indicators_search(indicator_filter=IndicatorFilter(query='value:"evil.example"', size=1)).ioc_objects[0])
        ioc = api.indicators_edit(ioc_object=IocObject(id=cur["id"], version=cur["version"], value=cur["value"],
                                                       indicator_type=cur["type"], score=3, manual_score=True,
                                                       comment="edited"))
        return view(ioc)
    step("edit", edit)

    # the fields_via: edit path: CustomFields through indicators_edit; a field the server does not define is dropped
    def edit_fields():
        cur = view(api.indicators_search(indicator_filter=IndicatorFilter(query='value:"evil.example"', size=1)).ioc_objects[0])
        ioc = api.indicators_edit(ioc_object=IocObject(id=cur["id"], version=cur["version"], value=cur["value"], indicator_type=cur["type"],
                                                       custom_fields={**(cur["customFields"] or {}), "trafficlightprotocol": "AMBER", "nosuchfield": "x"}))
        return view(ioc)["customFields"]
    step("edit_fields", edit_fields)

    def stale_edit():
        old = created["evil.example"]
        api.indicators_edit(ioc_object=IocObject(id=old.id, version=old.version, value=old.value, score=1, manual_score=True))
        return "no error"
    step("stale_edit", stale_edit)

    def delete():
        ids = [view(i)["id"] for i in api.indicators_search(indicator_filter=IndicatorFilter(query="sourceBrands:oracle", size=100)).ioc_objects]
        r = api.delete_indicators_batch(generic_indicator_update_batch=GenericIndicatorUpdateBatch(
            ids=ids, all=False, do_not_whitelist=True, reason="demisto-py check"))
        return {"updatedIds": sorted(r.updated_ids or []), "notUpdated": r.not_updated}
    step("delete", delete)

    def delete_excluding():
        ioc = view(api.indicators_search(indicator_filter=IndicatorFilter(query='value:"198.51.100.7"', size=1)).ioc_objects[0])
        r = api.delete_indicators_batch(generic_indicator_update_batch=GenericIndicatorUpdateBatch(ids=[ioc["id"]], reason="false positive"))
        return {"updatedIds": r.updated_ids, "notUpdated": r.not_updated}
    step("delete_excluding", delete_excluding)
    step("final", lambda: search("", size=1000))

    def bad_key():
        if mode == "v6":
            bad = demisto_client.configure(base_url=base, api_key="wrong-key", verify_ssl=False)
        elif mode == "v8":
            bad = demisto_client.configure(base_url=base, api_key="wrong-key", auth_id=auth_id, verify_ssl=False)
        else:
            bad = demisto_client.configure(base_url=base, advanced_api_key="wrong-key", auth_id=auth_id, verify_ssl=False)
        bad.indicators_search(indicator_filter=IndicatorFilter(query="", size=1))
        return "no error"
    step("bad_key", bad_key)
    print(json.dumps(out, default=str))


if __name__ == "__main__":
    main()
