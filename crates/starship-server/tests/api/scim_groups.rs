//! SCIM Groups: a partner's directory groups with what identity providers
//! send, filters, ETags and isolation; and the roles a group maps to,
//! granted to its members while they are members, under what the
//! mapping's author may grant. On both stores.

use reqwest::StatusCode;
use serde_json::{json, Value};
use starship_store::sqlx;

use crate::scim::{assert_scim_error, create, history_rows, scim, scim_token, scim_with, MARA};
use crate::support::*;

const CORE_GROUP: &str = "urn:ietf:params:scim:schemas:core:2.0:Group";

fn group(name: &str, members: &[&str]) -> Value {
    let members: Vec<Value> = members.iter().map(|id| json!({"value": id})).collect();
    json!({"schemas": [CORE_GROUP], "displayName": name, "externalId": format!("ext-{name}"), "members": members})
}

async fn create_group(app: &TestApp, token: &str, name: &str, members: &[&str]) -> Value {
    let answer = scim(app, token, "POST", "/Groups", Some(group(name, members))).await;
    assert_eq!(answer.status, StatusCode::CREATED, "{}", answer.body);
    answer.body
}

fn member_ids(group: &Value) -> Vec<String> {
    let mut ids: Vec<String> =
        group["members"].as_array().unwrap().iter().map(|m| m["value"].as_str().unwrap().to_string()).collect();
    ids.sort();
    ids
}

fn sorted(ids: &[&str]) -> Vec<String> {
    let mut ids: Vec<String> = ids.iter().map(|s| s.to_string()).collect();
    ids.sort();
    ids
}

fn patch(operations: Value) -> Value {
    json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"], "Operations": operations})
}

async fn backlot_roles(app: &TestApp, user_id: &str) -> Vec<String> {
    sqlx::query_scalar("SELECT role FROM grants WHERE user_id = $1 AND application = 'backlot' ORDER BY role")
        .bind(user_id)
        .fetch_all(app.store.pool())
        .await
        .unwrap()
}

fn id(resource: &Value) -> String {
    resource["id"].as_str().unwrap().to_string()
}

app_test!(groups_are_created_read_replaced_and_deleted_with_the_partners_people, |app| async move {
    let w = world(&app).await;
    let mara = app.signed_in(MARA).await;
    let token = scim_token(&app, &mara, &w.sunrise, "Entra ID").await;
    let jane = id(&create(&app, &token, "jane.doe@sunrise.example").await);
    let john = id(&create(&app, &token, "john.roe@sunrise.example").await);

    let created = create_group(&app, &token, "Backlot Operators", &[&jane]).await;
    let gid = id(&created);
    assert_eq!(created["schemas"][0], CORE_GROUP);
    assert_eq!(created["displayName"], "Backlot Operators");
    assert_eq!(created["externalId"], "ext-Backlot Operators");
    assert_eq!(created["members"][0]["value"], jane.as_str());
    assert_eq!(created["members"][0]["type"], "User");
    assert_eq!(created["meta"]["resourceType"], "Group");
    assert!(created["meta"]["location"].as_str().unwrap().ends_with(&format!("/scim/v2/Groups/{gid}")));

    let read = scim(&app, &token, "GET", &format!("/Groups/{gid}"), None).await;
    assert_eq!(read.status, StatusCode::OK);
    let etag = read.headers["etag"].to_str().unwrap().to_string();
    assert_eq!(read.body["meta"]["version"], etag.as_str());
    let unchanged = scim_with(&app, &token, "GET", &format!("/Groups/{gid}"), None, &[("if-none-match", &etag)]).await;
    assert_eq!(unchanged.status, StatusCode::NOT_MODIFIED);

    let replaced = scim_with(
        &app,
        &token,
        "PUT",
        &format!("/Groups/{gid}"),
        Some(group("Backlot Ops", &[&john])),
        &[("if-match", &etag)],
    )
    .await;
    assert_eq!(replaced.status, StatusCode::OK, "{}", replaced.body);
    assert_eq!(replaced.body["displayName"], "Backlot Ops");
    assert_eq!(member_ids(&replaced.body), sorted(&[&john]));
    let stale = scim_with(
        &app,
        &token,
        "PATCH",
        &format!("/Groups/{gid}"),
        Some(patch(json!([{"op": "replace", "path": "displayName", "value": "Late"}]))),
        &[("if-match", &etag)],
    )
    .await;
    assert_scim_error(&stale, 412, None);

    assert_eq!(
        history_rows(&app, &jane).await.last().unwrap(),
        &("scim-group.left".into(), "Entra ID".into(), "scim".into())
    );
    let john_rows = history_rows(&app, &john).await;
    assert_eq!(john_rows.last().unwrap(), &("scim-group.joined".into(), "Entra ID".into(), "scim".into()));

    let deleted = scim(&app, &token, "DELETE", &format!("/Groups/{gid}"), None).await;
    assert_eq!(deleted.status, StatusCode::NO_CONTENT);
    assert_scim_error(&scim(&app, &token, "GET", &format!("/Groups/{gid}"), None).await, 404, None);
    assert_eq!(history_rows(&app, &john).await.last().unwrap().0, "scim-group.left");
    let changes: Vec<String> = history_rows(&app, &w.backlot_admin)
        .await
        .into_iter()
        .filter(|r| r.0 == "scim-group.changed")
        .map(|r| r.1)
        .collect();
    assert_eq!(changes, ["Entra ID", "Entra ID", "Entra ID"], "created, renamed, deleted");
});

