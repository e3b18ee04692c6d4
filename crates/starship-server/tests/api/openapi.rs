//! The OpenAPI document and the router describe the same API: an operation
//! in one but not the other fails here, so the isolation test, which walks
//! both, cannot miss an operation or pass on a removed one.

use std::collections::{BTreeMap, BTreeSet};

use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::source;
use crate::support::*;

/// `(METHOD, path)` of every operation the served document lists.
pub fn documented(doc: &Value) -> BTreeSet<(String, String)> {
    let mut operations = BTreeSet::new();
    for (path, item) in doc["paths"].as_object().expect("paths") {
        for method in item.as_object().expect("a path item").keys() {
            operations.insert((method.to_uppercase(), path.clone()));
        }
    }
    operations
}

app_test!(the_openapi_document_and_the_router_list_the_same_operations, |app| async move {
    let (status, doc) = app.get(&app.client(), "/api/v1/openapi.json").await;
    assert_eq!(status, StatusCode::OK);
    assert!(doc["openapi"].as_str().unwrap().starts_with("3."));
    let documented = documented(&doc);
    let routed = source::routes("api/mod.rs");
    let undocumented: Vec<_> = routed.difference(&documented).collect();
    let unrouted: Vec<_> = documented.difference(&routed).collect();
    assert!(
        undocumented.is_empty() && unrouted.is_empty(),
        "routed but not documented: {undocumented:?}\ndocumented but not routed: {unrouted:?}"
    );
    assert!(routed.len() > 50, "the scan read only {} operations", routed.len());

    // Each parameter sits where the document says: a path parameter in
    // its path, and every placeholder of a path described.
    let mut misplaced = Vec::new();
    for (path, item) in doc["paths"].as_object().unwrap() {
        for (method, operation) in item.as_object().unwrap() {
            let parameters = operation["parameters"].as_array().cloned().unwrap_or_default();
            let in_path: BTreeSet<String> = parameters
                .iter()
                .filter(|p| p["in"] == "path")
                .map(|p| format!("{{{}}}", p["name"].as_str().unwrap()))
                .collect();
            let placeholders: BTreeSet<String> =
                path.split('/').filter(|s| s.starts_with('{')).map(str::to_string).collect();
            if in_path != placeholders {
                misplaced.push(format!("{method} {path}: path parameters {in_path:?}"));
            }
        }
    }
    assert!(misplaced.is_empty(), "{}", misplaced.join("\n"));
});

const METHODS: [&str; 5] = ["get", "post", "put", "patch", "delete"];

app_test!(the_running_server_answers_each_documented_operation_and_only_those, |app| async move {
    let (_, doc) = app.get(&app.client(), "/api/v1/openapi.json").await;
    // The running server agrees: without credentials, each documented
    // operation reaches its handler (401 where the document asks for a
    // token or session, something other than the fallback's 404 and 405
    // elsewhere), and each other method on a documented path is 405.
    let anonymous = app.client();
    for (path, item) in doc["paths"].as_object().unwrap() {
        let concrete: String = path
            .split('/')
            .map(|segment| if segment.starts_with('{') { "x" } else { segment })
            .collect::<Vec<_>>()
            .join("/");
        for method in METHODS {
            // Raw: /healthz answers plain text, which the JSON helper refuses.
            let method_name = reqwest::Method::from_bytes(method.to_uppercase().as_bytes()).unwrap();
            let response = anonymous.request(method_name, app.url(&concrete)).send().await.unwrap();
            let (status, body) = (response.status(), response.text().await.unwrap());
            match item.get(method) {
                Some(operation) => {
                    let public = operation["security"] == json!([{}]);
                    if public {
                        assert!(
                            ![StatusCode::UNAUTHORIZED, StatusCode::NOT_FOUND, StatusCode::METHOD_NOT_ALLOWED]
                                .contains(&status),
                            "{method} {path} is documented as open to anyone but answers {status}: {body}"
                        );
                    } else {
                        assert_eq!(status, StatusCode::UNAUTHORIZED, "{method} {path} without credentials: {body}");
                    }
                }
                None => assert_eq!(status, StatusCode::METHOD_NOT_ALLOWED, "{method} {path} is not documented"),
            }
        }
    }
});

