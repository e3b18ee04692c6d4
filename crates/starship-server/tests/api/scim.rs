//! SCIM 2.0: a partner's SCIM tokens, discovery, Users with what identity
//! providers really send, filters, ETags, errors, History and partner
//! isolation, on both stores.

use reqwest::header::HeaderMap;
use reqwest::{Client, StatusCode};
use serde_json::{json, Value};
use starship_store::sqlx;

use crate::support::*;

pub(crate) const MARA: &str = "mara.master@sunrise.example";
const ERROR: &str = "urn:ietf:params:scim:api:messages:2.0:Error";

/// A SCIM token of a partner minted through the API by `client`.
pub(crate) async fn scim_token(app: &TestApp, client: &Client, partner: &str, name: &str) -> String {
    let (status, created) =
        app.post(client, &format!("/api/v1/partners/{partner}/scim-tokens"), json!({"name": name})).await;
    assert_eq!(status, StatusCode::CREATED, "{created}");
    created["token"].as_str().unwrap().to_string()
}

pub(crate) struct Answer {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: Value,
}

pub(crate) async fn scim_with(
    app: &TestApp,
    token: &str,
    method: &str,
    path: &str,
    body: Option<Value>,
    extra: &[(&str, &str)],
) -> Answer {
    let method = reqwest::Method::from_bytes(method.as_bytes()).unwrap();
    let mut request = app.client().request(method.clone(), app.url(&format!("/scim/v2{path}"))).bearer_auth(token);
    if let Some(body) = body {
        request = request.header("content-type", "application/scim+json").body(body.to_string());
    }
    for (name, value) in extra {
        request = request.header(*name, *value);
    }
    let response = request.send().await.expect("the request reaches the server");
    let status = response.status();
    let headers = response.headers().clone();
    let text = response.text().await.unwrap();
    Answer { status, headers, body: json_body(&format!("{method} {path}"), status, &text) }
}

pub(crate) async fn scim(app: &TestApp, token: &str, method: &str, path: &str, body: Option<Value>) -> Answer {
    scim_with(app, token, method, path, body, &[]).await
}

pub(crate) fn assert_scim_error(answer: &Answer, status: u16, scim_type: Option<&str>) {
    assert_eq!(answer.status.as_u16(), status, "{}", answer.body);
    assert_eq!(answer.body["schemas"][0], ERROR, "{}", answer.body);
    assert_eq!(answer.body["status"], status.to_string(), "{}", answer.body);
    if let Some(t) = scim_type {
        assert_eq!(answer.body["scimType"], t, "{}", answer.body);
    }
}

pub(crate) fn jane(email: &str) -> Value {
    json!({
        "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"],
        "userName": email,
        "externalId": format!("ext-{email}"),
        "name": {"givenName": "Jane", "familyName": "Doe"},
        "locale": "fr-FR",
        "active": true,
        "emails": [{"value": email, "type": "work", "primary": true}],
    })
}

pub(crate) async fn create(app: &TestApp, token: &str, email: &str) -> Value {
    let answer = scim(app, token, "POST", "/Users", Some(jane(email))).await;
    assert_eq!(answer.status, StatusCode::CREATED, "{}", answer.body);
    answer.body
}

pub(crate) async fn history_rows(app: &TestApp, user_id: &str) -> Vec<(String, String, String)> {
    sqlx::query_as("SELECT action, actor, source FROM history WHERE user_id = $1 ORDER BY chain, seq")
        .bind(user_id)
        .fetch_all(app.store.pool())
        .await
        .unwrap()
}