app_test!(what_identity_providers_send_to_groups_is_understood, |app| async move {
    let w = world(&app).await;
    let mara = app.signed_in(MARA).await;
    let token = scim_token(&app, &mara, &w.sunrise, "Okta").await;
    let a = id(&create(&app, &token, "a.person@sunrise.example").await);
    let b = id(&create(&app, &token, "b.person@sunrise.example").await);
    let c = id(&create(&app, &token, "c.person@sunrise.example").await);
    let gid = id(&create_group(&app, &token, "Editors", &[]).await);
    let path = format!("/Groups/{gid}");
    let send = |operations: Value| {
        let (app, token, path) = (&app, &token, &path);
        async move {
            let answer = scim(app, token, "PATCH", path, Some(patch(operations))).await;
            assert_eq!(answer.status, StatusCode::OK, "{}", answer.body);
            answer.body
        }
    };

    // Okta: capitalised ops, members as {value, display}.
    let body =
        send(json!([{"op": "Add", "path": "members", "value": [{"value": a, "display": "A"}, {"value": b}]}])).await;
    assert_eq!(member_ids(&body), sorted(&[&a, &b]));
    // Adding someone who is a member already changes nothing.
    let body = send(json!([{"op": "add", "path": "members", "value": [{"value": a}]}])).await;
    assert_eq!(member_ids(&body), sorted(&[&a, &b]));
    // Entra ID: remove by a value filter in the path.
    let body = send(json!([{"op": "Remove", "path": format!("members[value eq \"{a}\"]")}])).await;
    assert_eq!(member_ids(&body), sorted(&[&b]));
    // Entra ID: a replace without a path carrying the id and the new name.
    let body = send(json!([{"op": "Replace", "value": {"id": gid, "displayName": "Senior Editors"}}])).await;
    assert_eq!(body["displayName"], "Senior Editors");
    // A no-path add with members, and a remove listing members in its value.
    let body = send(json!([{"op": "add", "value": {"members": [{"value": c}]}}])).await;
    assert_eq!(member_ids(&body), sorted(&[&b, &c]));
    let body = send(json!([{"op": "remove", "path": "members", "value": [{"value": b}]}])).await;
    assert_eq!(member_ids(&body), sorted(&[&c]));
    // Replace the members whole, then remove them all.
    let body = send(json!([{"op": "replace", "path": "members", "value": [{"value": a}, {"value": b}]}])).await;
    assert_eq!(member_ids(&body), sorted(&[&a, &b]));
    let body = send(json!([{"op": "remove", "path": "members"}])).await;
    assert!(member_ids(&body).is_empty());
    let body = send(json!([{"op": "replace", "path": "externalId", "value": "okta-42"}])).await;
    assert_eq!(body["externalId"], "okta-42");

    let bad = scim(&app, &token, "PATCH", &path, Some(patch(json!([{"op": "remove", "path": "displayName"}])))).await;
    assert_scim_error(&bad, 400, Some("mutability"));
    let bad =
        scim(&app, &token, "PATCH", &path, Some(patch(json!([{"op": "replace", "path": "owner", "value": "x"}]))))
            .await;
    assert_scim_error(&bad, 400, Some("invalidPath"));
    let bad =
        scim(&app, &token, "PATCH", &path, Some(patch(json!([{"op": "add", "path": "members[value", "value": []}]))))
            .await;
    assert_scim_error(&bad, 400, Some("invalidPath"));
});

