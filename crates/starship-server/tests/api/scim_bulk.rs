//! SCIM `/Bulk` creating many users: consecutive creations are written
//! together, yet each operation answers as it would alone, one that fails
//! writes nothing of itself and stops none of the others, `failOnErrors`
//! stops where it stopped before, and `bulkId` references resolve. On both
//! stores.

use reqwest::StatusCode;
use serde_json::{json, Value};
use starship_store::{sqlx, Dialect};

use crate::scim::{history_rows, jane, scim, scim_token, MARA};
use crate::support::*;

const BULK: &str = "urn:ietf:params:scim:api:messages:2.0:BulkRequest";
const ENTERPRISE: &str = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User";

fn post(bulk_id: &str, data: Value) -> Value {
    json!({"method": "POST", "bulkId": bulk_id, "path": "/Users", "data": data})
}

async fn bulk(app: &TestApp, token: &str, request: Value) -> Vec<Value> {
    let answer = scim(app, token, "POST", "/Bulk", Some(request)).await;
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.body);
    answer.body["Operations"].as_array().unwrap().clone()
}

fn statuses(results: &[Value]) -> Vec<&str> {
    results.iter().map(|r| r["status"].as_str().unwrap()).collect()
}

fn path_of(result: &Value) -> String {
    result["location"].as_str().unwrap().rsplit_once("/scim/v2").unwrap().1.to_string()
}

async fn count(app: &TestApp, sql: &str, bind: &str) -> i64 {
    sqlx::query_scalar(sql).bind(bind).fetch_one(app.store.pool()).await.unwrap()
}

async fn people_named(app: &TestApp, email: &str) -> i64 {
    count(app, "SELECT COUNT(*) FROM users WHERE email_lower = $1", email).await
}

app_test!(a_run_of_creations_answers_each_as_it_would_alone, |app| async move {
    let w = world(&app).await;
    let mara = app.signed_in(MARA).await;
    let token = scim_token(&app, &mara, &w.sunrise, "Okta").await;
    let mut named = jane("run.two@sunrise.example");
    named["userName"] = json!("run-two");
    named[ENTERPRISE] = json!({"department": "Ops"});
    named["schemas"] = json!(["urn:ietf:params:scim:schemas:core:2.0:User", ENTERPRISE]);
    let request = json!({"schemas": [BULK], "Operations": [
        post("u1", jane("run.one@sunrise.example")),
        post("u2", named),
        post("u3", jane("run.three@sunrise.example")),
        {"method": "PATCH", "path": "/Users/bulkId:u3", "data": {"Operations": [{"op": "replace", "path": "name.givenName", "value": "Janet"}]}},
    ]});
    let results = bulk(&app, &token, request).await;
    assert_eq!(statuses(&results), ["201", "201", "201", "200"], "{results:?}");
    for (result, bulk_id) in results.iter().zip(["u1", "u2", "u3"]) {
        assert_eq!(result["method"], "POST");
        assert_eq!(result["bulkId"], bulk_id);
        let user = scim(&app, &token, "GET", &path_of(result), None).await;
        assert_eq!(user.status, StatusCode::OK, "{}", user.body);
        if bulk_id != "u3" {
            assert_eq!(result["version"], user.body["meta"]["version"], "the version a GET answers");
        }
    }
    // Written together, in one transaction: one time for the three.
    assert_eq!(results[0]["version"], results[1]["version"]);
    assert_eq!(results[1]["version"], results[2]["version"]);
    let two = scim(&app, &token, "GET", &path_of(&results[1]), None).await.body;
    assert_eq!(two["userName"], "run-two");
    assert_eq!(two["externalId"], "ext-run.two@sunrise.example");
    assert_eq!(two[ENTERPRISE]["department"], "Ops");
    assert_eq!(two["locale"], "fr-FR");
    let three = scim(&app, &token, "GET", &path_of(&results[2]), None).await.body;
    assert_eq!(three["name"]["givenName"], "Janet", "the PATCH found u3 by its bulkId");
    let one = path_of(&results[0]).rsplit('/').next().unwrap().to_string();
    assert_eq!(history_rows(&app, &one).await, [("user.created".into(), "Okta".into(), "scim".into())]);
    let welcome = "SELECT COUNT(*) FROM outbox WHERE recipient = $1 AND kind = 'welcome'";
    assert_eq!(count(&app, welcome, "run.one@sunrise.example").await, 1, "a welcome email with its link");
    let links = "SELECT COUNT(*) FROM activation_tokens WHERE user_id = $1 AND used_at IS NULL";
    assert_eq!(count(&app, links, &one).await, 1);
    // userName "run-two" is taken now, by the store's own check too.
    let again = bulk(&app, &token, json!({"Operations": [post("a", json!({"userName": "run-two", "emails": [{"value": "x@sunrise.example"}]})), post("b", jane("run.four@sunrise.example"))]})).await;
    assert_eq!(statuses(&again), ["409", "201"]);
    assert!(starship_store::history::verify(&app.store).await.unwrap().is_intact());
});

