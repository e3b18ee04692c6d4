//! SCIM 2.0 (RFC 7643, RFC 7644) under `/scim/v2`, for a partner's
//! identity provider with a SCIM token. Thin handlers: they parse, call
//! `ops::scim`, and shape SCIM JSON (`application/scim+json`). Every error is
//! a SCIM error response. Not part of `/api/v1`'s OpenAPI document.

use starship_core::ids::{ScimGroupId, UserId};
use std::collections::HashMap;

use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{Path, Query, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::Router;
use serde_json::{json, Map, Value};
use starship_core::time_fmt::rfc3339_from_millis;
use starship_store::scim::DirectoryUser;

use crate::ops::scim::groups::{self as groups, GroupView, CORE_GROUP};
use crate::ops::scim::{self as ops, ScimCaller, ScimError, ScimResult, CORE_USER, ENTERPRISE};
use crate::state::AppState;

pub const CONTENT_TYPE: &str = "application/scim+json";
const ERROR: &str = "urn:ietf:params:scim:api:messages:2.0:Error";
const LIST: &str = "urn:ietf:params:scim:api:messages:2.0:ListResponse";
const PATCH_OP: &str = "urn:ietf:params:scim:api:messages:2.0:PatchOp";

/// The largest SCIM request body, a `/Bulk` request's included.
pub const MAX_PAYLOAD: usize = 1024 * 1024;
/// The most operations one `/Bulk` request may carry.
pub const MAX_OPERATIONS: usize = 1000;
const BULK_RESPONSE: &str = "urn:ietf:params:scim:api:messages:2.0:BulkResponse";

/// Nested at `/scim/v2`.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/ServiceProviderConfig", get(service_provider_config))
        .route("/ResourceTypes", get(resource_types))
        .route("/ResourceTypes/{id}", get(resource_type))
        .route("/Schemas", get(schemas))
        .route("/Schemas/{id}", get(schema))
        .route("/Users", get(list_users).post(create_user))
        .route("/Users/.search", post(search_users))
        // A search across Users and Groups at once is not offered (RFC 7644 §3.12: 501).
        .route("/.search", post(search_everything))
        .route("/Users/{id}", get(get_user).put(replace_user).patch(patch_user).delete(delete_user))
        .route("/Bulk", post(bulk))
        .route("/Groups", get(list_groups).post(create_group))
        .route("/Groups/.search", post(search_groups))
        .route("/Groups/{id}", get(get_group).put(replace_group).patch(patch_group).delete(delete_group))
        .fallback(not_found)
        .layer(axum::extract::DefaultBodyLimit::max(MAX_PAYLOAD))
}

impl IntoResponse for ScimError {
    fn into_response(self) -> Response {
        let status = StatusCode::from_u16(self.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        let mut body = json!({"schemas": [ERROR], "status": self.status.to_string(), "detail": self.detail});
        if let Some(t) = self.scim_type {
            body["scimType"] = json!(t);
        }
        let mut response = scim_json(status, &body);
        if status == StatusCode::UNAUTHORIZED {
            response.headers_mut().insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer realm=\"SCIM\""));
        }
        response
    }
}

fn scim_json(status: StatusCode, body: &Value) -> Response {
    (status, [(header::CONTENT_TYPE, HeaderValue::from_static(CONTENT_TYPE))], body.to_string()).into_response()
}

async fn search_everything() -> ScimError {
    ScimError::new(501, None, "search /Users/.search or /Groups/.search: not both resource types at once")
}

async fn not_found() -> ScimError {
    ScimError::new(404, None, "no such SCIM endpoint")
}

async fn caller(state: &AppState, headers: &HeaderMap) -> ScimResult<ScimCaller> {
    let bearer = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split_once(' '))
        .filter(|(scheme, _)| scheme.eq_ignore_ascii_case("bearer"))
        .map(|(_, token)| token.trim());
    ops::authenticate(state, bearer).await
}

/// A JSON body sent as `application/scim+json` or `application/json` (or
/// without a content type); anything malformed is `invalidSyntax`.
fn body_of(headers: &HeaderMap, bytes: Result<Bytes, BytesRejection>) -> ScimResult<Value> {
    let bytes = bytes.map_err(|e| {
        if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
            ScimError::new(413, Some("tooLarge"), format!("a SCIM request body is at most {MAX_PAYLOAD} bytes"))
        } else {
            ScimError::new(400, Some("invalidSyntax"), e.body_text())
        }
    })?;
    if let Some(content_type) = headers.get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()) {
        let essence = content_type.split(';').next().unwrap_or("").trim().to_ascii_lowercase();
        if essence != "application/json" && essence != CONTENT_TYPE {
            return Err(ScimError::new(415, None, "send the body as application/scim+json"));
        }
    }
    let value: Value = serde_json::from_slice(&bytes)
        .map_err(|e| ScimError::new(400, Some("invalidSyntax"), format!("malformed JSON: {e}")))?;
    if contains_nul(&value) {
        return Err(ScimError::invalid_value("text must not contain NUL characters"));
    }
    Ok(value)
}

