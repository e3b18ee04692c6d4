//! What every operation of the OpenAPI document shares, written once:
//! how callers authenticate, the answers the extractors give before a
//! handler runs, problem bodies as `application/problem+json`, and the
//! links from a created resource to the operations that read, change and
//! remove it (generated clients and schemathesis's stateful phase follow
//! them).

use utoipa::openapi::extensions::Extensions;
use utoipa::openapi::link::Link;
use utoipa::openapi::path::{Operation, ParameterIn};
use utoipa::openapi::security::{ApiKey, ApiKeyValue, Http, HttpAuthScheme, SecurityRequirement, SecurityScheme};
use utoipa::openapi::{Content, OpenApi, PathItem, RefOr, Response};
use utoipa::Modify;

use crate::extract::SESSION_COOKIE;

/// The document `/api/v1/openapi.json` serves.
pub fn document() -> serde_json::Value {
    let mut doc = serde_json::to_value(<super::ApiDoc as utoipa::OpenApi>::openapi())
        .expect("the OpenAPI document is plain data");
    camel_case_links(&mut doc);
    doc
}

/// utoipa 5 writes a link's `operationId` and `requestBody` in snake case
/// (fixed in utoipa 6); OpenAPI readers know only the camel-case names.
fn camel_case_links(doc: &mut serde_json::Value) {
    let Some(paths) = doc.get_mut("paths").and_then(|p| p.as_object_mut()) else { return };
    let links = paths
        .values_mut()
        .filter_map(|item| item.as_object_mut())
        .flat_map(|item| item.values_mut())
        .filter_map(|operation| operation.get_mut("responses").and_then(|r| r.as_object_mut()))
        .flat_map(|responses| responses.values_mut())
        .filter_map(|response| response.get_mut("links").and_then(|l| l.as_object_mut()))
        .flat_map(|links| links.values_mut())
        .filter_map(|link| link.as_object_mut());
    for link in links {
        for (snake, camel) in
            [("operation_id", "operationId"), ("operation_ref", "operationRef"), ("request_body", "requestBody")]
        {
            if let Some(value) = link.remove(snake) {
                link.insert(camel.to_string(), value);
            }
        }
    }
}

const PROBLEM_MEDIA_TYPE: &str = "application/problem+json";
const PROBLEM_REF: &str = "#/components/schemas/Problem";

/// Adds the shared parts to every operation of the document.
pub struct Contract;

impl Modify for Contract {
    fn modify(&self, doc: &mut OpenApi) {
        add_security_schemes(doc);
        for item in doc.paths.paths.values_mut() {
            for (method, operation) in operations_mut(item) {
                add_common_responses(method, operation);
                serve_problems_as_problem_json(operation);
            }
        }
        add_links(doc);
    }
}

/// Every operation takes a personal API token or the session cookie unless
/// its annotation says `security(())`: those few answer anyone.
fn add_security_schemes(doc: &mut OpenApi) {
    let components = doc.components.get_or_insert_with(Default::default);
    let mut bearer = Http::new(HttpAuthScheme::Bearer);
    bearer.description = Some("A personal API token (`POST /api/v1/tokens`)".into());
    components.add_security_scheme("bearer", SecurityScheme::Http(bearer));
    components.add_security_scheme(
        "session",
        SecurityScheme::ApiKey(ApiKey::Cookie(ApiKeyValue::with_description(
            SESSION_COOKIE,
            "The session cookie `POST /api/v1/session` sets",
        ))),
    );
    doc.security = Some(vec![
        SecurityRequirement::new("bearer", Vec::<String>::new()),
        SecurityRequirement::new("session", Vec::<String>::new()),
    ]);
}

fn is_public(operation: &Operation) -> bool {
    operation.security.as_ref().is_some_and(|s| s.iter().any(|r| *r == SecurityRequirement::default()))
}

fn operations_mut(item: &mut PathItem) -> impl Iterator<Item = (&'static str, &mut Operation)> {
    [
        ("get", item.get.as_mut()),
        ("put", item.put.as_mut()),
        ("post", item.post.as_mut()),
        ("delete", item.delete.as_mut()),
        ("patch", item.patch.as_mut()),
    ]
    .into_iter()
    .filter_map(|(method, op)| op.map(|op| (method, op)))
}