app_test!(groups_filter_page_and_choose_attributes, |app| async move {
    let w = world(&app).await;
    let mara = app.signed_in(MARA).await;
    let token = scim_token(&app, &mara, &w.sunrise, "Entra ID").await;
    let jane = id(&create(&app, &token, "jane.doe@sunrise.example").await);
    let operators = id(&create_group(&app, &token, "Backlot Operators", &[&jane]).await);
    create_group(&app, &token, "Academy Crew", &[]).await;
    create_group(&app, &token, "Content Team", &[]).await;

    let list = |query: String| {
        let (app, token) = (&app, &token);
        async move {
            let answer = scim(app, token, "GET", &format!("/Groups{query}"), None).await;
            assert_eq!(answer.status, StatusCode::OK, "{query}: {}", answer.body);
            answer.body
        }
    };
    let names = |body: &Value| -> Vec<String> {
        body["Resources"].as_array().unwrap().iter().map(|g| g["displayName"].as_str().unwrap().to_string()).collect()
    };
    let all = list(String::new()).await;
    assert_eq!(all["totalResults"], 3);
    assert_eq!(names(&all), ["Academy Crew", "Backlot Operators", "Content Team"]);
    let found = list("?filter=displayName%20eq%20%22backlot%20operators%22".into()).await;
    assert_eq!(names(&found), ["Backlot Operators"]);
    let found = list("?filter=externalId%20eq%20%22ext-Content%20Team%22".into()).await;
    assert_eq!(names(&found), ["Content Team"]);
    let found = list(format!("?filter=members%5Bvalue%20eq%20%22{jane}%22%5D")).await;
    assert_eq!(found["Resources"][0]["id"], operators.as_str());
    let found = list(format!("?filter=members.value%20eq%20%22{jane}%22")).await;
    assert_eq!(names(&found), ["Backlot Operators"]);
    let page = list("?startIndex=2&count=1".into()).await;
    assert_eq!((page["totalResults"].as_i64(), page["startIndex"].as_i64()), (Some(3), Some(2)));
    assert_eq!(names(&page), ["Backlot Operators"]);
    let slim = list("?excludedAttributes=members".into()).await;
    assert!(slim["Resources"].as_array().unwrap().iter().all(|g| g.get("members").is_none()), "{slim}");
    let only = list("?attributes=displayName".into()).await;
    assert!(only["Resources"][0].get("meta").is_none() && only["Resources"][0].get("displayName").is_some());
    let everything = scim(&app, &token, "POST", "/.search", Some(json!({"filter": "displayName sw \"Ac\""}))).await;
    assert_scim_error(&everything, 501, None);
    let searched =
        scim(&app, &token, "POST", "/Groups/.search", Some(json!({"filter": "displayName sw \"Ac\""}))).await;
    assert_eq!(names(&searched.body), ["Academy Crew"]);

    let bad = scim(&app, &token, "GET", "/Groups?filter=userName%20eq%20%22x%22", None).await;
    assert_scim_error(&bad, 400, Some("invalidFilter"));
    let taken = scim(&app, &token, "POST", "/Groups", Some(group("academy crew", &[]))).await;
    assert_scim_error(&taken, 409, Some("uniqueness"));
    let unnamed = scim(&app, &token, "POST", "/Groups", Some(json!({"members": []}))).await;
    assert_scim_error(&unnamed, 400, Some("invalidValue"));
    let unknown = scim(&app, &token, "POST", "/Groups", Some(json!({"displayName": "X", "owner": "me"}))).await;
    assert_scim_error(&unknown, 400, Some("invalidValue"));
});

