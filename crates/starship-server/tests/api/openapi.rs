//! The OpenAPI document and the router describe the same API: an operation
//! in one but not the other fails here, so the isolation test, which walks
//! both, cannot miss an operation or pass on a removed one.

use std::collections::BTreeSet;

use reqwest::StatusCode;
use serde_json::Value;

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