/// The answers given before a handler's own logic runs: by the caller
/// extractor, the JSON and query extractors, the body limit and the path
/// router. An operation's own description of a status wins.
fn add_common_responses(method: &str, operation: &mut Operation) {
    let mut common: Vec<(&str, &str)> = Vec::new();
    if !is_public(operation) {
        common.push(("401", "Not signed in: no session or token, or one that has ended"));
        if method != "get" {
            common.push(("403", "Not allowed, or a cross-site request riding on a session cookie"));
        }
        common.push(("503", "The database is not answering"));
    }
    if operation.request_body.is_some() {
        common.extend([
            ("400", "Malformed JSON"),
            ("413", "The body is larger than the limit"),
            ("415", "The body is not sent as application/json"),
            ("422", "The body does not have the described shape (a missing or unknown field, a wrong type, a NUL character)"),
        ]);
    }
    let parameters = operation.parameters.as_deref().unwrap_or_default();
    if parameters.iter().any(|p| p.parameter_in == ParameterIn::Query) {
        common.push(("400", "A query parameter is missing, unknown or of the wrong type"));
    }
    if parameters.iter().any(|p| p.parameter_in == ParameterIn::Path) {
        common.push(("404", "Nothing with this id that the caller may see"));
    }
    for (status, description) in common {
        operation.responses.responses.entry(status.to_string()).or_insert_with(|| problem_response(description));
    }
}

fn problem_response(description: &str) -> RefOr<Response> {
    let mut response = Response::new(description);
    response
        .content
        .insert(PROBLEM_MEDIA_TYPE.to_string(), Content::new(Some(RefOr::Ref(utoipa::openapi::Ref::new(PROBLEM_REF)))));
    RefOr::T(response)
}

/// `body = Problem` in an annotation describes the body the server sends
/// as `application/problem+json`.
fn serve_problems_as_problem_json(operation: &mut Operation) {
    for (status, response) in operation.responses.responses.iter_mut() {
        let RefOr::T(response) = response else { continue };
        let is_problem = response
            .content
            .get("application/json")
            .and_then(|c| c.schema.as_ref())
            .is_some_and(|s| matches!(s, RefOr::Ref(r) if r.ref_location == PROBLEM_REF));
        if is_problem {
            if let Some(content) = response.content.shift_remove("application/json") {
                response.content.insert(PROBLEM_MEDIA_TYPE.to_string(), content);
            }
        }
        if response.description.is_empty() {
            response.description = reason_phrase(status);
        }
    }
}

/// OpenAPI requires a description; an annotation without one gets the
/// status's reason phrase.
fn reason_phrase(status: &str) -> String {
    axum::http::StatusCode::from_bytes(status.as_bytes())
        .ok()
        .and_then(|s| s.canonical_reason())
        .unwrap_or("Answer")
        .to_string()
}

/// A link from an operation's answer to another operation, with the values
/// it takes from that answer.
pub struct LinkSpec {
    pub from: &'static str,
    pub status: &'static str,
    pub name: &'static str,
    pub to: &'static str,
    pub description: &'static str,
    pub parameters: &'static [(&'static str, &'static str)],
    pub request_body: Option<fn() -> serde_json::Value>,
    /// Whether a fuzzer should send `request_body` as it is rather than
    /// blend it into a generated body (schemathesis's `x-schemathesis`
    /// extension).
    pub exact_body: bool,
}

const fn link(
    from: &'static str,
    status: &'static str,
    name: &'static str,
    to: &'static str,
    description: &'static str,
    parameters: &'static [(&'static str, &'static str)],
) -> LinkSpec {
    LinkSpec { from, status, name, to, description, parameters, request_body: None, exact_body: false }
}

const NEW_USER: &[(&str, &str)] = &[("id", "$response.body#/id")];