app_test!(groups_hold_only_the_partners_people_and_another_partner_sees_none, |app| async move {
    let w = world(&app).await;
    let mara = app.signed_in(MARA).await;
    let nina = app.signed_in("nina.north@northwind.example").await;
    let sunrise = scim_token(&app, &mara, &w.sunrise, "Entra ID").await;
    let northwind = scim_token(&app, &nina, &w.northwind, "Okta").await;
    let theirs = id(&create(&app, &northwind, "their.person@northwind.example").await);
    let before: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM scim_groups").fetch_one(app.store.pool()).await.unwrap();
    let foreign = scim(&app, &sunrise, "POST", "/Groups", Some(group("Mixed", &[&theirs]))).await;
    assert_scim_error(&foreign, 400, Some("invalidValue"));
    let after: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM scim_groups").fetch_one(app.store.pool()).await.unwrap();
    assert_eq!(before, after, "nothing half-written");

    let gid = id(&create_group(&app, &sunrise, "Backlot Operators", &[&w.plain]).await);
    let add_theirs = patch(json!([{"op": "add", "path": "members", "value": [{"value": theirs}]}]));
    let refused = scim(&app, &sunrise, "PATCH", &format!("/Groups/{gid}"), Some(add_theirs)).await;
    assert_scim_error(&refused, 400, Some("invalidValue"));
    let links: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM scim_group_members WHERE user_id = $1")
        .bind(&theirs)
        .fetch_one(app.store.pool())
        .await
        .unwrap();
    assert_eq!(links, 0, "never a link to another partner's person");

    let path = format!("/Groups/{gid}");
    assert_scim_error(&scim(&app, &northwind, "GET", &path, None).await, 404, None);
    let rename = patch(json!([{"op": "replace", "path": "displayName", "value": "Mine"}]));
    assert_scim_error(&scim(&app, &northwind, "PATCH", &path, Some(rename)).await, 404, None);
    assert_scim_error(&scim(&app, &northwind, "PUT", &path, Some(group("Mine", &[]))).await, 404, None);
    assert_scim_error(&scim(&app, &northwind, "DELETE", &path, None).await, 404, None);
    let found =
        scim(&app, &northwind, "GET", "/Groups?filter=displayName%20eq%20%22Backlot%20Operators%22", None).await;
    assert_eq!(found.body["totalResults"], 0);
    let found =
        scim(&app, &northwind, "GET", &format!("/Groups?filter=members.value%20eq%20%22{}%22", w.plain), None).await;
    assert_eq!(found.body["totalResults"], 0);
    // The same name is free in another partner's directory.
    create_group(&app, &northwind, "Backlot Operators", &[&theirs]).await;
});

app_test!(discovery_lists_groups, |app| async move {
    let (_, types) = app.get(&app.client(), "/scim/v2/ResourceTypes").await;
    let ids: Vec<&str> = types["Resources"].as_array().unwrap().iter().map(|t| t["id"].as_str().unwrap()).collect();
    assert_eq!(ids, ["User", "Group"]);
    let (status, group) = app.get(&app.client(), "/scim/v2/ResourceTypes/Group").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(group["endpoint"], "/Groups");
    let (status, schema) = app.get(&app.client(), &format!("/scim/v2/Schemas/{CORE_GROUP}")).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(schema["attributes"][0]["name"], "displayName");
});

fn cpo() -> Value {
    json!({"application": "backlot", "role": "content-partner-operations"})
}