fn contains_nul(value: &Value) -> bool {
    match value {
        Value::String(s) => s.contains('\0'),
        Value::Array(items) => items.iter().any(contains_nul),
        Value::Object(map) => map.iter().any(|(k, v)| k.contains('\0') || contains_nul(v)),
        _ => false,
    }
}

fn if_match(headers: &HeaderMap) -> Option<&str> {
    headers.get(header::IF_MATCH).and_then(|v| v.to_str().ok())
}

fn location(state: &AppState, id: &str) -> String {
    format!("{}/scim/v2/Users/{id}", state.config.public_url.trim_end_matches('/'))
}

fn group_location(state: &AppState, id: &str) -> String {
    format!("{}/scim/v2/Groups/{id}", state.config.public_url.trim_end_matches('/'))
}

/// A group as a SCIM Group resource; members are users, named by id.
pub fn group_resource(state: &AppState, g: &GroupView) -> Value {
    let group = &g.group;
    let members: Vec<Value> = g
        .members
        .iter()
        .map(|m| json!({"value": m.user_id, "type": "User", "$ref": location(state, &m.user_id)}))
        .collect();
    let mut resource = json!({
        "schemas": [CORE_GROUP],
        "id": group.id,
        "displayName": group.display_name,
        "members": members,
        "meta": {
            "resourceType": "Group",
            "created": rfc3339_from_millis(group.created_at),
            "lastModified": rfc3339_from_millis(group.updated_at),
            "location": group_location(state, &group.id),
            "version": groups::version(group),
        },
    });
    if let Some(external_id) = &group.external_id {
        resource["externalId"] = json!(external_id);
    }
    resource
}

/// A user as a SCIM User resource.
pub fn user_resource(state: &AppState, u: &DirectoryUser) -> Value {
    let user = &u.user;
    let mut resource = json!({
        "schemas": [CORE_USER],
        "id": user.id,
        "userName": u.user_name.as_deref().unwrap_or(&user.email),
        "name": {"givenName": user.first_name, "familyName": user.last_name},
        "displayName": user.full_name(),
        "locale": user.locale,
        "active": user.deactivated_at.is_none(),
        "emails": [{"value": user.email, "type": "work"}],
        "meta": {
            "resourceType": "User",
            "created": rfc3339_from_millis(user.created_at),
            "lastModified": rfc3339_from_millis(user.updated_at),
            "location": location(state, &user.id),
            "version": ops::version(user),
        },
    });
    if let Some(external_id) = &u.external_id {
        resource["externalId"] = json!(external_id);
    }
    if let Some(enterprise) = u.enterprise.as_deref().and_then(|text| serde_json::from_str::<Value>(text).ok()) {
        resource["schemas"] = json!([CORE_USER, ENTERPRISE]);
        resource[ENTERPRISE] = enterprise;
    }
    resource
}

/// `attributes` keeps only the named attributes (and `id`, `schemas`);
/// `excludedAttributes` drops the named ones. Sub-attributes use a dot.
fn project(resource: Value, attributes: Option<&str>, excluded: Option<&str>) -> Value {
    let names = |list: &str| -> Vec<String> {
        list.split(',')
            .map(|a| {
                let a = a.trim().to_ascii_lowercase();
                let a =
                    a.strip_prefix(&format!("{}:", CORE_USER.to_ascii_lowercase())).map(str::to_string).unwrap_or(a);
                a.strip_prefix(&format!("{}:", CORE_GROUP.to_ascii_lowercase())).map(str::to_string).unwrap_or(a)
            })
            .filter(|a| !a.is_empty())
            .collect()
    };
    let Value::Object(map) = resource else {
        return resource;
    };
    let mut out = Map::new();
    if let Some(wanted) = attributes.map(names).filter(|w| !w.is_empty()) {
        for (key, value) in map {
            let lower = key.to_ascii_lowercase();
            if lower == "id" || lower == "schemas" || wanted.contains(&lower) {
                out.insert(key, value);
            } else if let Value::Object(sub) = value {
                let kept: Map<String, Value> = sub
                    .into_iter()
                    .filter(|(k, _)| wanted.contains(&format!("{lower}.{}", k.to_ascii_lowercase())))
                    .collect();
                if !kept.is_empty() {
                    out.insert(key, Value::Object(kept));
                }
            }
        }
    } else {
        out = map;
    }
    if let Some(unwanted) = excluded.map(names) {
        out.retain(|key, value| {
            let lower = key.to_ascii_lowercase();
            if lower == "id" || lower == "schemas" {
                return true;
            }
            if let Value::Object(sub) = value {
                sub.retain(|k, _| !unwanted.contains(&format!("{lower}.{}", k.to_ascii_lowercase())));
            }
            !unwanted.contains(&lower)
        });
    }
    Value::Object(out)
}

fn one_user(state: &AppState, status: StatusCode, user: &DirectoryUser, query: &HashMap<String, String>) -> Response {
    let resource = user_resource(state, user);
    let body = project(
        resource,
        query.get("attributes").map(String::as_str),
        query.get("excludedAttributes").map(String::as_str),
    );
    let mut response = scim_json(status, &body);
    if let Ok(etag) = HeaderValue::from_str(&ops::version(&user.user)) {
        response.headers_mut().insert(header::ETAG, etag);
    }
    if status == StatusCode::CREATED {
        if let Ok(loc) = HeaderValue::from_str(&location(state, &user.user.id)) {
            response.headers_mut().insert(header::LOCATION, loc);
        }
    }
    response
}