/// Where each answer leads. Ids come from the answer, so a client (or a
/// fuzzer) following a link reaches a resource that exists.
pub const LINKS: &[LinkSpec] = &[
    link("create_user", "201", "GetUser", "get_user", "The new person's profile", NEW_USER),
    link("create_user", "201", "PatchUser", "patch_user", "Edit the new person's profile", NEW_USER),
    link("create_user", "201", "DeleteContact", "delete_contact", "Delete the new contact", NEW_USER),
    link("create_user", "201", "UserHistory", "user_history", "The new person's History", NEW_USER),
    link("create_user", "201", "GetNotifications", "get_notifications", "The new person's notifications", NEW_USER),
    link("create_user", "201", "PutNotifications", "put_notifications", "Change them", NEW_USER),
    link(
        "create_user",
        "201",
        "AddAdminPrivilege",
        "add_admin_privilege",
        "Give the new person an admin privilege",
        NEW_USER,
    ),
    link("create_user", "201", "EditContact", "edit_contact", "The new person's contact roles and sites", NEW_USER),
    link("create_user", "201", "Invite", "invite", "Invite the new contact to the portal", NEW_USER),
    link("create_user", "201", "RevokeAccess", "revoke_access", "End the new person's sign-in", NEW_USER),
    LinkSpec {
        request_body: Some(|| {
            serde_json::json!({
                "user_ids": ["$response.body#/id"],
                "roles": [{"application": "backlot", "role": "content-partner-operations"}],
            })
        }),
        exact_body: true,
        ..link("create_user", "201", "GrantRole", "grant_roles", "Grant the new person a Backlot role", &[])
    },
    link(
        "bulk_add",
        "201",
        "GetFirstUser",
        "get_user",
        "The first person created",
        &[("id", "$response.body#/created/0/id")],
    ),
    link(
        "grant_roles",
        "200",
        "RevokeGrant",
        "revoke_grant",
        "Revoke the first grant",
        &[("id", "$response.body#/granted/0/grant_id")],
    ),
    link(
        "add_admin_privilege",
        "201",
        "RemoveAdminPrivilege",
        "remove_admin_privilege",
        "Remove the privilege again",
        &[("id", "$response.body#/user_id"), ("pid", "$response.body#/id")],
    ),
    link("create_token", "201", "RevokeToken", "revoke_token", "Revoke the new token", &[("id", "$response.body#/id")]),
    link(
        "create_site",
        "201",
        "ListSites",
        "list_sites",
        "The partner's sites, the new one among them",
        &[("partner_id", "$response.body#/partner_id")],
    ),
    link(
        "create_site",
        "201",
        "SiteRecipients",
        "recipients",
        "Who a communication about the new site reaches",
        &[("site", "$response.body#/id"), ("partner_id", "$response.body#/partner_id")],
    ),
    LinkSpec {
        request_body: Some(|| serde_json::json!({"partner_id": "$response.body#/id"})),
        ..link("create_partner", "201", "CreateUser", "create_user", "Add a person to the new partner", &[])
    },
    LinkSpec {
        request_body: Some(|| serde_json::json!({"partner_id": "$response.body#/id"})),
        ..link("create_partner", "201", "CreateSite", "create_site", "Add a site to the new partner", &[])
    },
    LinkSpec {
        request_body: Some(
            || serde_json::json!({"partner_id": "$response.body#/partner_id", "sites": ["$response.body#/id"]}),
        ),
        ..link("create_site", "201", "CreateContact", "create_user", "Add a person at the new site", &[])
    },
    link(
        "create_partner",
        "201",
        "ListSites",
        "list_sites",
        "The new partner's sites",
        &[("partner_id", "$response.body#/id")],
    ),
    link(
        "create_partner",
        "201",
        "ListContacts",
        "list_contacts",
        "The new partner's contacts",
        &[("partner_id", "$response.body#/id")],
    ),
    link(
        "open_review",
        "201",
        "GetReview",
        "get_review",
        "The new review with its items",
        &[("id", "$response.body#/id")],
    ),
    link(
        "comment",
        "201",
        "GetTicket",
        "get_ticket",
        "The ticket with the new comment",
        &[("id", "$response.body#/id")],
    ),
];

fn add_links(doc: &mut OpenApi) {
    for spec in LINKS {
        let Some(operation) = doc
            .paths
            .paths
            .values_mut()
            .flat_map(|item| operations_mut(item).map(|(_, op)| op))
            .find(|op| op.operation_id.as_deref() == Some(spec.from))
        else {
            continue;
        };
        let Some(RefOr::T(response)) = operation.responses.responses.get_mut(spec.status) else { continue };
        let mut builder = Link::builder().operation_id(spec.to).description(spec.description);
        for (name, expression) in spec.parameters {
            builder = builder.parameter(*name, *expression);
        }
        if let Some(body) = spec.request_body {
            builder = builder.request_body(Some(body()));
        }
        if spec.exact_body {
            let extension = serde_json::json!({"merge_body": false});
            builder = builder.extensions(Some(Extensions::builder().add("x-schemathesis", extension).build()));
        }
        response.links.insert(spec.name.to_string(), RefOr::T(builder.build()));
    }
}
