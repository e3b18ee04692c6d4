"""schemathesis hooks for scripts/fuzz.

The fuzzer reads its own token's id in `GET /api/v1/tokens` and would revoke
it with `DELETE /api/v1/tokens/{id}` (the server is right to allow that),
leaving every later call a 401. It may revoke the spare token the script
made for it; its own id is swapped for an id that does not exist.
"""

import os

import schemathesis

OWN_TOKEN_ID = os.environ["FUZZ_OWN_TOKEN_ID"]


@schemathesis.hook
def before_call(context, case, kwargs):
    if (
        case.operation.method.upper() == "DELETE"
        and case.operation.path == "/api/v1/tokens/{id}"
        and (case.path_parameters or {}).get("id") == OWN_TOKEN_ID
    ):
        case.path_parameters["id"] = "00000000-0000-0000-0000-000000000000"