fn one_group(state: &AppState, status: StatusCode, group: &GroupView, query: &HashMap<String, String>) -> Response {
    let body = project(
        group_resource(state, group),
        query.get("attributes").map(String::as_str),
        query.get("excludedAttributes").map(String::as_str),
    );
    let mut response = scim_json(status, &body);
    if let Ok(etag) = HeaderValue::from_str(&groups::version(&group.group)) {
        response.headers_mut().insert(header::ETAG, etag);
    }
    if status == StatusCode::CREATED {
        if let Ok(loc) = HeaderValue::from_str(&group_location(state, &group.group.id)) {
            response.headers_mut().insert(header::LOCATION, loc);
        }
    }
    response
}

fn number(query: &HashMap<String, String>, key: &str) -> ScimResult<Option<i64>> {
    query
        .get(key)
        .map(|v| v.trim().parse::<i64>().map_err(|_| ScimError::invalid_value(format!("{key} must be an integer"))))
        .transpose()
}

/// The query parameters; a query string that does not parse is a SCIM
/// error, not axum's plain text.
fn query_of(
    query: Result<Query<HashMap<String, String>>, axum::extract::rejection::QueryRejection>,
) -> ScimResult<HashMap<String, String>> {
    let Query(query) = query.map_err(|e| ScimError::new(400, Some("invalidSyntax"), e.body_text()))?;
    if query.iter().any(|(k, v)| k.contains('\0') || v.contains('\0')) {
        return Err(ScimError::invalid_value("the query string contains a NUL character"));
    }
    Ok(query)
}

async fn list_users(
    State(state): State<AppState>,
    headers: HeaderMap,
    query: Result<Query<HashMap<String, String>>, axum::extract::rejection::QueryRejection>,
) -> ScimResult<Response> {
    let caller = caller(&state, &headers).await?;
    let query = query_of(query)?;
    list(&state, &caller, &query).await
}

async fn list(state: &AppState, caller: &ScimCaller, query: &HashMap<String, String>) -> ScimResult<Response> {
    let (total, start, users) = ops::list_users(state, caller, &list_query(query)?).await?;
    Ok(list_response(query, total, start, users.iter().map(|u| user_resource(state, u))))
}

/// A ListResponse of these resources, each with the attributes the query
/// asks for.
fn list_response(
    query: &HashMap<String, String>,
    total: impl serde::Serialize,
    start: impl serde::Serialize,
    found: impl Iterator<Item = Value>,
) -> Response {
    let attributes = query.get("attributes").map(String::as_str);
    let excluded = query.get("excludedAttributes").map(String::as_str);
    let resources: Vec<Value> = found.map(|r| project(r, attributes, excluded)).collect();
    let body = json!({
        "schemas": [LIST],
        "totalResults": total,
        "startIndex": start,
        "itemsPerPage": resources.len(),
        "Resources": resources,
    });
    scim_json(StatusCode::OK, &body)
}

fn list_query(query: &HashMap<String, String>) -> ScimResult<ops::ListQuery> {
    Ok(ops::ListQuery {
        filter: query.get("filter").cloned(),
        sort_by: query.get("sortBy").cloned(),
        sort_order: query.get("sortOrder").cloned(),
        start_index: number(query, "startIndex")?,
        count: number(query, "count")?,
    })
}

async fn list_groups(
    State(state): State<AppState>,
    headers: HeaderMap,
    query: Result<Query<HashMap<String, String>>, axum::extract::rejection::QueryRejection>,
) -> ScimResult<Response> {
    let caller = caller(&state, &headers).await?;
    let query = query_of(query)?;
    group_list(&state, &caller, &query).await
}

async fn group_list(state: &AppState, caller: &ScimCaller, query: &HashMap<String, String>) -> ScimResult<Response> {
    let (total, start, found) = groups::list_groups(state, caller, &list_query(query)?).await?;
    Ok(list_response(query, total, start, found.iter().map(|g| group_resource(state, g))))
}

async fn search_groups(
    State(state): State<AppState>,
    headers: HeaderMap,
    bytes: Result<Bytes, BytesRejection>,
) -> ScimResult<Response> {
    let caller = caller(&state, &headers).await?;
    let body = body_of(&headers, bytes)?;
    let query = search_query(&body)?;
    group_list(&state, &caller, &query).await
}

/// Whether the client's `If-None-Match` names this version (or any): the
/// resource is answered 304 Not Modified.
fn unchanged_for(headers: &HeaderMap, version: &str) -> bool {
    headers
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|none_match| none_match.split(',').any(|v| v.trim() == version || v.trim() == "*"))
}