app_test!(a_failing_creation_inside_a_run_writes_nothing_of_itself_and_the_rest_goes_on, |app| async move {
    let w = world(&app).await;
    let mara = app.signed_in(MARA).await;
    let token = scim_token(&app, &mara, &w.sunrise, "Okta").await;
    let mut same_name = jane("fourth@sunrise.example");
    same_name["userName"] = json!("SECOND@sunrise.example");
    let mut inactive = jane("seventh@sunrise.example");
    inactive["active"] = json!(false);
    let request = json!({"Operations": [
        post("u1", jane("first@sunrise.example")),
        post("u2", jane("second@sunrise.example")),
        post("u3", same_name),
        post("u4", jane("FIRST@sunrise.example")),
        post("u5", json!({"userName": "not-an-address"})),
        post("u6", jane("nina.north@northwind.example")),
        post("u7", inactive),
        post("u8", jane(MARA)),
        post("u9", jane("ninth@sunrise.example")),
    ]});
    let results = bulk(&app, &token, request).await;
    assert_eq!(statuses(&results), ["201", "201", "409", "409", "400", "409", "201", "409", "201"], "{results:?}");
    assert_eq!(results[2]["response"]["scimType"], "uniqueness");
    assert_eq!(results[3]["response"]["scimType"], "uniqueness");
    assert_eq!(results[4]["response"]["scimType"], "invalidValue");
    assert!(results[2].get("location").is_none());
    assert_eq!(people_named(&app, "first@sunrise.example").await, 1);
    assert_eq!(people_named(&app, "second@sunrise.example").await, 1);
    assert_eq!(people_named(&app, "fourth@sunrise.example").await, 0, "nothing of a refused creation");
    assert_eq!(people_named(&app, "nina.north@northwind.example").await, 1, "still only Northwind's");
    let seventh = scim(&app, &token, "GET", &path_of(&results[6]), None).await.body;
    assert_eq!(seventh["active"], false);
    let created = "SELECT COUNT(*) FROM users u JOIN history h ON h.user_id = u.id \
                   WHERE u.partner_id = $1 AND h.action = 'user.created' AND h.source = 'scim'";
    assert_eq!(count(&app, created, &w.sunrise).await, 4);
    let mail = "SELECT COUNT(*) FROM outbox WHERE recipient = $1";
    assert_eq!(count(&app, mail, "fourth@sunrise.example").await, 0);
    assert_eq!(count(&app, mail, "ninth@sunrise.example").await, 1);
    assert!(starship_store::history::verify(&app.store).await.unwrap().is_intact());
});

app_test!(fail_on_errors_stops_a_run_of_creations_at_the_error_that_reaches_it, |app| async move {
    let w = world(&app).await;
    let mara = app.signed_in(MARA).await;
    let token = scim_token(&app, &mara, &w.sunrise, "Okta").await;
    let request = json!({"failOnErrors": 2, "Operations": [
        post("u1", jane("stop.one@sunrise.example")),
        post("u2", jane("stop.two@sunrise.example")),
        post("u3", jane("stop.one@sunrise.example")),
        post("u4", jane("stop.four@sunrise.example")),
        post("u5", json!({"userName": "not-an-address"})),
        post("u6", jane("stop.six@sunrise.example")),
        post("u7", jane("stop.seven@sunrise.example")),
    ]});
    let results = bulk(&app, &token, request).await;
    assert_eq!(statuses(&results), ["201", "201", "409", "201", "400"], "{results:?}");
    assert_eq!(people_named(&app, "stop.four@sunrise.example").await, 1);
    assert_eq!(people_named(&app, "stop.six@sunrise.example").await, 0, "nothing after the stop");
    assert_eq!(people_named(&app, "stop.seven@sunrise.example").await, 0);
});