app_test!(partner_admins_and_operators_manage_scim_tokens_and_others_cannot, |app| async move {
    let w = world(&app).await;
    let mara = app.signed_in(MARA).await;
    let path = format!("/api/v1/partners/{}/scim-tokens", w.sunrise);
    let (status, created) = app.post(&mara, &path, json!({"name": "Entra ID"})).await;
    assert_eq!(status, StatusCode::CREATED, "{created}");
    assert!(created["token"].as_str().unwrap().starts_with("sscim_"));
    let operator = app.signed_in("olivia.operator@starship.example").await;
    let (status, _) = app.post(&operator, &path, json!({"name": "Okta"})).await;
    assert_eq!(status, StatusCode::CREATED);

    let (status, listed) = app.get(&mara, &path).await;
    assert_eq!(status, StatusCode::OK);
    let names: Vec<&str> = listed.as_array().unwrap().iter().map(|t| t["name"].as_str().unwrap()).collect();
    assert_eq!(names, ["Okta", "Entra ID"]);
    assert!(listed.as_array().unwrap().iter().all(|t| t.get("token").is_none()), "no secret listed: {listed}");
    let stored: Vec<String> =
        sqlx::query_scalar("SELECT token_hash FROM scim_tokens").fetch_all(app.store.pool()).await.unwrap();
    assert!(!stored.contains(&created["token"].as_str().unwrap().to_string()), "only the hash is stored");

    let plain = app.signed_in("pat.plain@sunrise.example").await;
    assert_eq!(app.post(&plain, &path, json!({})).await.0, StatusCode::FORBIDDEN);
    assert_eq!(app.get(&plain, &path).await.0, StatusCode::FORBIDDEN);
    let nina = app.signed_in("nina.north@northwind.example").await;
    assert_eq!(app.post(&nina, &path, json!({})).await.0, StatusCode::NOT_FOUND);
    assert_eq!(app.get(&nina, &path).await.0, StatusCode::NOT_FOUND);
    let id = created["id"].as_str().unwrap();
    assert_eq!(app.delete(&nina, &format!("{path}/{id}")).await.0, StatusCode::NOT_FOUND);

    let token = created["token"].as_str().unwrap();
    assert_eq!(scim(&app, token, "GET", "/Users", None).await.status, StatusCode::OK);
    assert_eq!(app.delete(&mara, &format!("{path}/{id}")).await.0, StatusCode::NO_CONTENT);
    assert_scim_error(&scim(&app, token, "GET", "/Users", None).await, 401, None);
    assert_eq!(app.delete(&mara, &format!("{path}/{id}")).await.0, StatusCode::NOT_FOUND, "revoked already");
    let actions: Vec<String> = history_rows(&app, &w.backlot_admin).await.into_iter().map(|r| r.0).collect();
    assert!(actions.contains(&"scim-token.created".into()) && actions.contains(&"scim-token.revoked".into()));
});

app_test!(a_scim_token_is_no_personal_token_and_a_personal_token_no_scim_token, |app| async move {
    let w = world(&app).await;
    let mara = app.signed_in(MARA).await;
    let token = scim_token(&app, &mara, &w.sunrise, "Entra ID").await;
    let response = app.client().get(app.url("/api/v1/me")).bearer_auth(&token).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
    let (_, personal) = app.post(&mara, "/api/v1/tokens", json!({"name": "script"})).await;
    let personal = personal["token"].as_str().unwrap();
    assert_scim_error(&scim(&app, personal, "GET", "/Users", None).await, 401, None);
    assert_scim_error(&scim(&app, "", "GET", "/Users", None).await, 401, None);
});

app_test!(a_scim_token_stops_when_its_creator_is_deactivated_or_loses_the_right, |app| async move {
    let w = world(&app).await;
    let morgan = app.signed_in("morgan.master@sunrise.example").await;
    let token = scim_token(&app, &morgan, &w.sunrise, "Okta").await;
    assert_eq!(scim(&app, &token, "GET", "/Users", None).await.status, StatusCode::OK);
    sqlx::query("DELETE FROM grants WHERE user_id = $1").bind(&w.master_only).execute(app.store.pool()).await.unwrap();
    assert_scim_error(&scim(&app, &token, "GET", "/Users", None).await, 403, None);
    app.grant(&w.master_only, "backlot", "master-content-partner-operations", None).await;
    assert_eq!(scim(&app, &token, "GET", "/Users", None).await.status, StatusCode::OK);
    let mara = app.signed_in(MARA).await;
    let (status, _) = app.post(&mara, &format!("/api/v1/users/{}/deactivation", w.master_only), json!({})).await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    assert_scim_error(&scim(&app, &token, "GET", "/Users", None).await, 401, None);
});