app_test!(members_of_a_mapped_group_hold_its_roles_while_they_are_members, |app| async move {
    let w = world(&app).await;
    let mara = app.signed_in(MARA).await;
    let token = scim_token(&app, &mara, &w.sunrise, "Entra ID").await;
    let jane = id(&create(&app, &token, "jane.doe@sunrise.example").await);
    let gid = id(&create_group(&app, &token, "Backlot Operators", &[&jane]).await);
    let roles = format!("/api/v1/partners/{}/scim-groups/{gid}/roles", w.sunrise);

    let (status, mapping) = app.post(&mara, &roles, cpo()).await;
    assert_eq!(status, StatusCode::CREATED, "{mapping}");
    assert_eq!(mapping["created_by"], w.backlot_admin.as_str());
    assert_eq!(backlot_roles(&app, &jane).await, ["content-partner-operations"], "granted to present members at once");
    assert_eq!(app.post(&mara, &roles, cpo()).await.0, StatusCode::CONFLICT);
    let (status, listed) = app.get(&mara, &format!("/api/v1/partners/{}/scim-groups", w.sunrise)).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(listed[0]["display_name"], "Backlot Operators");
    assert_eq!(listed[0]["members"], 1);
    assert_eq!(listed[0]["roles"][0]["role"], "content-partner-operations");

    // A member who joins gets the role through SCIM; History says so.
    let john = id(&create(&app, &token, "john.roe@sunrise.example").await);
    let add = patch(json!([{"op": "add", "path": "members", "value": [{"value": john}]}]));
    assert_eq!(scim(&app, &token, "PATCH", &format!("/Groups/{gid}"), Some(add)).await.status, StatusCode::OK);
    assert_eq!(backlot_roles(&app, &john).await, ["content-partner-operations"]);
    let rows = history_rows(&app, &john).await;
    assert!(rows.contains(&("role.granted".into(), "Entra ID".into(), "scim".into())), "{rows:?}");
    assert!(rows.contains(&("scim-group.joined".into(), "Entra ID".into(), "scim".into())), "{rows:?}");
    let (_, profile) = app.get(&mara, &format!("/api/v1/users/{john}")).await;
    assert_eq!(profile["roles"][0]["role"], "content-partner-operations", "{profile}");

    // A role held directly before joining stays when the member leaves.
    app.grant(&w.plain, "backlot", "content-partner-operations", None).await;
    let both = patch(json!([{"op": "add", "path": "members", "value": [{"value": w.plain}]}]));
    scim(&app, &token, "PATCH", &format!("/Groups/{gid}"), Some(both)).await;
    let out = patch(
        json!([{"op": "remove", "path": format!("members[value eq \"{john}\"]")}, {"op": "remove", "path": format!("members[value eq \"{}\"]", w.plain)}]),
    );
    assert_eq!(scim(&app, &token, "PATCH", &format!("/Groups/{gid}"), Some(out)).await.status, StatusCode::OK);
    assert!(backlot_roles(&app, &john).await.is_empty(), "leaving takes back what the group gave");
    assert_eq!(backlot_roles(&app, &w.plain).await, ["content-partner-operations"], "a direct grant stays");
    let rows = history_rows(&app, &john).await;
    assert!(rows.contains(&("role.revoked".into(), "Entra ID".into(), "scim".into())), "{rows:?}");

    // Two groups giving the same role: leaving one keeps it.
    let second = id(&create_group(&app, &token, "Content Team", &[&jane]).await);
    let (status, _) =
        app.post(&mara, &format!("/api/v1/partners/{}/scim-groups/{second}/roles", w.sunrise), cpo()).await;
    assert_eq!(status, StatusCode::CREATED);
    let out = patch(json!([{"op": "remove", "path": "members"}]));
    scim(&app, &token, "PATCH", &format!("/Groups/{gid}"), Some(out)).await;
    assert_eq!(backlot_roles(&app, &jane).await, ["content-partner-operations"], "the other group still gives it");
    // Removing the mapping takes back what it gave.
    let (_, listed) = app.get(&mara, &format!("/api/v1/partners/{}/scim-groups", w.sunrise)).await;
    let team = listed.as_array().unwrap().iter().find(|g| g["id"] == second.as_str()).unwrap();
    let mapping_id = team["roles"][0]["id"].as_str().unwrap();
    let path = format!("/api/v1/partners/{}/scim-groups/{second}/roles/{mapping_id}", w.sunrise);
    assert_eq!(app.delete(&mara, &path).await.0, StatusCode::NO_CONTENT);
    assert!(backlot_roles(&app, &jane).await.is_empty());
    assert_eq!(app.delete(&mara, &path).await.0, StatusCode::NOT_FOUND);
    let actions: Vec<String> = history_rows(&app, &w.backlot_admin).await.into_iter().map(|r| r.0).collect();
    assert!(actions.contains(&"scim-group.role-mapped".into()) && actions.contains(&"scim-group.role-unmapped".into()));
    // Deleting a user through SCIM takes them out of their groups.
    let add = patch(json!([{"op": "add", "path": "members", "value": [{"value": jane}]}]));
    scim(&app, &token, "PATCH", &format!("/Groups/{second}"), Some(add)).await;
    assert_eq!(scim(&app, &token, "DELETE", &format!("/Users/{jane}"), None).await.status, StatusCode::NO_CONTENT);
    let read = scim(&app, &token, "GET", &format!("/Groups/{second}"), None).await;
    assert!(member_ids(&read.body).is_empty(), "{}", read.body);
});