app_test!(a_creation_naming_an_earlier_bulk_id_finds_it_and_a_later_one_is_refused, |app| async move {
    let w = world(&app).await;
    let mara = app.signed_in(MARA).await;
    let token = scim_token(&app, &mara, &w.sunrise, "Okta").await;
    let managed = |email: &str, manager: &str| {
        let mut user = jane(email);
        user[ENTERPRISE] = json!({"manager": {"value": format!("bulkId:{manager}")}});
        user
    };
    let request = json!({"Operations": [
        post("boss", jane("boss@sunrise.example")),
        post("report", managed("report@sunrise.example", "boss")),
        post("early", managed("early@sunrise.example", "late")),
        post("late", jane("late@sunrise.example")),
    ]});
    let results = bulk(&app, &token, request).await;
    assert_eq!(statuses(&results), ["201", "201", "409", "201"], "{results:?}");
    assert_eq!(results[2]["response"]["scimType"], "invalidValue");
    let boss = path_of(&results[0]).rsplit('/').next().unwrap().to_string();
    let report = scim(&app, &token, "GET", &path_of(&results[1]), None).await.body;
    assert_eq!(report[ENTERPRISE]["manager"]["value"], boss.as_str());
    assert_eq!(people_named(&app, "early@sunrise.example").await, 0);
});

app_test!(a_run_the_store_refuses_midway_leaves_nothing_and_each_creation_answers_alone, |app| async move {
    let w = world(&app).await;
    let mara = app.signed_in(MARA).await;
    let token = scim_token(&app, &mara, &w.sunrise, "Okta").await;
    // A refusal the checks before the write cannot foresee, as when
    // another request takes an address in between.
    let refusal: &[&str] = match app.store.dialect() {
        Dialect::Sqlite => &["CREATE TRIGGER refuse_doomed BEFORE INSERT ON users \
             WHEN new.email_lower = 'doomed@sunrise.example' BEGIN SELECT RAISE(ABORT, 'refused'); END"],
        Dialect::Postgres => &[
            "CREATE FUNCTION refuse_doomed() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN \
             IF NEW.email_lower = 'doomed@sunrise.example' THEN RAISE EXCEPTION 'refused'; END IF; \
             RETURN NEW; END $$",
            "CREATE TRIGGER refuse_doomed BEFORE INSERT ON users FOR EACH ROW EXECUTE FUNCTION refuse_doomed()",
        ],
    };
    for statement in refusal {
        sqlx::query(statement).execute(app.store.pool()).await.unwrap();
    }
    let request = json!({"Operations": [
        post("u1", jane("spared.one@sunrise.example")),
        post("u2", jane("doomed@sunrise.example")),
        post("u3", jane("spared.three@sunrise.example")),
    ]});
    let results = bulk(&app, &token, request).await;
    assert_eq!(statuses(&results), ["201", "500", "201"], "{results:?}");
    assert_eq!(people_named(&app, "doomed@sunrise.example").await, 0);
    assert_eq!(people_named(&app, "spared.one@sunrise.example").await, 1, "written once, alone");
    let created = "SELECT COUNT(*) FROM users u JOIN history h ON h.user_id = u.id \
                   WHERE u.partner_id = $1 AND h.action = 'user.created' AND h.source = 'scim'";
    assert_eq!(count(&app, created, &w.sunrise).await, 2);
    let doomed_mail = "SELECT COUNT(*) FROM outbox WHERE recipient = $1";
    assert_eq!(count(&app, doomed_mail, "doomed@sunrise.example").await, 0);
    assert!(starship_store::history::verify(&app.store).await.unwrap().is_intact());
});
