"""Drives a starshipd --demo with the Python client openapi-python-client
generated from its OpenAPI document (scripts/contract). Every call goes
through the generated code, and every answer must parse into the type the
document promises; an answer the document does not describe raises.

    PYTHONPATH=DIR python3 scripts/contract-smoke.py BASE_URL OPENAPI_JSON
"""

import http.cookies
import json
import sys
import uuid

from starship_client import AuthenticatedClient, Client
from starship_client.api.access import grant_roles, revoke_grant
from starship_client.api.session import create_token, list_tokens, revoke_token, sign_in
from starship_client.api.users import create_user, get_user, me, patch_user, search
from starship_client.models import (
    CreatedToken,
    GrantBody,
    GrantResult,
    Locale,
    NewToken,
    NewUserBody,
    Problem,
    ProfilePatch,
    RoleRequest,
    SignIn,
    UserProfile,
    UserStatus,
    UserSummary,
)

EMAIL = "mara.master@sunrise.example"
PASSWORD = "starship-demo-password"


def expect(condition, what):
    if not condition:
        raise SystemExit(f"contract: {what}")
    print(f"   ok  {what}")


def parsed(response, kind, status):
    """The answer's typed body, after checking its status and type."""
    if response.status_code != status or not isinstance(response.parsed, kind):
        raise SystemExit(
            f"contract: expected {status} with {kind.__name__}, got {response.status_code} "
            f"{type(response.parsed).__name__}: {response.content[:300]!r}"
        )
    return response.parsed


def main():
    base, document_path = sys.argv[1], sys.argv[2]
    with open(document_path, encoding="utf-8") as f:
        document = json.load(f)
    cookie_name = document["components"]["securitySchemes"]["session"]["name"]

    # Sign in through the API; the session cookie is named as the document says.
    anonymous = Client(base_url=base, raise_on_unexpected_status=True)
    signed_in = sign_in.sync_detailed(client=anonymous, body=SignIn(email=EMAIL, password=PASSWORD))
    profile = parsed(signed_in, UserProfile, 200)
    jar = http.cookies.SimpleCookie(signed_in.headers.get("set-cookie", ""))
    expect(cookie_name in jar, f"sign-in sets the `{cookie_name}` cookie of the `session` scheme")
    session = Client(base_url=base, cookies={cookie_name: jar[cookie_name].value}, raise_on_unexpected_status=True)

    # A personal token needs a session: a token cannot mint another one.
    created = parsed(create_token.sync_detailed(client=session, body=NewToken(name="contract")), CreatedToken, 201)
    expect(created.token and created.expires_at, "POST /api/v1/tokens with the session answers a CreatedToken")
    api = AuthenticatedClient(base_url=base, token=created.token, raise_on_unexpected_status=True)
    refused = parsed(create_token.sync_detailed(client=api, body=NewToken(name="minted by a token")), Problem, 403)
    expect(refused.status == 403, "POST /api/v1/tokens with a bearer token answers a 403 Problem")
    tokens = list_tokens.sync(client=api)
    expect(any(t.id == created.id for t in tokens), "GET /api/v1/tokens lists the new token")

    # Who am I, typed.
    mine = parsed(me.sync_detailed(client=api), UserProfile, 200)
    expect(mine.email == EMAIL and mine.id == profile.id, "GET /api/v1/me answers the signed-in UserProfile")
    expect(mine.status == UserStatus.ACTIVE and not mine.operator, "its status and operator flag are typed")
    partner_id = mine.partner.id

    # Search, query parameters in the query.
    found = parsed(search.sync_detailed(client=api, q="mara", limit=5), list, 200)
    expect(all(isinstance(u, UserSummary) for u in found), "GET /api/v1/users?q= answers UserSummary items")
    expect(any(u.id == mine.id for u in found), "the search finds the signed-in user")

    # Create a user, read it back, change it.
    email = f"contract.{uuid.uuid4().hex[:12]}@sunrise.example"
    body = NewUserBody(email=email, first_name="Casey", last_name="Contract", locale=Locale.FR_CA)
    new = parsed(create_user.sync_detailed(client=api, body=body), UserProfile, 201)
    expect(new.email == email and new.status == UserStatus.PENDING, "POST /api/v1/users answers the new UserProfile")
    again = parsed(get_user.sync_detailed(client=api, id=new.id), UserProfile, 200)
    expect(
        (again.id, again.email, again.first_name, again.last_name, again.locale, again.partner.id)
        == (new.id, email, "Casey", "Contract", "fr-CA", partner_id),
        "GET /api/v1/users/{id} reads back what was created, in the caller's partner",
    )
    taken = parsed(create_user.sync_detailed(client=api, body=body), Problem, 409)
    expect(taken.status == 409 and taken.type_, "the same email again answers a 409 Problem")
    patched = parsed(
        patch_user.sync_detailed(client=api, id=new.id, body=ProfilePatch(first_name="Cassie")), UserProfile, 200
    )
    expect(patched.first_name == "Cassie", "PATCH /api/v1/users/{id} changes the first name")

    # Grant a role and revoke it again.
    role = RoleRequest(application="backlot", role="content-partner-operations")
    granted = parsed(
        grant_roles.sync_detailed(client=api, body=GrantBody(user_ids=[new.id], roles=[role])), GrantResult, 200
    )
    expect(
        len(granted.granted) == 1 and granted.granted[0].user_id == new.id and granted.granted[0].newly_granted,
        "POST /api/v1/grants confirms the grant",
    )
    revoked = revoke_grant.sync_detailed(client=api, id=granted.granted[0].grant_id)
    expect(revoked.status_code == 204, "DELETE /api/v1/grants/{id} answers 204")
    missing = parsed(get_user.sync_detailed(client=api, id=str(uuid.uuid4())), Problem, 404)
    expect(missing.status == 404, "an unknown user id answers a 404 Problem")

    # The token ends when revoked.
    gone = revoke_token.sync_detailed(client=session, id=created.id)
    expect(gone.status_code == 204, "DELETE /api/v1/tokens/{id} answers 204")
    ended = parsed(me.sync_detailed(client=api), Problem, 401)
    expect(ended.status == 401, "the revoked token answers a 401 Problem")


if __name__ == "__main__":
    main()