app_test!(discovery_describes_users_patch_filter_sort_and_etags, |app| async move {
    for path in ["/ServiceProviderConfig", "/ResourceTypes", "/Schemas", "/ResourceTypes/User"] {
        let response = app.client().get(app.url(&format!("/scim/v2{path}"))).send().await.unwrap();
        assert_eq!(response.status(), StatusCode::OK, "{path}");
        assert_eq!(response.headers()["content-type"], "application/scim+json");
    }
    let (_, config) = app.get(&app.client(), "/scim/v2/ServiceProviderConfig").await;
    assert_eq!(config["patch"]["supported"], true);
    assert_eq!(config["filter"]["maxResults"], 200);
    assert_eq!(config["etag"]["supported"], true);
    assert_eq!(config["sort"]["supported"], true);
    let (_, schemas) = app.get(&app.client(), "/scim/v2/Schemas").await;
    let ids: Vec<&str> = schemas["Resources"].as_array().unwrap().iter().map(|s| s["id"].as_str().unwrap()).collect();
    assert!(ids.contains(&"urn:ietf:params:scim:schemas:core:2.0:User"));
    assert!(ids.contains(&"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"));
    let (status, _) = app.get(&app.client(), "/scim/v2/Nothing").await;
    assert_eq!(status, StatusCode::NOT_FOUND);
});

app_test!(a_created_user_gets_the_welcome_email_and_history_names_the_token, |app| async move {
    let w = world(&app).await;
    let mara = app.signed_in(MARA).await;
    let token = scim_token(&app, &mara, &w.sunrise, "Entra ID").await;
    let created = create(&app, &token, "jane.doe@sunrise.example").await;
    let id = created["id"].as_str().unwrap();
    assert_eq!(created["userName"], "jane.doe@sunrise.example");
    assert_eq!(created["externalId"], "ext-jane.doe@sunrise.example");
    assert_eq!(created["name"]["familyName"], "Doe");
    assert_eq!(created["locale"], "fr-FR");
    assert_eq!(created["active"], true);
    assert_eq!(created["meta"]["resourceType"], "User");
    assert!(created["meta"]["location"].as_str().unwrap().ends_with(&format!("/scim/v2/Users/{id}")));
    let welcome: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM outbox WHERE user_id = $1 AND kind = 'welcome'")
        .bind(id)
        .fetch_one(app.store.pool())
        .await
        .unwrap();
    assert_eq!(welcome, 1, "the usual welcome email with its activation link");
    assert_eq!(history_rows(&app, id).await, [("user.created".into(), "Entra ID".into(), "scim".into())]);

    let again = scim(&app, &token, "POST", "/Users", Some(jane("JANE.DOE@sunrise.example"))).await;
    assert_scim_error(&again, 409, Some("uniqueness"));
});

app_test!(reads_honour_etags_and_writes_honour_if_match, |app| async move {
    let w = world(&app).await;
    let mara = app.signed_in(MARA).await;
    let token = scim_token(&app, &mara, &w.sunrise, "Okta").await;
    let created = create(&app, &token, "etag.person@sunrise.example").await;
    let path = format!("/Users/{}", created["id"].as_str().unwrap());
    let read = scim(&app, &token, "GET", &path, None).await;
    let etag = read.headers["etag"].to_str().unwrap().to_string();
    assert_eq!(etag, read.body["meta"]["version"].as_str().unwrap());
    tokio::time::sleep(std::time::Duration::from_millis(5)).await;
    let patch = json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
        "Operations": [{"op": "replace", "path": "name.givenName", "value": "Janet"}]});
    let changed = scim_with(&app, &token, "PATCH", &path, Some(patch.clone()), &[("if-match", &etag)]).await;
    assert_eq!(changed.status, StatusCode::OK, "{}", changed.body);
    assert_ne!(changed.headers["etag"].to_str().unwrap(), etag);
    let stale = scim_with(&app, &token, "PATCH", &path, Some(patch), &[("if-match", &etag)]).await;
    assert_scim_error(&stale, 412, None);
    let stale_delete = scim_with(&app, &token, "DELETE", &path, None, &[("if-match", &etag)]).await;
    assert_scim_error(&stale_delete, 412, None);
    assert_eq!(scim(&app, &token, "GET", &path, None).await.body["name"]["givenName"], "Janet");
});