app_test!(a_mapping_gives_only_what_its_author_may_grant_and_stops_when_they_lose_it, |app| async move {
    let w = world(&app).await;
    let mara = app.signed_in(MARA).await;
    let token = scim_token(&app, &mara, &w.sunrise, "Entra ID").await;
    let jane = id(&create(&app, &token, "jane.doe@sunrise.example").await);
    let gid = id(&create_group(&app, &token, "Backlot Operators", &[&jane]).await);
    let roles = format!("/api/v1/partners/{}/scim-groups/{gid}/roles", w.sunrise);

    // Morgan may create the partner's users but is admin of nothing.
    let morgan = app.signed_in("morgan.master@sunrise.example").await;
    let (status, problem) = app.post(&morgan, &roles, cpo()).await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{problem}");
    assert!(backlot_roles(&app, &jane).await.is_empty());
    let plain = app.signed_in("pat.plain@sunrise.example").await;
    assert_eq!(app.post(&plain, &roles, cpo()).await.0, StatusCode::FORBIDDEN);
    let nina = app.signed_in("nina.north@northwind.example").await;
    assert_eq!(app.post(&nina, &roles, cpo()).await.0, StatusCode::NOT_FOUND);
    let their_path = format!("/api/v1/partners/{}/scim-groups/{gid}/roles", w.northwind);
    assert_eq!(app.post(&nina, &their_path, cpo()).await.0, StatusCode::NOT_FOUND, "another partner's group");
    let unknown = json!({"application": "backlot", "role": "no-such-role"});
    assert_eq!(app.post(&mara, &roles, unknown).await.0, StatusCode::UNPROCESSABLE_ENTITY);

    assert_eq!(app.post(&mara, &roles, cpo()).await.0, StatusCode::CREATED);
    assert_eq!(backlot_roles(&app, &jane).await, ["content-partner-operations"]);
    // Mara loses her Backlot admin privilege: the mapping stops giving the role.
    sqlx::query("DELETE FROM admin_privileges WHERE user_id = $1 AND application = 'backlot'")
        .bind(&w.backlot_admin)
        .execute(app.store.pool())
        .await
        .unwrap();
    let operator = app.signed_in("olivia.operator@starship.example").await;
    let ops_token = scim_token(&app, &operator, &w.sunrise, "Ops").await;
    let john = id(&create(&app, &ops_token, "john.roe@sunrise.example").await);
    let add = patch(json!([{"op": "add", "path": "members", "value": [{"value": john}]}]));
    let answer = scim(&app, &ops_token, "PATCH", &format!("/Groups/{gid}"), Some(add)).await;
    assert_eq!(answer.status, StatusCode::OK, "the membership itself is kept: {}", answer.body);
    assert!(backlot_roles(&app, &john).await.is_empty(), "no new grant under a privilege its author lost");
});