app_test!(parameters_are_where_the_document_says_and_links_lead_somewhere, |app| async move {
    let (_, doc) = app.get(&app.client(), "/api/v1/openapi.json").await;
    let mut by_id = BTreeMap::new();
    for (path, item) in doc["paths"].as_object().unwrap() {
        for (method, operation) in item.as_object().unwrap() {
            let id = operation["operationId"].as_str().unwrap_or_else(|| panic!("{method} {path} has no operationId"));
            assert!(by_id.insert(id.to_string(), (path.clone(), operation.clone())).is_none(), "{id} twice");
            let parameters = operation["parameters"].as_array().cloned().unwrap_or_default();
            let in_path: BTreeSet<String> = parameters
                .iter()
                .filter(|p| p["in"] == "path")
                .map(|p| p["name"].as_str().unwrap().to_string())
                .collect();
            let templated: BTreeSet<String> = path
                .split('/')
                .filter_map(|s| s.strip_prefix('{').and_then(|s| s.strip_suffix('}')))
                .map(str::to_string)
                .collect();
            assert_eq!(in_path, templated, "{method} {path}: path parameters against the template");
            for parameter in &parameters {
                assert!(
                    parameter["in"] == "path" || parameter["in"] == "query",
                    "{method} {path}: {parameter} is neither in the path nor the query"
                );
            }
        }
    }

    let mut links = 0;
    for (id, (path, operation)) in &by_id {
        for (status, response) in operation["responses"].as_object().unwrap() {
            for (name, link) in response["links"].as_object().into_iter().flatten() {
                links += 1;
                let target = link["operationId"].as_str().unwrap_or_else(|| panic!("{id} {status} {name}: {link}"));
                let (_, target_operation) =
                    by_id.get(target).unwrap_or_else(|| panic!("link {name} of {id} ({path}) leads to no {target}"));
                let names: BTreeSet<&str> = target_operation["parameters"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .map(|p| p["name"].as_str().unwrap())
                    .collect();
                for (parameter, expression) in link["parameters"].as_object().into_iter().flatten() {
                    assert!(names.contains(parameter.as_str()), "link {name} of {id}: {target} takes no {parameter}");
                    assert!(expression.as_str().unwrap().starts_with("$response.body#/"), "{expression}");
                }
                if link.get("requestBody").is_some() {
                    assert!(target_operation.get("requestBody").is_some(), "link {name}: {target} takes no body");
                }
            }
        }
    }
    assert_eq!(links, starship_server::api::doc::LINKS.len(), "every link of the table is in the document once");
});

app_test!(every_operation_describes_what_its_extractors_answer, |app| async move {
    let (_, doc) = app.get(&app.client(), "/api/v1/openapi.json").await;
    for (path, item) in doc["paths"].as_object().unwrap() {
        for (method, operation) in item.as_object().unwrap() {
            let responses = &operation["responses"];
            let has = |status: &str| responses.get(status).is_some();
            let parameters = operation["parameters"].as_array().cloned().unwrap_or_default();
            if operation.get("requestBody").is_some() {
                for status in ["400", "413", "415", "422"] {
                    assert!(has(status), "{method} {path} takes a body but does not describe {status}");
                }
            }
            if parameters.iter().any(|p| p["in"] == "query") {
                assert!(has("400"), "{method} {path} reads a query string but does not describe 400");
            }
            if parameters.iter().any(|p| p["in"] == "path") {
                assert!(has("404"), "{method} {path} takes an id but does not describe 404");
            }
            if operation["security"] != json!([{}]) {
                assert!(has("401"), "{method} {path} needs a token or session but does not describe 401");
            }
            for (status, response) in responses.as_object().unwrap() {
                // Readiness answers its reasons in its own body, for load balancers and people alike.
                let own_body = path == "/readyz" && status == "503";
                if (status.starts_with('4') || status.starts_with('5')) && !own_body {
                    assert_eq!(
                        response["content"]["application/problem+json"]["schema"]["$ref"],
                        "#/components/schemas/Problem",
                        "{method} {path} {status}"
                    );
                }
            }
        }
    }
    let schemes = &doc["components"]["securitySchemes"];
    assert_eq!(schemes["bearer"]["scheme"], "bearer");
    assert_eq!(schemes["session"]["in"], "cookie");
});

app_test!(hostile_values_answer_a_described_4xx_and_change_nothing, |app| async move {
    world(&app).await;
    let operator = app.signed_in("olivia.operator@starship.example").await;
    let (_, doc) = app.get(&app.client(), "/api/v1/openapi.json").await;
    let sites_before = app.count("sites").await;
    for (method, template, url, body, expected) in [
        ("get", "/api/v1/users", "/api/v1/users?q=a%00", None, StatusCode::BAD_REQUEST),
        ("get", "/api/v1/contacts", "/api/v1/contacts?partner_id=%00", None, StatusCode::BAD_REQUEST),
        ("get", "/api/v1/users/{id}", "/api/v1/users/%00", None, StatusCode::NOT_FOUND),
        ("get", "/api/v1/tickets/{id}", "/api/v1/tickets/a%00b", None, StatusCode::NOT_FOUND),
        (
            "post",
            "/api/v1/session",
            "/api/v1/session",
            Some(json!({"email": "a\u{0}@b.example", "password": "x"})),
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
        (
            "post",
            "/api/v1/grants",
            "/api/v1/grants",
            Some(json!({"user_ids": ["\u{0}"], "roles": [{"application": "backlot", "role": "x"}]})),
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
        (
            "post",
            "/api/v1/sites",
            "/api/v1/sites",
            Some(json!({"name": "Depot", "location": "Oslo", "partner_id": "no-such-partner"})),
            StatusCode::NOT_FOUND,
        ),
    ] {
        let (status, problem) = app.call(&operator, &method.to_uppercase(), url, body).await;
        assert_eq!(status, expected, "{method} {url}: {problem}");
        assert_eq!(problem["status"], expected.as_u16(), "{method} {url} answers a problem: {problem}");
        let described = &doc["paths"][template][method]["responses"][expected.as_str()];
        assert!(described.is_object(), "{method} {template} does not describe {expected}");
    }
    assert_eq!(app.count("sites").await, sites_before);
});