app_test!(what_identity_providers_send_is_understood, |app| async move {
    let w = world(&app).await;
    let mara = app.signed_in(MARA).await;
    let token = scim_token(&app, &mara, &w.sunrise, "Entra ID").await;
    let created = create(&app, &token, "idp.shapes@sunrise.example").await;
    let path = format!("/Users/{}", created["id"].as_str().unwrap());
    let patch = |ops: Value| json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"], "Operations": ops});

    // Entra ID: capitalised ops, a value object with dotted keys, booleans as strings.
    let answer = scim(&app, &token, "PATCH", &path, Some(patch(json!([
        {"op": "Replace", "value": {"name.givenName": "Janie", "name.familyName": "Dough"}},
        {"op": "Add", "path": "externalId", "value": "entra-42"},
        {"op": "Replace", "path": "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department", "value": "Ops"},
    ])))).await;
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.body);
    assert_eq!(
        (answer.body["name"]["givenName"].as_str(), answer.body["name"]["familyName"].as_str()),
        (Some("Janie"), Some("Dough"))
    );
    assert_eq!(answer.body["externalId"], "entra-42");
    // A value-path filter on the work email.
    let answer = scim(
        &app,
        &token,
        "PATCH",
        &path,
        Some(patch(json!([
            {"op": "replace", "path": "emails[type eq \"work\"].value", "value": "idp.renamed@sunrise.example"},
        ]))),
    )
    .await;
    assert_eq!(answer.body["userName"], "idp.renamed@sunrise.example", "{}", answer.body);
    // externalId matching.
    let found = scim(&app, &token, "GET", "/Users?filter=externalId%20eq%20%22entra-42%22", None).await;
    assert_eq!(found.body["totalResults"], 1, "{}", found.body);
    // The enterprise extension in a whole resource is accepted.
    let mut with_extension = jane("enterprise.person@sunrise.example");
    with_extension["schemas"] = json!([
        "urn:ietf:params:scim:schemas:core:2.0:User",
        "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"
    ]);
    with_extension["urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"] =
        json!({"employeeNumber": "7", "department": "Ops"});
    assert_eq!(scim(&app, &token, "POST", "/Users", Some(with_extension)).await.status, StatusCode::CREATED);

    // "False" deactivates: the person's sessions end at once.
    let person = created["id"].as_str().unwrap();
    let answer =
        scim(&app, &token, "PATCH", &path, Some(patch(json!([{"op": "Replace", "path": "active", "value": "False"}]))))
            .await;
    assert_eq!(answer.body["active"], false, "{}", answer.body);
    let deactivated: Option<i64> = sqlx::query_scalar("SELECT deactivated_at FROM users WHERE id = $1")
        .bind(person)
        .fetch_one(app.store.pool())
        .await
        .unwrap();
    assert!(deactivated.is_some());
    let answer =
        scim(&app, &token, "PATCH", &path, Some(patch(json!([{"op": "replace", "value": {"active": true}}])))).await;
    assert_eq!(answer.body["active"], true);
    let actions: Vec<(String, String, String)> = history_rows(&app, person).await;
    for kind in ["user.updated", "email.changed", "user.deactivated", "user.reactivated"] {
        assert!(
            actions.iter().any(|(a, actor, source)| a == kind && actor == "Entra ID" && source == "scim"),
            "{kind}: {actions:?}"
        );
    }
});

app_test!(a_directory_user_name_apart_from_the_email_is_kept_and_filtered, |app| async move {
    let w = world(&app).await;
    let mara = app.signed_in(MARA).await;
    let token = scim_token(&app, &mara, &w.sunrise, "Google Workspace").await;
    let body = json!({"userName": "jdoe", "name": {"givenName": "John", "familyName": "Doe"},
        "emails": [{"value": "john.doe@sunrise.example", "type": "work", "primary": true}]});
    let created = scim(&app, &token, "POST", "/Users", Some(body.clone())).await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.body);
    assert_eq!(created.body["userName"], "jdoe");
    assert_eq!(created.body["emails"][0]["value"], "john.doe@sunrise.example");
    let found = scim(&app, &token, "GET", "/Users?filter=userName%20eq%20%22JDOE%22", None).await;
    assert_eq!(found.body["totalResults"], 1);
    let mut twin = body;
    twin["emails"] = json!([{"value": "other.doe@sunrise.example"}]);
    assert_scim_error(&scim(&app, &token, "POST", "/Users", Some(twin)).await, 409, Some("uniqueness"));
    let alone = json!({"userName": "nomail", "name": {"givenName": "No", "familyName": "Mail"}});
    assert_scim_error(&scim(&app, &token, "POST", "/Users", Some(alone)).await, 400, Some("invalidValue"));
    let search = scim(&app, &token, "POST", "/Users/.search", Some(json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:SearchRequest"], "filter": "userName sw \"jd\"", "attributes": ["userName"]}))).await;
    assert_eq!(search.body["totalResults"], 1, "{}", search.body);
    assert!(search.body["Resources"][0].get("emails").is_none());
});

