"""Runs scim2-tester against a live starshipd: signs in as the demo
operator, mints a SCIM token for Sunrise Studios, checks /scim/v2 (every
resource type discovery lists: Users and Groups; scim2-tester has no checks
of /Bulk, which tests/api/scim_groups.rs covers), and exits non-zero on any
ERROR or CRITICAL result (or on a run that checked nothing, or one that
checked no Group)."""

import json
import sys
import urllib.request
from http.cookiejar import CookieJar

from httpx2 import Client
from scim2_client.engines.httpx2 import SyncSCIMClient
from scim2_tester import check_server
from scim2_tester.utils import Status

base = sys.argv[1]
opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(CookieJar()))


def call(method, path, body=None):
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(base + path, data=data, method=method)
    request.add_header("content-type", "application/json")
    with opener.open(request) as response:
        return json.loads(response.read() or b"null")


call("POST", "/api/v1/session", {"email": "operator@starship.example", "password": "starship-demo-password"})
partner = next(p for p in call("GET", "/api/v1/partners") if p["name"] == "Sunrise Studios")
token = call("POST", f"/api/v1/partners/{partner['id']}/scim-tokens", {"name": "scim2-tester"})["token"]

http = Client(base_url=f"{base}/scim/v2", headers={"Authorization": f"Bearer {token}"})
client = SyncSCIMClient(http)
results = check_server(client)

bad = {Status.ERROR, Status.CRITICAL}
counts = {}
for result in results:
    counts[result.status.name] = counts.get(result.status.name, 0) + 1
    if result.status in bad or result.status == Status.DEVIATION:
        print(f"{result.status.name}: {result.title}: {(result.description or '').strip().splitlines()[0]}")
        if result.status in bad and result.data is not None:
            print(f"    {str(result.data)[:600]}")
print(", ".join(f"{n} {name.lower()}" for name, n in sorted(counts.items())))
failed = sum(1 for r in results if r.status in bad)
groups_checked = sum(1 for r in results if r.status == Status.SUCCESS and "Group" in str(r.resource_type or ""))
print(f"scim2-tester: {groups_checked} checks of Groups passed")
if groups_checked == 0:
    failed += 1
passed = sum(1 for r in results if r.status not in bad and r.status != Status.SKIPPED)
print(f"scim2-tester: {passed} passed, {failed} failed")
sys.exit(1 if failed or passed == 0 else 0)