async fn get_group(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<ScimGroupId>,
    query: Result<Query<HashMap<String, String>>, axum::extract::rejection::QueryRejection>,
) -> ScimResult<Response> {
    let caller = caller(&state, &headers).await?;
    let query = query_of(query)?;
    let group = groups::get_group(&state, &caller, &id).await?;
    if unchanged_for(&headers, &groups::version(&group.group)) {
        return Ok(StatusCode::NOT_MODIFIED.into_response());
    }
    Ok(one_group(&state, StatusCode::OK, &group, &query))
}

async fn create_group(
    State(state): State<AppState>,
    headers: HeaderMap,
    bytes: Result<Bytes, BytesRejection>,
) -> ScimResult<Response> {
    let caller = caller(&state, &headers).await?;
    let body = body_of(&headers, bytes)?;
    let desired = groups::desired_from_resource(&body)?;
    let group = groups::create_group(&state, &caller, &desired).await?;
    Ok(one_group(&state, StatusCode::CREATED, &group, &HashMap::new()))
}

async fn replace_group(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<ScimGroupId>,
    bytes: Result<Bytes, BytesRejection>,
) -> ScimResult<Response> {
    let caller = caller(&state, &headers).await?;
    let body = body_of(&headers, bytes)?;
    let group = replace_group_with(&state, &caller, &id, if_match(&headers), &body).await?;
    Ok(one_group(&state, StatusCode::OK, &group, &HashMap::new()))
}

async fn replace_group_with(
    state: &AppState,
    caller: &ScimCaller,
    id: &ScimGroupId,
    if_match: Option<&str>,
    body: &Value,
) -> ScimResult<GroupView> {
    if let Some(sent) = body.get("id").and_then(Value::as_str) {
        if sent != id {
            return Err(ScimError::new(400, Some("mutability"), "id cannot be changed"));
        }
    }
    let desired = groups::desired_from_resource(body)?;
    groups::update_group(state, caller, id, if_match, |_| Ok(desired)).await
}

async fn patch_group(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<ScimGroupId>,
    bytes: Result<Bytes, BytesRejection>,
) -> ScimResult<Response> {
    let caller = caller(&state, &headers).await?;
    let body = body_of(&headers, bytes)?;
    let group = patch_group_with(&state, &caller, &id, if_match(&headers), &body).await?;
    Ok(one_group(&state, StatusCode::OK, &group, &HashMap::new()))
}

async fn patch_group_with(
    state: &AppState,
    caller: &ScimCaller,
    id: &ScimGroupId,
    if_match: Option<&str>,
    body: &Value,
) -> ScimResult<GroupView> {
    check_patch_schema(body)?;
    groups::update_group(state, caller, id, if_match, |current| groups::apply_patch(current, body)).await
}

async fn delete_group(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<ScimGroupId>,
) -> ScimResult<StatusCode> {
    let caller = caller(&state, &headers).await?;
    groups::delete_group(&state, &caller, &id, if_match(&headers)).await?;
    Ok(StatusCode::NO_CONTENT)
}

fn check_patch_schema(body: &Value) -> ScimResult<()> {
    if let Some(schemas) = body.get("schemas").and_then(Value::as_array) {
        if !schemas.iter().any(|s| s.as_str().is_some_and(|s| s.eq_ignore_ascii_case(PATCH_OP))) {
            return Err(ScimError::new(400, Some("invalidSyntax"), format!("a PATCH body has the schema {PATCH_OP}")));
        }
    }
    Ok(())
}

/// A SearchRequest body as the list's query parameters.
fn search_query(body: &Value) -> ScimResult<HashMap<String, String>> {
    let body =
        body.as_object().ok_or_else(|| ScimError::new(400, Some("invalidSyntax"), "send a SearchRequest object"))?;
    let text = |key: &str| -> ScimResult<Option<String>> {
        match body.iter().find(|(k, _)| k.eq_ignore_ascii_case(key)).map(|(_, v)| v) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::String(s)) => Ok(Some(s.clone())),
            Some(Value::Array(items)) => Ok(Some(items.iter().filter_map(Value::as_str).collect::<Vec<_>>().join(","))),
            Some(Value::Number(n)) => Ok(Some(n.to_string())),
            Some(_) => Err(ScimError::invalid_value(format!("{key} has the wrong type"))),
        }
    };
    let mut query = HashMap::new();
    for key in ["filter", "sortBy", "sortOrder", "startIndex", "count", "attributes", "excludedAttributes"] {
        if let Some(value) = text(key)? {
            query.insert(key.to_string(), value);
        }
    }
    Ok(query)
}

/// `POST /Users/.search`: the list's parameters in a SearchRequest body.
async fn search_users(
    State(state): State<AppState>,
    headers: HeaderMap,
    bytes: Result<Bytes, BytesRejection>,
) -> ScimResult<Response> {
    let caller = caller(&state, &headers).await?;
    let body = body_of(&headers, bytes)?;
    let query = search_query(&body)?;
    list(&state, &caller, &query).await
}

async fn get_user(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<UserId>,
    query: Result<Query<HashMap<String, String>>, axum::extract::rejection::QueryRejection>,
) -> ScimResult<Response> {
    let caller = caller(&state, &headers).await?;
    let query = query_of(query)?;
    let user = ops::get_user(&state, &caller, &id).await?;
    if unchanged_for(&headers, &ops::version(&user.user)) {
        return Ok(StatusCode::NOT_MODIFIED.into_response());
    }
    Ok(one_user(&state, StatusCode::OK, &user, &query))
}