app_test!(replace_and_delete_keep_history, |app| async move {
    let w = world(&app).await;
    let mara = app.signed_in(MARA).await;
    let token = scim_token(&app, &mara, &w.sunrise, "Okta").await;
    let created = create(&app, &token, "replace.me@sunrise.example").await;
    let id = created["id"].as_str().unwrap();
    let path = format!("/Users/{id}");
    let mut replacement = jane("replace.me@sunrise.example");
    replacement["name"] = json!({"givenName": "Rita", "familyName": "Place"});
    replacement.as_object_mut().unwrap().remove("externalId");
    let answer = scim(&app, &token, "PUT", &path, Some(replacement)).await;
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.body);
    assert_eq!(answer.body["name"]["givenName"], "Rita");
    assert!(answer.body.get("externalId").is_none(), "PUT without externalId clears it: {}", answer.body);
    assert_eq!(scim(&app, &token, "DELETE", &path, None).await.status, StatusCode::NO_CONTENT);
    assert_scim_error(&scim(&app, &token, "GET", &path, None).await, 404, None);
    let actions: Vec<String> = history_rows(&app, id).await.into_iter().map(|r| r.0).collect();
    assert_eq!(actions.first().map(String::as_str), Some("user.created"));
    assert_eq!(actions.last().map(String::as_str), Some("contact.deleted"));
});