app_test!(a_partner_admin_maps_groups_to_roles_on_a_page, |app| async move {
    use crate::web::{csrf_of, location, page, signed_in_browser};
    let w = world(&app).await;
    let mara = app.signed_in(MARA).await;
    let token = scim_token(&app, &mara, &w.sunrise, "Entra ID").await;
    let jane = id(&create(&app, &token, "jane.doe@sunrise.example").await);
    let gid = id(&create_group(&app, &token, "Backlot Operators", &[&jane]).await);
    let browser = signed_in_browser(&app, MARA).await;
    let href = format!("/partners/{}/scim-groups", w.sunrise);
    let (_, tokens_page) = page(&app, &browser, &format!("/partners/{}/scim-tokens", w.sunrise)).await;
    assert!(tokens_page.contains(&format!("href=\"{href}\"")), "the SCIM tokens page links the groups");
    let (status, html) = page(&app, &browser, &href).await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains("Backlot Operators") && html.contains("1 member"), "{html}");
    assert!(html.contains("Backlot: Content Partner Operations"), "a role Mara may grant is offered");
    assert!(!html.contains("Academy User"), "a role she may not grant is not offered");
    let csrf = csrf_of(&html);
    let added = browser
        .post(app.url(&format!("{href}/{gid}/roles")))
        .form(&[("csrf", csrf.as_str()), ("role", "backlot|content-partner-operations")])
        .send()
        .await
        .unwrap();
    assert_eq!(added.status(), StatusCode::SEE_OTHER);
    assert_eq!(location(&added), format!("{href}?done=mapped"));
    assert_eq!(backlot_roles(&app, &jane).await, ["content-partner-operations"]);
    let (_, html) = page(&app, &browser, &href).await;
    assert!(html.contains("<details class=\"confirm\">") && html.contains("lose it now"), "{html}");
    let (_, listed) = app.get(&mara, &format!("/api/v1/partners/{}/scim-groups", w.sunrise)).await;
    let mapping = listed[0]["roles"][0]["id"].as_str().unwrap();
    let removed = browser
        .post(app.url(&format!("{href}/{gid}/roles/{mapping}/remove")))
        .form(&[("csrf", csrf.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(removed.status(), StatusCode::SEE_OTHER);
    assert!(backlot_roles(&app, &jane).await.is_empty());
    let plain = signed_in_browser(&app, "pat.plain@sunrise.example").await;
    assert_eq!(page(&app, &plain, &href).await.0, StatusCode::FORBIDDEN);
    let nina = signed_in_browser(&app, "nina.north@northwind.example").await;
    assert_eq!(page(&app, &nina, &href).await.0, StatusCode::NOT_FOUND);
});

const BULK: &str = "urn:ietf:params:scim:api:messages:2.0:BulkRequest";

app_test!(bulk_creates_users_and_a_group_naming_them_by_bulk_id, |app| async move {
    let w = world(&app).await;
    let mara = app.signed_in(MARA).await;
    let token = scim_token(&app, &mara, &w.sunrise, "Okta").await;
    let (_, config) = app.get(&app.client(), "/scim/v2/ServiceProviderConfig").await;
    assert_eq!(config["bulk"]["supported"], true);
    assert_eq!(config["bulk"]["maxOperations"], 1000);
    let user = |email: &str| json!({"userName": email, "name": {"givenName": "Bulk", "familyName": "Person"}});
    let request = json!({"schemas": [BULK], "Operations": [
        {"method": "POST", "bulkId": "u1", "path": "/Users", "data": user("bulk.one@sunrise.example")},
        {"method": "POST", "bulkId": "u2", "path": "/Users", "data": user("bulk.two@sunrise.example")},
        {"method": "POST", "bulkId": "g1", "path": "/Groups", "data": {"displayName": "Bulk Group", "members": [{"value": "bulkId:u1"}, {"value": "bulkId:u2"}]}},
        {"method": "PATCH", "path": "/Users/bulkId:u2", "data": {"Operations": [{"op": "replace", "path": "active", "value": false}]}},
        {"method": "POST", "bulkId": "dup", "path": "/Users", "data": user("bulk.one@sunrise.example")},
        {"method": "DELETE", "path": "/Groups/bulkId:nothing"},
        {"method": "PUT", "path": "/Groups/bulkId:g1", "data": {"displayName": "Bulk Team", "members": [{"value": "bulkId:u1"}]}},
    ]});
    let answer = scim(&app, &token, "POST", "/Bulk", Some(request)).await;
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.body);
    assert_eq!(answer.body["schemas"][0], "urn:ietf:params:scim:api:messages:2.0:BulkResponse");
    let ops = answer.body["Operations"].as_array().unwrap();
    let statuses: Vec<&str> = ops.iter().map(|o| o["status"].as_str().unwrap()).collect();
    assert_eq!(statuses, ["201", "201", "201", "200", "409", "409", "200"], "{}", answer.body);
    assert_eq!(ops[4]["response"]["scimType"], "uniqueness");
    assert!(ops[0]["location"].as_str().unwrap().contains("/scim/v2/Users/"));
    assert_eq!(ops[0]["bulkId"], "u1");
    let group_path = ops[2]["location"].as_str().unwrap().rsplit_once("/scim/v2").unwrap().1.to_string();
    let group = scim(&app, &token, "GET", &group_path, None).await;
    assert_eq!(group.body["displayName"], "Bulk Team");
    assert_eq!(group.body["members"].as_array().unwrap().len(), 1);
    let two = ops[1]["location"].as_str().unwrap().rsplit_once("/scim/v2").unwrap().1.to_string();
    assert_eq!(scim(&app, &token, "GET", &two, None).await.body["active"], false);
    let one = ops[0]["location"].as_str().unwrap().rsplit('/').next().unwrap().to_string();
    assert_eq!(history_rows(&app, &one).await[0], ("user.created".into(), "Okta".into(), "scim".into()));
});

app_test!(bulk_stops_after_fail_on_errors_and_refuses_what_is_too_big, |app| async move {
    let w = world(&app).await;
    let mara = app.signed_in(MARA).await;
    let token = scim_token(&app, &mara, &w.sunrise, "Okta").await;
    let bad = json!({"method": "POST", "bulkId": "x", "path": "/Users", "data": {"userName": "no-email"}});
    let good = json!({"method": "POST", "bulkId": "y", "path": "/Users", "data": {"userName": "late@sunrise.example"}});
    let request = json!({"schemas": [BULK], "failOnErrors": 1, "Operations": [bad, good]});
    let answer = scim(&app, &token, "POST", "/Bulk", Some(request)).await;
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.body);
    assert_eq!(answer.body["Operations"].as_array().unwrap().len(), 1, "stopped after the first error");
    assert_eq!(answer.body["Operations"][0]["status"], "400");
    let found = scim(&app, &token, "GET", "/Users?filter=userName%20eq%20%22late%40sunrise.example%22", None).await;
    assert_eq!(found.body["totalResults"], 0, "nothing after the stop was written");

    let many: Vec<Value> = (0..1001).map(|i| json!({"method": "DELETE", "path": format!("/Users/{i}")})).collect();
    let answer = scim(&app, &token, "POST", "/Bulk", Some(json!({"schemas": [BULK], "Operations": many}))).await;
    assert_scim_error(&answer, 413, None);
    let huge = "x".repeat(1024 * 1024 + 1);
    let big = json!({"schemas": [BULK], "Operations": [{"method": "POST", "bulkId": "b", "path": "/Users", "data": {"userName": huge}}]});
    assert_scim_error(&scim(&app, &token, "POST", "/Bulk", Some(big)).await, 413, None);
    let answer = scim(
        &app,
        &token,
        "POST",
        "/Bulk",
        Some(json!({"Operations": [{"method": "POST", "path": "/Users", "data": {}}]})),
    )
    .await;
    assert_eq!(answer.body["Operations"][0]["status"], "400", "a POST needs a bulkId: {}", answer.body);
    assert_scim_error(
        &scim(&app, &token, "POST", "/Bulk", Some(json!({"schemas": [BULK]}))).await,
        400,
        Some("invalidSyntax"),
    );
    let other = json!({"Operations": [{"method": "GET", "path": "/Users"}]});
    assert_eq!(scim(&app, &token, "POST", "/Bulk", Some(other)).await.body["Operations"][0]["status"], "400");
});

app_test!(mapping_a_group_refuses_a_tampered_role_and_maps_nothing, |app| async move {
    use crate::web::{csrf_of, page, signed_in_browser};
    let w = world(&app).await;
    let mara = app.signed_in(MARA).await;
    let token = scim_token(&app, &mara, &w.sunrise, "Entra ID").await;
    let jane = id(&create(&app, &token, "jane.doe@sunrise.example").await);
    let gid = id(&create_group(&app, &token, "Backlot Operators", &[&jane]).await);
    let browser = signed_in_browser(&app, MARA).await;
    let href = format!("/partners/{}/scim-groups", w.sunrise);
    let (_, html) = page(&app, &browser, &href).await;
    let csrf = csrf_of(&html);
    for tampered in ["backlot", "backlot|content-partner-operations|", "backlot|content-partner-operations|home"] {
        let response = browser
            .post(app.url(&format!("{href}/{gid}/roles")))
            .form(&[("csrf", csrf.as_str()), ("role", tampered)])
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::BAD_REQUEST, "{tampered}");
    }
    assert_eq!(app.count("scim_group_roles").await, 0, "a refused form maps nothing");
    assert!(backlot_roles(&app, &jane).await.is_empty(), "and grants nothing");
});