async fn create_user(
    State(state): State<AppState>,
    headers: HeaderMap,
    bytes: Result<Bytes, BytesRejection>,
) -> ScimResult<Response> {
    let caller = caller(&state, &headers).await?;
    let body = body_of(&headers, bytes)?;
    let desired = ops::desired_from_resource(&body, None)?;
    let user = ops::create_user(&state, &caller, &desired).await?;
    Ok(one_user(&state, StatusCode::CREATED, &user, &HashMap::new()))
}

async fn replace_user(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<UserId>,
    bytes: Result<Bytes, BytesRejection>,
) -> ScimResult<Response> {
    let caller = caller(&state, &headers).await?;
    let body = body_of(&headers, bytes)?;
    let user = replace_user_with(&state, &caller, &id, if_match(&headers), &body).await?;
    Ok(one_user(&state, StatusCode::OK, &user, &HashMap::new()))
}

async fn replace_user_with(
    state: &AppState,
    caller: &ScimCaller,
    id: &UserId,
    if_match: Option<&str>,
    body: &Value,
) -> ScimResult<DirectoryUser> {
    ops::update_user(state, caller, id, if_match, |current| {
        let before = ops::Desired::of(current);
        if let Some(sent) = body.get("id").and_then(Value::as_str) {
            if sent != current.user.id {
                return Err(ScimError::new(400, Some("mutability"), "id cannot be changed"));
            }
        }
        ops::desired_from_resource(body, Some(&before))
    })
    .await
}

async fn patch_user(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<UserId>,
    bytes: Result<Bytes, BytesRejection>,
) -> ScimResult<Response> {
    let caller = caller(&state, &headers).await?;
    let body = body_of(&headers, bytes)?;
    let user = patch_user_with(&state, &caller, &id, if_match(&headers), &body).await?;
    Ok(one_user(&state, StatusCode::OK, &user, &HashMap::new()))
}

async fn patch_user_with(
    state: &AppState,
    caller: &ScimCaller,
    id: &UserId,
    if_match: Option<&str>,
    body: &Value,
) -> ScimResult<DirectoryUser> {
    check_patch_schema(body)?;
    ops::update_user(state, caller, id, if_match, |current| ops::apply_patch(&ops::Desired::of(current), body)).await
}

