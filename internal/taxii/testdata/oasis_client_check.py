"""Drives whodunit's TAXII 2.1 server with the OASIS reference client.

Run by TestOASISClient (oasis_test.go) as
    python3 oasis_client_check.py DISCOVERY_URL KEY ENVELOPE_FILE
with the client's package on PYTHONPATH. It prints one JSON document of
what the client saw; the Go test compares it with the store. Every call
goes through the client's own checks (media types, required members), so
an answer the client rejects ends the run with its error.
"""
import json
import sys

import requests
from taxii2client.v21 import Server, as_pages


def ids(envelope):
    return [o["id"] for o in envelope.get("objects", [])]


def page_all(func, per_request, **kw):
    out, pages = [], 0
    for env in as_pages(func, per_request=per_request, **kw):
        out += ids(env)
        pages += 1
    return out, pages


def manifest_all(coll, per_request):
    out = []
    for env in as_pages(coll.get_manifest, per_request=per_request):
        out += [m["id"] for m in env.get("objects", [])]
    return out


def status_code(call):
    try:
        call()
    except requests.HTTPError as e:
        return e.response.status_code
    return 200


def main():
    url, key, envelope_file = sys.argv[1:4]
    server = Server(url, user="oasis-client", password=key)
    root = server.api_roots[0]
    out = {
        "title": server.title,
        "api_roots": [r.url for r in server.api_roots],
        "default": server.default.url if server.default else None,
        "versions": root.versions,
        "max_content_length": root.max_content_length,
        "collections": [
            {"id": c.id, "alias": c.alias, "can_read": c.can_read, "can_write": c.can_write}
            for c in root.collections
        ],
    }
    by_alias = {c.alias: c for c in root.collections}
    intel = by_alias["intel"]
    out["intel_ids"], out["intel_pages"] = page_all(intel.get_objects, 7)
    out["intel_manifest_ids"] = manifest_all(intel, 7)
    out["intel_indicator_ids"], _ = page_all(intel.get_objects, 50, type="indicator")
    first = out["intel_ids"][0]
    out["get_object_ids"] = ids(intel.get_object(first))
    out["versions_of_first"] = intel.object_versions(first).get("versions", [])

    inbox = by_alias["inbox"]
    with open(envelope_file, encoding="utf-8") as f:
        posted = json.load(f)
    status = inbox.add_objects(posted, wait_for_completion=True, poll_interval=1, timeout=30)
    out["status"] = {
        "status": status.status,
        "total_count": status.total_count,
        "success_count": status.success_count,
        "failure_count": status.failure_count,
        "pending_count": status.pending_count,
        "successes": sorted(s["id"] for s in status.successes),
    }
    again = root.get_status(status.id)
    out["status_again"] = again.status
    target = posted["objects"][0]["id"]
    out["inbox_object_ids"] = ids(inbox.get_object(target))
    inbox.delete_object(target)
    out["after_delete"] = status_code(lambda: inbox.get_object(target))
    json.dump(out, sys.stdout)


if __name__ == "__main__":
    main()