app_test!(filters_page_sort_and_choose_attributes, |app| async move {
    let w = world(&app).await;
    let mara = app.signed_in(MARA).await;
    let token = scim_token(&app, &mara, &w.sunrise, "Okta").await;
    for email in ["ann.alpha@sunrise.example", "bob.beta@sunrise.example", "cid.gamma@sunrise.example"] {
        create(&app, &token, email).await;
    }
    let list = |filter: &str| {
        let app = &app;
        let token = &token;
        let query = format!("/Users?filter={}", urlencode(filter));
        async move { scim(app, token, "GET", &query, None).await }
    };
    let names = |answer: &Answer| -> Vec<String> {
        answer.body["Resources"]
            .as_array()
            .unwrap()
            .iter()
            .map(|u| u["userName"].as_str().unwrap().to_string())
            .collect()
    };
    assert_eq!(names(&list(r#"userName eq "BOB.BETA@sunrise.example""#).await), ["bob.beta@sunrise.example"]);
    assert_eq!(names(&list(r#"userName sw "ann" or emails.value ew "gamma@sunrise.example""#).await).len(), 2);
    assert_eq!(names(&list(r#"userName co "%""#).await).len(), 0, "LIKE wildcards are literal");
    assert_eq!(
        names(&list(r#"(userName sw "an" or userName sw "b") and not (userName sw "b")"#).await),
        ["ann.alpha@sunrise.example"]
    );
    assert_eq!(list(r#"active eq true and meta.lastModified gt "2000-01-01T00:00:00Z""#).await.body["totalResults"], 7);
    assert_eq!(list(r#"userName eq "x' OR 1=1 --""#).await.body["totalResults"], 0);
    assert_scim_error(&list(r#"userName eq"#).await, 400, Some("invalidFilter"));
    assert_scim_error(&list(r#"nickName eq "x""#).await, 400, Some("invalidFilter"));

    let page =
        scim(&app, &token, "GET", "/Users?sortBy=userName&sortOrder=descending&startIndex=2&count=2", None).await;
    assert_eq!(page.body["totalResults"], 7);
    assert_eq!(page.body["startIndex"], 2);
    assert_eq!(page.body["itemsPerPage"], 2);
    assert_eq!(names(&page), ["morgan.master@sunrise.example", "mara.master@sunrise.example"]);
    let slim = scim(&app, &token, "GET", "/Users?attributes=userName&count=1", None).await;
    let first = &slim.body["Resources"][0];
    assert!(first.get("userName").is_some() && first.get("id").is_some() && first.get("name").is_none(), "{first}");
    let without = scim(&app, &token, "GET", "/Users?excludedAttributes=emails,name.givenName&count=1", None).await;
    let first = &without.body["Resources"][0];
    assert!(
        first.get("emails").is_none()
            && first["name"].get("givenName").is_none()
            && first["name"].get("familyName").is_some(),
        "{first}"
    );
});

fn urlencode(text: &str) -> String {
    text.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

app_test!(bad_input_gets_scim_errors_and_writes_nothing, |app| async move {
    let w = world(&app).await;
    let mara = app.signed_in(MARA).await;
    let token = scim_token(&app, &mara, &w.sunrise, "Okta").await;
    // A first use notes the token's last use; the snapshot comes after it.
    assert_eq!(scim(&app, &token, "GET", "/Users", None).await.status, StatusCode::OK);
    let before = app.snapshot().await;
    let response = app
        .client()
        .post(app.url("/scim/v2/Users"))
        .bearer_auth(&token)
        .header("content-type", "application/scim+json")
        .body("{\"userName\": ")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["scimType"], "invalidSyntax");
    let mut unknown = jane("unknown.attr@sunrise.example");
    unknown["nickName"] = json!("Jay");
    assert_scim_error(&scim(&app, &token, "POST", "/Users", Some(unknown)).await, 400, Some("invalidValue"));
    let mut bad_locale = jane("bad.locale@sunrise.example");
    bad_locale["locale"] = json!("xx-YY");
    assert_scim_error(&scim(&app, &token, "POST", "/Users", Some(bad_locale)).await, 400, Some("invalidValue"));
    assert_scim_error(
        &scim(&app, &token, "POST", "/Users", Some(json!({"name": {"givenName": "No"}}))).await,
        400,
        Some("invalidValue"),
    );
    assert_eq!(snapshot_difference(&before, &app.snapshot().await), Vec::<String>::new());

    let created = create(&app, &token, "patch.target@sunrise.example").await;
    let path = format!("/Users/{}", created["id"].as_str().unwrap());
    let before = app.snapshot().await;
    // The first operation is fine, the second is not: nothing is written.
    let patch = json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"], "Operations": [
        {"op": "replace", "path": "name.givenName", "value": "Half"},
        {"op": "remove", "path": "userName"}]});
    assert_scim_error(&scim(&app, &token, "PATCH", &path, Some(patch)).await, 400, Some("mutability"));
    let patch = json!({"Operations": [{"op": "replace", "path": "nickName", "value": "x"}]});
    assert_scim_error(&scim(&app, &token, "PATCH", &path, Some(patch)).await, 400, Some("invalidPath"));
    let patch = json!({"Operations": [{"op": "replace", "path": "emails[type eq \"home\"].value", "value": "x@y.z"}]});
    assert_scim_error(&scim(&app, &token, "PATCH", &path, Some(patch)).await, 400, Some("noTarget"));
    let patch = json!({"Operations": [{"op": "replace", "path": "active", "value": "maybe"}]});
    assert_scim_error(&scim(&app, &token, "PATCH", &path, Some(patch)).await, 400, Some("invalidValue"));
    let taken = json!({"Operations": [{"op": "replace", "path": "userName", "value": MARA}]});
    assert_scim_error(&scim(&app, &token, "PATCH", &path, Some(taken)).await, 409, Some("uniqueness"));
    assert_scim_error(&scim(&app, &token, "GET", "/Users?count=many", None).await, 400, Some("invalidValue"));
    assert_eq!(snapshot_difference(&before, &app.snapshot().await), Vec::<String>::new());
});

app_test!(another_partners_token_finds_nothing_of_this_partner, |app| async move {
    let w = world(&app).await;
    let mara = app.signed_in(MARA).await;
    let nina = app.signed_in("nina.north@northwind.example").await;
    let sunrise = scim_token(&app, &mara, &w.sunrise, "Entra ID").await;
    let northwind = scim_token(&app, &nina, &w.northwind, "Okta").await;
    let created = create(&app, &sunrise, "isolated.person@sunrise.example").await;
    let path = format!("/Users/{}", created["id"].as_str().unwrap());
    assert_scim_error(&scim(&app, &northwind, "GET", &path, None).await, 404, None);
    let patch = json!({"Operations": [{"op": "replace", "path": "active", "value": false}]});
    assert_scim_error(&scim(&app, &northwind, "PATCH", &path, Some(patch)).await, 404, None);
    assert_scim_error(&scim(&app, &northwind, "DELETE", &path, None).await, 404, None);
    assert_scim_error(
        &scim(&app, &northwind, "PUT", &path, Some(jane("isolated.person@sunrise.example"))).await,
        404,
        None,
    );
    let found =
        scim(&app, &northwind, "GET", "/Users?filter=userName%20eq%20%22isolated.person%40sunrise.example%22", None)
            .await;
    assert_eq!(found.body["totalResults"], 0);
    let all = scim(&app, &northwind, "GET", "/Users", None).await;
    assert!(
        all.body["Resources"]
            .as_array()
            .unwrap()
            .iter()
            .all(|u| u["userName"].as_str().unwrap().ends_with("@northwind.example")),
        "{}",
        all.body
    );
    // Even a token minted by an operator acts for its one partner only.
    let operator = app.signed_in("olivia.operator@starship.example").await;
    let operators = scim_token(&app, &operator, &w.northwind, "Ops").await;
    assert_scim_error(&scim(&app, &operators, "GET", &path, None).await, 404, None);
});

app_test!(a_partner_admin_manages_scim_tokens_on_a_page, |app| async move {
    use crate::web::{csrf_of, location, page, signed_in_browser};
    let w = world(&app).await;
    let browser = signed_in_browser(&app, MARA).await;
    let (_, account) = page(&app, &browser, "/").await;
    let href = format!("/partners/{}/scim-tokens", w.sunrise);
    assert!(account.contains(&format!("href=\"{href}\"")), "My Account links the SCIM tokens page");
    let (status, html) = page(&app, &browser, &href).await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains("No SCIM tokens."));
    let csrf = csrf_of(&html);

    let forged = browser.post(app.url(&href)).form(&[("name", "Forged")]).send().await.unwrap();
    assert_eq!(forged.status(), StatusCode::FORBIDDEN, "a form without its CSRF token is refused");
    let created =
        browser.post(app.url(&href)).form(&[("csrf", csrf.as_str()), ("name", "Entra ID")]).send().await.unwrap();
    assert_eq!(created.status(), StatusCode::OK);
    let html = created.text().await.unwrap();
    let start = html.find("sscim_").expect("the secret, shown once");
    let secret: String =
        html[start..].chars().take_while(|c| c.is_ascii_alphanumeric() || *c == '_' || *c == '-').collect();
    assert_eq!(scim(&app, &secret, "GET", "/Users", None).await.status, StatusCode::OK);
    let (_, listed) = page(&app, &browser, &href).await;
    assert!(listed.contains("Entra ID") && !listed.contains(&secret), "listed without its secret");

    let (_, tokens) = app.get(&app.signed_in(MARA).await, &format!("/api/v1/partners/{}/scim-tokens", w.sunrise)).await;
    let id = tokens[0]["id"].as_str().unwrap();
    let revoked =
        browser.post(app.url(&format!("{href}/{id}/revoke"))).form(&[("csrf", csrf.as_str())]).send().await.unwrap();
    assert_eq!(revoked.status(), StatusCode::SEE_OTHER);
    assert_eq!(location(&revoked), format!("{href}?done=revoked"));
    assert_scim_error(&scim(&app, &secret, "GET", "/Users", None).await, 401, None);

    let plain = signed_in_browser(&app, "pat.plain@sunrise.example").await;
    let (_, account) = page(&app, &plain, "/").await;
    assert!(!account.contains("scim-tokens"), "not offered to someone who may not create users");
    assert_eq!(page(&app, &plain, &href).await.0, StatusCode::FORBIDDEN);
    let nina = signed_in_browser(&app, "nina.north@northwind.example").await;
    assert_eq!(page(&app, &nina, &href).await.0, StatusCode::NOT_FOUND);
});