async fn delete_user(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<UserId>,
) -> ScimResult<StatusCode> {
    let caller = caller(&state, &headers).await?;
    ops::delete_user(&state, &caller, &id, if_match(&headers)).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// `POST /Bulk` (RFC 7644 §3.7): each operation in order, each in its own
/// transaction through the same operation as its own request, so an
/// operation that fails writes nothing and the ones before it stay.
/// Consecutive creations of users that will succeed are written together,
/// in one transaction (`ops::create_users_together`), with the answers
/// each would have had alone.
/// `bulkId:x` in a path or a value names what an earlier POST created;
/// `failOnErrors` stops after that many errors.
async fn bulk(
    State(state): State<AppState>,
    headers: HeaderMap,
    bytes: Result<Bytes, BytesRejection>,
) -> ScimResult<Response> {
    let caller = caller(&state, &headers).await?;
    let body = body_of(&headers, bytes)?;
    let body = body.as_object().ok_or_else(|| ScimError::new(400, Some("invalidSyntax"), "send a BulkRequest"))?;
    let field = |key: &str| body.iter().find(|(k, _)| k.eq_ignore_ascii_case(key)).map(|(_, v)| v);
    let operations = field("Operations")
        .and_then(Value::as_array)
        .ok_or_else(|| ScimError::new(400, Some("invalidSyntax"), "a BulkRequest needs Operations"))?;
    if operations.len() > MAX_OPERATIONS {
        return Err(ScimError::new(
            413,
            None,
            format!("a bulk request carries at most {MAX_OPERATIONS} operations (maxOperations)"),
        ));
    }
    let fail_on_errors = match field("failOnErrors") {
        None | Some(Value::Null) => None,
        Some(v) => Some(
            v.as_u64()
                .filter(|n| *n > 0)
                .ok_or_else(|| ScimError::invalid_value("failOnErrors must be a positive integer"))?,
        ),
    };
    let mut created: HashMap<String, String> = HashMap::new();
    let mut results = Vec::with_capacity(operations.len());
    let mut errors = 0;
    // Read once: after an operation that ends a run, the rest of it is tried again.
    let plain: Vec<Option<(&str, ops::Desired)>> = operations.iter().map(plain_creation).collect();
    let mut next = 0;
    while next < operations.len() {
        if fail_on_errors.is_some_and(|n| errors >= n) {
            break;
        }
        let run: Vec<&(&str, ops::Desired)> = plain[next..].iter().map_while(Option::as_ref).collect();
        if run.len() > 1 {
            let desired: Vec<ops::Desired> = run.iter().map(|(_, d)| d.clone()).collect();
            let users = ops::create_users_together(&state, &caller, &desired).await;
            for ((bulk_id, _), user) in run.iter().copied().zip(&users) {
                created.insert(bulk_id.to_string(), user.user.id.to_string());
                results.push(json!({
                    "method": "POST",
                    "bulkId": bulk_id,
                    "status": "201",
                    "location": location(&state, &user.user.id),
                    "version": ops::version(&user.user),
                }));
            }
            next += users.len();
            if users.len() == run.len() {
                continue;
            }
        }
        let operation = &operations[next];
        next += 1;
        let method = operation.get("method").and_then(Value::as_str).unwrap_or_default().to_ascii_uppercase();
        let bulk_id = operation.get("bulkId").and_then(Value::as_str).map(str::to_string);
        let mut entry = json!({"method": method});
        if let Some(b) = &bulk_id {
            entry["bulkId"] = json!(b);
        }
        match bulk_operation(&state, &caller, &method, bulk_id.as_deref(), operation, &created).await {
            Ok(done) => {
                if let (Some(b), Some(id)) = (&bulk_id, &done.id) {
                    created.insert(b.clone(), id.clone());
                }
                entry["status"] = json!(done.status.to_string());
                if let Some(location) = done.location {
                    entry["location"] = json!(location);
                }
                if let Some(version) = done.version {
                    entry["version"] = json!(version);
                }
            }
            Err(e) => {
                errors += 1;
                entry["status"] = json!(e.status.to_string());
                let mut response = json!({"schemas": [ERROR], "status": e.status.to_string(), "detail": e.detail});
                if let Some(t) = e.scim_type {
                    response["scimType"] = json!(t);
                }
                entry["response"] = response;
            }
        }
        results.push(entry);
    }
    Ok(scim_json(StatusCode::OK, &json!({"schemas": [BULK_RESPONSE], "Operations": results})))
}

/// A POST of a user whose data names no earlier operation's `bulkId`:
/// its `bulkId` and the user it describes. A run of these is written
/// together (`ops::create_users_together`); what it leaves is done one
/// operation at a time, as `bulk_operation` does every other.
fn plain_creation(operation: &Value) -> Option<(&str, ops::Desired)> {
    let method = operation.get("method").and_then(Value::as_str)?;
    let path = operation.get("path").and_then(Value::as_str)?;
    let bulk_id = operation.get("bulkId").and_then(Value::as_str).filter(|b| !b.is_empty())?;
    let data = operation.get("data").unwrap_or(&Value::Null);
    if !method.eq_ignore_ascii_case("POST") || path.trim_start_matches('/') != "Users" || names_bulk_id(data) {
        return None;
    }
    if contains_nul(data) {
        return None;
    }
    Some((bulk_id, ops::desired_from_resource(data, None).ok()?))
}

fn names_bulk_id(value: &Value) -> bool {
    match value {
        Value::String(text) => text.contains("bulkId:"),
        Value::Array(items) => items.iter().any(names_bulk_id),
        Value::Object(map) => map.values().any(names_bulk_id),
        _ => false,
    }
}

/// What one bulk operation did.
struct BulkDone {
    status: u16,
    id: Option<String>,
    location: Option<String>,
    version: Option<String>,
}

/// Replaces `bulkId:x` (the whole string, or a path segment) with the id
/// an earlier operation created; one not created yet is an error.
fn resolve_bulk_ids(value: &Value, created: &HashMap<String, String>) -> ScimResult<Value> {
    Ok(match value {
        Value::String(text) => Value::String(resolve_text(text, created)?),
        Value::Array(items) => {
            Value::Array(items.iter().map(|v| resolve_bulk_ids(v, created)).collect::<ScimResult<_>>()?)
        }
        Value::Object(map) => Value::Object(
            map.iter()
                .map(|(k, v)| Ok((k.clone(), resolve_bulk_ids(v, created)?)))
                .collect::<ScimResult<Map<String, Value>>>()?,
        ),
        other => other.clone(),
    })
}

fn resolve_text(text: &str, created: &HashMap<String, String>) -> ScimResult<String> {
    text.split('/')
        .map(|part| match part.strip_prefix("bulkId:") {
            Some(reference) => created.get(reference).cloned().ok_or_else(|| {
                ScimError::new(409, Some("invalidValue"), format!("bulkId '{reference}' names nothing created before"))
            }),
            None => Ok(part.to_string()),
        })
        .collect::<ScimResult<Vec<_>>>()
        .map(|parts| parts.join("/"))
}

async fn bulk_operation(
    state: &AppState,
    caller: &ScimCaller,
    method: &str,
    bulk_id: Option<&str>,
    operation: &Value,
    created: &HashMap<String, String>,
) -> ScimResult<BulkDone> {
    let path = operation
        .get("path")
        .and_then(Value::as_str)
        .ok_or_else(|| ScimError::new(400, Some("invalidSyntax"), "each operation needs a path"))?;
    let path = resolve_text(path, created)?;
    let data = resolve_bulk_ids(operation.get("data").unwrap_or(&Value::Null), created)?;
    if contains_nul(&data) || path.contains('\0') {
        return Err(ScimError::invalid_value("text must not contain NUL characters"));
    }
    let version = operation.get("version").and_then(Value::as_str);
    let segments: Vec<&str> = path.trim_start_matches('/').split('/').collect();
    let user_done = |status: u16, user: &DirectoryUser| BulkDone {
        status,
        id: Some(user.user.id.to_string()),
        location: Some(location(state, &user.user.id)),
        version: Some(ops::version(&user.user)),
    };
    let group_done = |status: u16, group: &GroupView| BulkDone {
        status,
        id: Some(group.group.id.to_string()),
        location: Some(group_location(state, &group.group.id)),
        version: Some(groups::version(&group.group)),
    };
    match (method, segments.as_slice()) {
        ("POST", [resource]) if bulk_id.is_none_or(str::is_empty) => {
            Err(ScimError::invalid_value(format!("a POST to /{resource} needs a bulkId")))
        }
        ("POST", ["Users"]) => {
            let user = ops::create_user(state, caller, &ops::desired_from_resource(&data, None)?).await?;
            Ok(user_done(201, &user))
        }
        ("POST", ["Groups"]) => {
            let group = groups::create_group(state, caller, &groups::desired_from_resource(&data)?).await?;
            Ok(group_done(201, &group))
        }
        ("PUT", ["Users", id]) => {
            Ok(user_done(200, &replace_user_with(state, caller, &UserId::from(*id), version, &data).await?))
        }
        ("PATCH", ["Users", id]) => {
            Ok(user_done(200, &patch_user_with(state, caller, &UserId::from(*id), version, &data).await?))
        }
        ("DELETE", ["Users", id]) => {
            ops::delete_user(state, caller, &UserId::from(*id), version).await?;
            Ok(BulkDone { status: 204, id: None, location: Some(location(state, id)), version: None })
        }
        ("PUT", ["Groups", id]) => {
            Ok(group_done(200, &replace_group_with(state, caller, &ScimGroupId::from(*id), version, &data).await?))
        }
        ("PATCH", ["Groups", id]) => {
            Ok(group_done(200, &patch_group_with(state, caller, &ScimGroupId::from(*id), version, &data).await?))
        }
        ("DELETE", ["Groups", id]) => {
            groups::delete_group(state, caller, &ScimGroupId::from(*id), version).await?;
            Ok(BulkDone { status: 204, id: None, location: Some(group_location(state, id)), version: None })
        }
        ("POST" | "PUT" | "PATCH" | "DELETE", _) => Err(ScimError::new(
            400,
            Some("invalidPath"),
            format!("{method} {path}: bulk operations take /Users, /Groups or one of their resources"),
        )),
        _ => Err(ScimError::new(400, Some("invalidSyntax"), format!("unknown bulk method '{method}'"))),
    }
}

fn base(state: &AppState) -> String {
    format!("{}/scim/v2", state.config.public_url.trim_end_matches('/'))
}

async fn service_provider_config(State(state): State<AppState>) -> Response {
    let body = json!({
        "schemas": ["urn:ietf:params:scim:schemas:core:2.0:ServiceProviderConfig"],
        "documentationUri": format!("{}/ServiceProviderConfig", base(&state)),
        "patch": {"supported": true},
        "bulk": {"supported": true, "maxOperations": MAX_OPERATIONS, "maxPayloadSize": MAX_PAYLOAD},
        "filter": {"supported": true, "maxResults": ops::MAX_RESULTS},
        "changePassword": {"supported": false},
        "sort": {"supported": true},
        "etag": {"supported": true},
        "authenticationSchemes": [{
            "type": "oauthbearertoken",
            "name": "SCIM token",
            "description": "A partner's SCIM token, sent as Authorization: Bearer",
            "primary": true,
        }],
        "meta": {"resourceType": "ServiceProviderConfig", "location": format!("{}/ServiceProviderConfig", base(&state))},
    });
    scim_json(StatusCode::OK, &body)
}

fn user_resource_type(state: &AppState) -> Value {
    json!({
        "schemas": ["urn:ietf:params:scim:schemas:core:2.0:ResourceType"],
        "id": "User",
        "name": "User",
        "endpoint": "/Users",
        "description": "A person of the partner",
        "schema": CORE_USER,
        "schemaExtensions": [{"schema": ENTERPRISE, "required": false}],
        "meta": {"resourceType": "ResourceType", "location": format!("{}/ResourceTypes/User", base(state))},
    })
}

fn group_resource_type(state: &AppState) -> Value {
    json!({
        "schemas": ["urn:ietf:params:scim:schemas:core:2.0:ResourceType"],
        "id": "Group",
        "name": "Group",
        "endpoint": "/Groups",
        "description": "A directory group of the partner: its members hold the Starship roles it maps to",
        "schema": CORE_GROUP,
        "schemaExtensions": [],
        "meta": {"resourceType": "ResourceType", "location": format!("{}/ResourceTypes/Group", base(state))},
    })
}

fn list_of(resources: Vec<Value>) -> Value {
    json!({"schemas": [LIST], "totalResults": resources.len(), "startIndex": 1, "itemsPerPage": resources.len(), "Resources": resources})
}

async fn resource_types(State(state): State<AppState>) -> Response {
    scim_json(StatusCode::OK, &list_of(vec![user_resource_type(&state), group_resource_type(&state)]))
}

async fn resource_type(State(state): State<AppState>, Path(id): Path<String>) -> ScimResult<Response> {
    if id == "User" {
        Ok(scim_json(StatusCode::OK, &user_resource_type(&state)))
    } else if id == "Group" {
        Ok(scim_json(StatusCode::OK, &group_resource_type(&state)))
    } else {
        Err(ScimError::new(404, None, "no such resource type"))
    }
}

fn attribute(name: &str, kind: &str, required: bool, mutability: &str, uniqueness: &str, case_exact: bool) -> Value {
    json!({
        "name": name, "type": kind, "multiValued": false, "description": name, "required": required,
        "caseExact": case_exact, "mutability": mutability, "returned": "default", "uniqueness": uniqueness,
    })
}

fn user_schema(state: &AppState) -> Value {
    let mut name = attribute("name", "complex", true, "readWrite", "none", false);
    name["subAttributes"] = json!([
        attribute("givenName", "string", true, "readWrite", "none", false),
        attribute("familyName", "string", true, "readWrite", "none", false),
    ]);
    // Starship needs an email: the primary one is the person's address.
    let mut emails = attribute("emails", "complex", true, "readWrite", "none", false);
    emails["multiValued"] = json!(true);
    let mut kind = attribute("type", "string", false, "readWrite", "none", false);
    kind["canonicalValues"] = json!(["work"]);
    emails["subAttributes"] = json!([attribute("value", "string", true, "readWrite", "none", false), kind,]);
    // Every person has a locale and is active or not: neither can be removed.
    let mut locale = attribute("locale", "string", true, "readWrite", "none", false);
    locale["canonicalValues"] = json!(starship_core::domain::SUPPORTED_LOCALES);
    json!({
        "schemas": ["urn:ietf:params:scim:schemas:core:2.0:Schema"],
        "id": CORE_USER,
        "name": "User",
        "description": "A person of the partner: userName is their email unless the directory names them otherwise; the primary email is their address",
        "attributes": [
            attribute("userName", "string", true, "readWrite", "server", false),
            name,
            attribute("displayName", "string", false, "readOnly", "none", false),
            locale,
            attribute("active", "boolean", true, "readWrite", "none", false),
            emails,
        ],
        "meta": {"resourceType": "Schema", "location": format!("{}/Schemas/{CORE_USER}", base(state))},
    })
}

fn enterprise_schema(state: &AppState) -> Value {
    json!({
        "schemas": ["urn:ietf:params:scim:schemas:core:2.0:Schema"],
        "id": ENTERPRISE,
        "name": "EnterpriseUser",
        "description": "Enterprise User: kept as the directory sends it",
        "attributes": [
            attribute("employeeNumber", "string", false, "readWrite", "none", false),
            attribute("costCenter", "string", false, "readWrite", "none", false),
            attribute("organization", "string", false, "readWrite", "none", false),
            attribute("division", "string", false, "readWrite", "none", false),
            attribute("department", "string", false, "readWrite", "none", false),
        ],
        "meta": {"resourceType": "Schema", "location": format!("{}/Schemas/{ENTERPRISE}", base(state))},
    })
}

fn group_schema(state: &AppState) -> Value {
    let mut members = attribute("members", "complex", false, "readWrite", "none", false);
    members["multiValued"] = json!(true);
    let mut value = attribute("value", "string", false, "immutable", "none", true);
    value["description"] = json!("the id of a User of the partner");
    let mut reference = attribute("$ref", "reference", false, "immutable", "none", true);
    reference["referenceTypes"] = json!(["User"]);
    let mut kind = attribute("type", "string", false, "immutable", "none", false);
    kind["canonicalValues"] = json!(["User"]);
    members["subAttributes"] =
        json!([value, reference, attribute("display", "string", false, "readOnly", "none", false), kind]);
    json!({
        "schemas": ["urn:ietf:params:scim:schemas:core:2.0:Schema"],
        "id": CORE_GROUP,
        "name": "Group",
        "description": "A directory group of the partner; members are its users",
        "attributes": [
            attribute("displayName", "string", true, "readWrite", "server", false),
            members,
        ],
        "meta": {"resourceType": "Schema", "location": format!("{}/Schemas/{CORE_GROUP}", base(state))},
    })
}

async fn schemas(State(state): State<AppState>) -> Response {
    scim_json(StatusCode::OK, &list_of(vec![user_schema(&state), group_schema(&state), enterprise_schema(&state)]))
}

async fn schema(State(state): State<AppState>, Path(id): Path<String>) -> ScimResult<Response> {
    if id.eq_ignore_ascii_case(CORE_USER) {
        Ok(scim_json(StatusCode::OK, &user_schema(&state)))
    } else if id.eq_ignore_ascii_case(CORE_GROUP) {
        Ok(scim_json(StatusCode::OK, &group_schema(&state)))
    } else if id.eq_ignore_ascii_case(ENTERPRISE) {
        Ok(scim_json(StatusCode::OK, &enterprise_schema(&state)))
    } else {
        Err(ScimError::new(404, None, "no such schema"))
    }
}
