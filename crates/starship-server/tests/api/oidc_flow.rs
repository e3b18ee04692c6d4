//! The OpenID Connect provider as an application uses it: the code flow
//! with PKCE, tokens and their claims, refresh rotation and reuse, what
//! ends a sign-in, revocation, introspection, logout, service tokens on
//! the check API, and every refusal, on both stores. (The browser and a
//! relying-party library we did not write drive it too: `e2e/tests/oidc.test.js`.)

use reqwest::{Client, StatusCode};
use serde_json::{json, Value};
use starship_core::ids::UserId;
use starship_server::ops::oidc::s256;
use starship_store::sqlx;

use crate::support::*;
use crate::web::{browser, location, signed_in_browser};

const MARA: &str = "mara.master@sunrise.example";
const OPERATOR: &str = "olivia.operator@starship.example";
const CALLBACK: &str = "http://127.0.0.1:9000/callback";
const VERIFIER: &str = "a-code-verifier-of-at-least-forty-three-characters-long";

pub(crate) struct Rp {
    client_id: String,
    secret: String,
}

/// Registers a client of `application` through the operators' API.
pub(crate) async fn register(app: &TestApp, application: &str, grant_types: &[&str]) -> Rp {
    let operator = app.signed_in(OPERATOR).await;
    // Only a client of the code flow has somewhere to send people back to.
    let redirect_uris = if grant_types.contains(&"authorization_code") { vec![CALLBACK] } else { vec![] };
    let (status, created) = app
        .post(
            &operator,
            "/api/v1/clients",
            json!({"application": application, "name": format!("{application} app"),
                   "redirect_uris": redirect_uris, "grant_types": grant_types}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{created}");
    Rp {
        client_id: created["client_id"].as_str().unwrap().to_string(),
        secret: created["client_secret"].as_str().unwrap().to_string(),
    }
}

fn authorize_url(app: &TestApp, rp: &Rp, extra: &[(&str, &str)]) -> String {
    let mut params = vec![
        ("client_id", rp.client_id.as_str()),
        ("redirect_uri", CALLBACK),
        ("response_type", "code"),
        ("scope", "openid profile email"),
        ("state", "st4te"),
        ("nonce", "n0nce"),
        ("code_challenge_method", "S256"),
    ];
    let challenge = s256(VERIFIER);
    params.push(("code_challenge", &challenge));
    for (name, value) in extra {
        params.retain(|(n, _)| n != name);
        if !value.is_empty() {
            params.push((name, value));
        }
    }
    let query: Vec<String> = params
        .iter()
        .map(|(n, v)| format!("{n}={}", form_urlencoded::byte_serialize(v.as_bytes()).collect::<String>()))
        .collect();
    app.url(&format!("/oauth2/authorize?{}", query.join("&")))
}

/// The query parameters of the address a response sends the browser to.
fn redirect_params(response: &reqwest::Response) -> Vec<(String, String)> {
    let to = location(response);
    let query = to.split_once('?').map(|(_, q)| q).unwrap_or("");
    form_urlencoded::parse(query.as_bytes()).map(|(k, v)| (k.to_string(), v.to_string())).collect()
}

fn param<'a>(params: &'a [(String, String)], name: &str) -> Option<&'a str> {
    params.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str())
}

/// Signs `browser` through the authorization endpoint; the code.
async fn code_for(app: &TestApp, browser: &Client, rp: &Rp) -> String {
    let response = browser.get(authorize_url(app, rp, &[])).send().await.unwrap();
    assert!(response.status().is_redirection(), "{}", response.status());
    assert!(location(&response).starts_with(CALLBACK), "{}", location(&response));
    let params = redirect_params(&response);
    assert_eq!(param(&params, "state"), Some("st4te"));
    assert_eq!(param(&params, "iss"), Some(app.base.as_str()));
    param(&params, "code").expect("a code").to_string()
}

async fn token_request(app: &TestApp, rp: &Rp, form: &[(&str, &str)]) -> (StatusCode, Value) {
    let response = Client::new()
        .post(app.url("/oauth2/token"))
        .basic_auth(&rp.client_id, Some(&rp.secret))
        .form(form)
        .send()
        .await
        .unwrap();
    let status = response.status();
    assert_eq!(response.headers().get("cache-control").and_then(|v| v.to_str().ok()), Some("no-store"));
    (status, response.json().await.unwrap())
}

async fn exchange(app: &TestApp, rp: &Rp, code: &str) -> (StatusCode, Value) {
    token_request(
        app,
        rp,
        &[
            ("grant_type", "authorization_code"),
            ("code", code),
            ("redirect_uri", CALLBACK),
            ("code_verifier", VERIFIER),
        ],
    )
    .await
}

pub(crate) async fn refresh(app: &TestApp, rp: &Rp, refresh_token: &str) -> (StatusCode, Value) {
    token_request(app, rp, &[("grant_type", "refresh_token"), ("refresh_token", refresh_token)]).await
}

/// A signed-in Mara's tokens at a Backlot client.
async fn signed_in_tokens(app: &TestApp, rp: &Rp) -> Value {
    tokens_of(app, rp, MARA).await
}

/// The tokens a person signed in through the code flow gets.
pub(crate) async fn tokens_of(app: &TestApp, rp: &Rp, email: &str) -> Value {
    let person = signed_in_browser(app, email).await;
    let code = code_for(app, &person, rp).await;
    let (status, tokens) = exchange(app, rp, &code).await;
    assert_eq!(status, StatusCode::OK, "{tokens}");
    tokens
}

async fn userinfo(base: &str, access_token: &str) -> (StatusCode, Value) {
    let response = Client::new().get(format!("{base}/oauth2/userinfo")).bearer_auth(access_token).send().await.unwrap();
    let status = response.status();
    let text = response.text().await.unwrap();
    (status, serde_json::from_str(&text).unwrap_or(Value::Null))
}

async fn verified_claims(app: &TestApp, id_token: &str) -> Value {
    let keys = starship_server::ops::keys::in_use(&app.store).await.unwrap();
    starship_server::jwt::verify(id_token, &keys).expect("the ID token verifies with the published keys")
}

fn s(value: &Value) -> &str {
    value.as_str().unwrap_or_default()
}

app_test!(the_provider_describes_itself_for_discovery, |app| async move {
    let document: Value =
        reqwest::get(app.url("/.well-known/openid-configuration")).await.unwrap().json().await.unwrap();
    assert_eq!(document["issuer"], app.base.as_str());
    for endpoint in [
        "authorization_endpoint",
        "token_endpoint",
        "userinfo_endpoint",
        "jwks_uri",
        "revocation_endpoint",
        "introspection_endpoint",
        "end_session_endpoint",
    ] {
        let url = s(&document[endpoint]);
        assert!(url.starts_with(&app.base), "{endpoint}: {url}");
    }
    assert_eq!(document["code_challenge_methods_supported"], json!(["S256"]));
    assert_eq!(document["token_endpoint_auth_methods_supported"], json!(["client_secret_basic", "client_secret_post"]));
});

app_test!(an_application_signs_a_person_in_and_reads_their_roles_in_it, |app| async move {
    let w = world(&app).await;
    let rp = register(&app, "backlot", &["authorization_code", "refresh_token"]).await;
    let tokens = signed_in_tokens(&app, &rp).await;
    assert_eq!(tokens["token_type"], "Bearer");
    assert!(tokens["expires_in"].as_u64().unwrap() > 0);
    let claims = verified_claims(&app, s(&tokens["id_token"])).await;
    assert_eq!(claims["iss"], app.base.as_str());
    assert_eq!(claims["aud"], rp.client_id.as_str());
    assert_eq!(claims["sub"], w.backlot_admin.as_str());
    assert_eq!(claims["nonce"], "n0nce");
    assert_eq!(claims["email"], MARA);
    assert_eq!(claims["email_verified"], true);
    assert_eq!(claims["partner"], json!({"id": w.sunrise, "name": "Sunrise Studios"}));
    assert_eq!(claims["roles"], json!([{"role": "master-content-partner-operations"}]));
    let capabilities: Vec<&str> =
        claims["capabilities"].as_array().unwrap().iter().map(|c| s(&c["capability"])).collect();
    assert!(capabilities.contains(&"create-users"), "{capabilities:?}");
    assert!(claims["exp"].as_i64().unwrap() > claims["iat"].as_i64().unwrap());
    assert!(claims["auth_time"].as_i64().is_some());

    let (status, info) = userinfo(&app.base, s(&tokens["access_token"])).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!((info["sub"].clone(), info["roles"].clone()), (claims["sub"].clone(), claims["roles"].clone()));
    assert_eq!(info["given_name"], claims["given_name"]);
});

app_test!(a_production_role_is_named_with_its_production, |app| async move {
    let w = world(&app).await;
    app.grant(&w.plain, "production-academy", "academy-user", Some(HOME_THEATER)).await;
    let rp = register(&app, "production-academy", &["authorization_code"]).await;
    let pat = signed_in_browser(&app, "pat.plain@sunrise.example").await;
    let code = code_for(&app, &pat, &rp).await;
    let (status, tokens) = exchange(&app, &rp, &code).await;
    assert_eq!(status, StatusCode::OK, "{tokens}");
    assert!(tokens.get("refresh_token").is_none(), "the client may not refresh: {tokens}");
    let claims = verified_claims(&app, s(&tokens["id_token"])).await;
    assert_eq!(claims["roles"], json!([{"role": "academy-user", "production": HOME_THEATER}]));
    assert!(claims["capabilities"].as_array().unwrap().iter().all(|c| c["production"] == HOME_THEATER));
});

app_test!(a_refresh_rotates_and_a_reused_refresh_token_ends_the_whole_sign_in, |app| async move {
    let w = world(&app).await;
    let rp = register(&app, "backlot", &["authorization_code", "refresh_token"]).await;
    let first = signed_in_tokens(&app, &rp).await;
    let (status, second) = refresh(&app, &rp, s(&first["refresh_token"])).await;
    assert_eq!(status, StatusCode::OK, "{second}");
    assert_ne!(second["refresh_token"], first["refresh_token"], "rotated");
    assert_eq!(verified_claims(&app, s(&second["id_token"])).await["sub"], w.backlot_admin.as_str());
    assert_eq!(userinfo(&app.base, s(&second["access_token"])).await.0, StatusCode::OK);

    // The first refresh token again: a thief or a replay. Everything ends.
    let (status, refused) = refresh(&app, &rp, s(&first["refresh_token"])).await;
    assert_eq!((status, s(&refused["error"])), (StatusCode::BAD_REQUEST, "invalid_grant"));
    let (status, refused) = refresh(&app, &rp, s(&second["refresh_token"])).await;
    assert_eq!((status, s(&refused["error"])), (StatusCode::BAD_REQUEST, "invalid_grant"), "the family ended");
    assert_eq!(userinfo(&app.base, s(&second["access_token"])).await.0, StatusCode::UNAUTHORIZED);
    let (source, details): (String, String) = sqlx::query_as(
        "SELECT source, details FROM history WHERE user_id = $1 AND action = 'oidc.token-reuse-refused'",
    )
    .bind(&w.backlot_admin)
    .fetch_one(app.store.pool())
    .await
    .unwrap();
    assert_eq!(source, "oidc");
    assert!(details.contains("refresh_token") && details.contains(&rp.client_id), "{details}");
});

app_test!(revoking_a_grant_deactivating_or_revoking_sign_in_ends_refresh_at_once, |app| async move {
    let w = world(&app).await;
    let rp = register(&app, "backlot", &["authorization_code", "refresh_token"]).await;
    let mara = app.signed_in(MARA).await;
    let morgan = "morgan.master@sunrise.example";
    let operations = app.grant(&w.master_only, "backlot", "content-partner-operations", None).await;
    let tokens_of = |who: &'static str| {
        let app = &app;
        let rp = &rp;
        async move {
            let browser = signed_in_browser(app, who).await;
            let code = code_for(app, &browser, rp).await;
            exchange(app, rp, &code).await.1
        }
    };

    // A grant revoked: the refresh fails although another role remains.
    let tokens = tokens_of(morgan).await;
    let (status, _) = app.delete(&mara, &format!("/api/v1/grants/{operations}")).await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let (status, refused) = refresh(&app, &rp, s(&tokens["refresh_token"])).await;
    assert_eq!((status, s(&refused["error"])), (StatusCode::BAD_REQUEST, "invalid_grant"), "{refused}");

    // Deactivated.
    let tokens = tokens_of(morgan).await;
    let (status, _) = app.post(&mara, &format!("/api/v1/users/{}/deactivation", w.master_only), json!({})).await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    assert_eq!(refresh(&app, &rp, s(&tokens["refresh_token"])).await.0, StatusCode::BAD_REQUEST);
    assert_eq!(userinfo(&app.base, s(&tokens["access_token"])).await.0, StatusCode::UNAUTHORIZED);
    let (status, _) = app.delete(&mara, &format!("/api/v1/users/{}/deactivation", w.master_only)).await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let (status, refused) = refresh(&app, &rp, s(&tokens["refresh_token"])).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "reactivation does not revive an ended sign-in: {refused}");

    // Every sign-in revoked (a password change ends the other sessions and tokens).
    let tokens = tokens_of(MARA).await;
    starship_store::sessions::end_all_for_user(
        &mut app.store.conn().await.unwrap(),
        &UserId::from(w.backlot_admin.as_str()),
    )
    .await
    .unwrap();
    assert_eq!(refresh(&app, &rp, s(&tokens["refresh_token"])).await.0, StatusCode::BAD_REQUEST);
    let mara = app.signed_in(MARA).await;

    // No role left in the application: no sign-in either.
    let (status, _) = app.delete(&mara, &format!("/api/v1/grants/{}", master_grant(&app, &w.master_only).await)).await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let browser = signed_in_browser(&app, morgan).await;
    let response = browser.get(authorize_url(&app, &rp, &[])).send().await.unwrap();
    let params = redirect_params(&response);
    assert!(location(&response).starts_with(CALLBACK));
    assert_eq!(param(&params, "error"), Some("access_denied"));
    assert_eq!(param(&params, "state"), Some("st4te"));
});

async fn master_grant(app: &TestApp, user_id: &str) -> String {
    sqlx::query_scalar("SELECT id FROM grants WHERE user_id = $1 AND role = 'master-content-partner-operations'")
        .bind(user_id)
        .fetch_one(app.store.pool())
        .await
        .unwrap()
}

app_test!(the_authorization_endpoint_refuses_without_redirecting_to_an_unverified_address, |app| async move {
    world(&app).await;
    let rp = register(&app, "backlot", &["authorization_code"]).await;
    let mara = signed_in_browser(&app, MARA).await;
    let unknown = Rp { client_id: "nobody".into(), secret: String::new() };
    for url in [
        authorize_url(&app, &rp, &[("redirect_uri", "http://127.0.0.1:9000/elsewhere")]),
        authorize_url(&app, &rp, &[("redirect_uri", "http://127.0.0.1:9000/callback/")]),
        authorize_url(&app, &rp, &[("redirect_uri", "")]),
        authorize_url(&app, &unknown, &[]),
        authorize_url(&app, &rp, &[("client_id", "")]),
        format!("{}&state=twice", authorize_url(&app, &rp, &[])),
    ] {
        let response = mara.get(&url).send().await.unwrap();
        assert_eq!(response.status(), StatusCode::BAD_REQUEST, "{url}");
        assert!(response.headers().get("location").is_none(), "{url}");
        let html = response.text().await.unwrap();
        assert!(html.contains("<html"), "a Starship page: {html}");
    }
    // Verified address, bad request: the error goes back with the state.
    for (extra, error) in [
        (vec![("code_challenge", "")], "invalid_request"),
        (vec![("code_challenge_method", "plain")], "invalid_request"),
        (vec![("response_type", "token")], "unsupported_response_type"),
        (vec![("scope", "profile")], "invalid_scope"),
    ] {
        let response = mara.get(authorize_url(&app, &rp, &extra)).send().await.unwrap();
        assert!(location(&response).starts_with(CALLBACK), "{extra:?}");
        assert_eq!(param(&redirect_params(&response), "error"), Some(error), "{extra:?}");
    }
    // Signed out: the sign-in page first, then back here.
    let response = browser().get(authorize_url(&app, &rp, &[])).send().await.unwrap();
    assert!(location(&response).starts_with("/sign-in?next=%2Foauth2%2Fauthorize"), "{}", location(&response));
    let response = browser().get(authorize_url(&app, &rp, &[("prompt", "none")])).send().await.unwrap();
    assert_eq!(param(&redirect_params(&response), "error"), Some("login_required"));
});

/// A browser with no session at the authorization endpoint: sent to the
/// sign-in page, whose form's CSRF token and way back (`next`) come back.
async fn sent_to_sign_in(app: &TestApp, rp: &Rp) -> (Client, String, String) {
    let visitor = browser();
    let start = visitor.get(authorize_url(app, rp, &[])).send().await.unwrap();
    let sign_in = location(&start).to_string();
    let html = visitor.get(app.url(&sign_in)).send().await.unwrap().text().await.unwrap();
    let csrf = crate::web::csrf_of(&html);
    let next = form_urlencoded::parse(sign_in.split_once('?').unwrap().1.as_bytes())
        .find(|(k, _)| k == "next")
        .unwrap()
        .1
        .to_string();
    (visitor, csrf, next)
}

app_test!(signing_in_on_the_way_continues_to_the_application, |app| async move {
    world(&app).await;
    let rp = register(&app, "backlot", &["authorization_code"]).await;
    let (visitor, csrf, next) = sent_to_sign_in(&app, &rp).await;
    let response = visitor
        .post(app.url("/sign-in"))
        .form(&[("csrf", csrf.as_str()), ("email", MARA), ("password", PASSWORD), ("next", next.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let html = response.text().await.unwrap();
    assert!(html.contains("http-equiv=\"refresh\""), "{html}");
    let response = visitor.get(app.url(&next)).send().await.unwrap();
    assert!(location(&response).starts_with(CALLBACK));
    assert!(param(&redirect_params(&response), "code").is_some());
});

app_test!(the_token_endpoint_refuses_every_bad_exchange_with_the_oauth_error, |app| async move {
    world(&app).await;
    let rp = register(&app, "backlot", &["authorization_code", "refresh_token"]).await;
    let mara = signed_in_browser(&app, MARA).await;

    // A reused code is refused, and the tokens it gave end.
    let code = code_for(&app, &mara, &rp).await;
    let (status, tokens) = exchange(&app, &rp, &code).await;
    assert_eq!(status, StatusCode::OK);
    let (status, refused) = exchange(&app, &rp, &code).await;
    assert_eq!((status, s(&refused["error"])), (StatusCode::BAD_REQUEST, "invalid_grant"));
    assert_eq!(userinfo(&app.base, s(&tokens["access_token"])).await.0, StatusCode::UNAUTHORIZED);
    assert_eq!(refresh(&app, &rp, s(&tokens["refresh_token"])).await.0, StatusCode::BAD_REQUEST);

    // A wrong verifier spends the code.
    let code = code_for(&app, &mara, &rp).await;
    let wrong = "another-code-verifier-of-at-least-forty-three-characters";
    let form = [("grant_type", "authorization_code"), ("code", code.as_str()), ("redirect_uri", CALLBACK)];
    let (status, refused) = token_request(&app, &rp, &[&form[..], &[("code_verifier", wrong)]].concat()).await;
    assert_eq!((status, s(&refused["error"])), (StatusCode::BAD_REQUEST, "invalid_grant"));
    assert_eq!(exchange(&app, &rp, &code).await.0, StatusCode::BAD_REQUEST);

    // Expired; another redirect URI; missing verifier.
    let code = code_for(&app, &mara, &rp).await;
    sqlx::query("UPDATE oidc_codes SET expires_at = 0").execute(app.store.pool()).await.unwrap();
    assert_eq!(s(&exchange(&app, &rp, &code).await.1["error"]), "invalid_grant");
    // The expiry job clears ended codes away.
    let before = app.count("oidc_codes").await;
    assert!(starship_server::ops::expiry::purge_ended_credentials(&app.store).await.unwrap() >= 1);
    assert!(app.count("oidc_codes").await < before);
    let code = code_for(&app, &mara, &rp).await;
    let (_, refused) = token_request(
        &app,
        &rp,
        &[
            ("grant_type", "authorization_code"),
            ("code", &code),
            ("redirect_uri", "http://127.0.0.1:9000/other"),
            ("code_verifier", VERIFIER),
        ],
    )
    .await;
    assert_eq!(s(&refused["error"]), "invalid_grant");
    let (_, refused) = token_request(&app, &rp, &[("grant_type", "authorization_code"), ("code", "x")]).await;
    assert_eq!(s(&refused["error"]), "invalid_request");

    // Client authentication: wrong secret, none, or two ways at once.
    let impostor = Rp { client_id: rp.client_id.clone(), secret: "scs_wrong".into() };
    let code = code_for(&app, &mara, &rp).await;
    let (status, refused) = exchange(&app, &impostor, &code).await;
    assert_eq!((status, s(&refused["error"])), (StatusCode::UNAUTHORIZED, "invalid_client"));
    let response = Client::new()
        .post(app.url("/oauth2/token"))
        .form(&[
            ("grant_type", "authorization_code"),
            ("code", code.as_str()),
            ("redirect_uri", CALLBACK),
            ("code_verifier", VERIFIER),
            ("client_id", rp.client_id.as_str()),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
    // client_secret_post: the code is still good after those refusals.
    let response = Client::new()
        .post(app.url("/oauth2/token"))
        .form(&[
            ("grant_type", "authorization_code"),
            ("code", code.as_str()),
            ("redirect_uri", CALLBACK),
            ("code_verifier", VERIFIER),
            ("client_id", rp.client_id.as_str()),
            ("client_secret", rp.secret.as_str()),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);

    // Malformed requests: never a 5xx.
    for (body, content_type, error) in [
        (
            "grant_type=authorization_code&grant_type=refresh_token",
            "application/x-www-form-urlencoded",
            "invalid_request",
        ),
        ("", "application/x-www-form-urlencoded", "invalid_request"),
        ("grant_type=password&username=a&password=b", "application/x-www-form-urlencoded", "unsupported_grant_type"),
        ("{\"grant_type\": \"refresh_token\"}", "application/json", "invalid_request"),
        ("grant_type=refresh_token&refresh_token=%00", "application/x-www-form-urlencoded", "invalid_request"),
        ("grant_type=client_credentials", "application/x-www-form-urlencoded", "unauthorized_client"),
    ] {
        let response = Client::new()
            .post(app.url("/oauth2/token"))
            .basic_auth(&rp.client_id, Some(&rp.secret))
            .header("content-type", content_type)
            .body(body)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::BAD_REQUEST, "{body}");
        let answer: Value = response.json().await.unwrap();
        assert_eq!(s(&answer["error"]), error, "{body}: {answer}");
    }
});

app_test!(revocation_and_introspection_answer_the_application, |app| async move {
    world(&app).await;
    let rp = register(&app, "backlot", &["authorization_code", "refresh_token"]).await;
    let other_application = register(&app, "production-academy", &["client_credentials"]).await;
    let tokens = signed_in_tokens(&app, &rp).await;
    let introspect = |rp: &Rp, token: &str| {
        Client::new()
            .post(app.url("/oauth2/introspect"))
            .basic_auth(&rp.client_id, Some(&rp.secret))
            .form(&[("token", token)])
            .send()
    };
    let answer: Value = introspect(&rp, s(&tokens["access_token"])).await.unwrap().json().await.unwrap();
    assert_eq!(answer["active"], true, "{answer}");
    assert_eq!(answer["client_id"], rp.client_id.as_str());
    assert_eq!(answer["username"], MARA);
    let answer: Value = introspect(&other_application, s(&tokens["access_token"])).await.unwrap().json().await.unwrap();
    assert_eq!(answer, json!({"active": false}), "another application's client learns nothing");

    // Another client's revocation does nothing; the holder's ends the family.
    let revoke = |rp: &Rp, token: &str| {
        Client::new()
            .post(app.url("/oauth2/revoke"))
            .basic_auth(&rp.client_id, Some(&rp.secret))
            .form(&[("token", token), ("token_type_hint", "refresh_token")])
            .send()
    };
    assert_eq!(revoke(&other_application, s(&tokens["refresh_token"])).await.unwrap().status(), StatusCode::OK);
    assert_eq!(userinfo(&app.base, s(&tokens["access_token"])).await.0, StatusCode::OK);
    assert_eq!(revoke(&rp, s(&tokens["refresh_token"])).await.unwrap().status(), StatusCode::OK);
    assert_eq!(revoke(&rp, "never-issued").await.unwrap().status(), StatusCode::OK);
    assert_eq!(userinfo(&app.base, s(&tokens["access_token"])).await.0, StatusCode::UNAUTHORIZED);
    let answer: Value = introspect(&rp, s(&tokens["refresh_token"])).await.unwrap().json().await.unwrap();
    assert_eq!(answer, json!({"active": false}));
    assert_eq!(refresh(&app, &rp, s(&tokens["refresh_token"])).await.0, StatusCode::BAD_REQUEST);
});

app_test!(an_application_signs_the_person_out_of_starship, |app| async move {
    world(&app).await;
    let rp = register(&app, "backlot", &["authorization_code", "refresh_token"]).await;
    let mara = signed_in_browser(&app, MARA).await;
    let code = code_for(&app, &mara, &rp).await;
    let tokens = exchange(&app, &rp, &code).await.1;
    let id_token = s(&tokens["id_token"]).to_string();

    // Without a hint, or to an address not registered: nothing ends.
    let response = mara.get(app.url("/oauth2/end-session")).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
    let url = app.url(&format!(
        "/oauth2/end-session?id_token_hint={id_token}&post_logout_redirect_uri=https%3A%2F%2Fevil.example%2F"
    ));
    let response = mara.get(url).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
    assert!(response.headers().get("location").is_none());
    assert_eq!(app.get(&mara, "/api/v1/me").await.0, StatusCode::OK);

    let url = app.url(&format!(
        "/oauth2/end-session?id_token_hint={id_token}&post_logout_redirect_uri={}&state=bye",
        form_urlencoded::byte_serialize(CALLBACK.as_bytes()).collect::<String>()
    ));
    // Mara's ID token in someone else's browser ends nothing of hers.
    let response = signed_in_browser(&app, OPERATOR).await.get(&url).send().await.unwrap();
    assert_eq!(location(&response), format!("{CALLBACK}?state=bye"));
    assert_eq!(app.get(&mara, "/api/v1/me").await.0, StatusCode::OK);
    assert_eq!(userinfo(&app.base, s(&tokens["access_token"])).await.0, StatusCode::OK);
    let response = mara.get(url).send().await.unwrap();
    assert_eq!(location(&response), format!("{CALLBACK}?state=bye"));
    assert_eq!(app.get(&mara, "/api/v1/me").await.0, StatusCode::UNAUTHORIZED, "the Starship session ended");
    assert_eq!(refresh(&app, &rp, s(&tokens["refresh_token"])).await.0, StatusCode::BAD_REQUEST);
});

app_test!(a_service_token_checks_its_own_application_and_reaches_nothing_else, |app| async move {
    let w = world(&app).await;
    let service = register(&app, "backlot", &["client_credentials"]).await;
    let (status, tokens) = token_request(&app, &service, &[("grant_type", "client_credentials")]).await;
    assert_eq!(status, StatusCode::OK, "{tokens}");
    assert!(tokens.get("refresh_token").is_none() && tokens.get("id_token").is_none(), "{tokens}");
    let token = s(&tokens["access_token"]).to_string();
    let ask = |path: &str, body: Value| Client::new().post(app.url(path)).bearer_auth(&token).json(&body).send();
    // Any partner's person, for its own application.
    for (user, allowed) in [(&w.backlot_admin, true), (&w.outsider, true), (&w.plain, false)] {
        let response =
            ask("/api/v1/check", json!({"user_id": user, "application": "backlot", "capability": "create-users"}))
                .await
                .unwrap();
        assert_eq!(response.status(), StatusCode::OK);
        assert_eq!(response.json::<Value>().await.unwrap()["allowed"], allowed);
    }
    let other = json!({"user_id": w.academy_admin, "application": "production-academy", "capability": "e-learning",
                       "production": HOME_THEATER});
    assert_eq!(ask("/api/v1/check", other.clone()).await.unwrap().status(), StatusCode::FORBIDDEN);
    let batch =
        json!({"checks": [{"user_id": w.plain, "application": "backlot", "capability": "create-users"}, other]});
    assert_eq!(ask("/api/v1/check/batch", batch).await.unwrap().status(), StatusCode::FORBIDDEN);
    // Nothing else of the API, nor userinfo (no person).
    let me = Client::new().get(app.url("/api/v1/me")).bearer_auth(&token).send().await.unwrap();
    assert_eq!(me.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(userinfo(&app.base, &token).await.0, StatusCode::UNAUTHORIZED);

    // The client revoked: its token stops at once, on every instance.
    let (second, stop) = app.second_instance().await;
    let check = json!({"user_id": w.backlot_admin, "application": "backlot", "capability": "create-users"});
    let on_second = || Client::new().post(format!("{second}/api/v1/check")).bearer_auth(&token).json(&check).send();
    assert_eq!(on_second().await.unwrap().status(), StatusCode::OK);
    let operator = app.signed_in(OPERATOR).await;
    let id: String = sqlx::query_scalar("SELECT id FROM oidc_clients WHERE client_id = $1")
        .bind(&service.client_id)
        .fetch_one(app.store.pool())
        .await
        .unwrap();
    assert_eq!(app.delete(&operator, &format!("/api/v1/clients/{id}")).await.0, StatusCode::NO_CONTENT);
    assert_eq!(on_second().await.unwrap().status(), StatusCode::UNAUTHORIZED);
    let _ = stop.send(());
});

app_test!(a_token_issued_by_one_instance_is_honoured_by_another, |app| async move {
    let w = world(&app).await;
    let rp = register(&app, "backlot", &["authorization_code", "refresh_token"]).await;
    let tokens = signed_in_tokens(&app, &rp).await;
    let (second, stop) = app.second_instance().await;
    let (status, info) = userinfo(&second, s(&tokens["access_token"])).await;
    assert_eq!((status, s(&info["sub"])), (StatusCode::OK, w.backlot_admin.as_str()));
    let jwks: Value = reqwest::get(format!("{second}/oauth2/jwks")).await.unwrap().json().await.unwrap();
    let kid = s(&jwks["keys"][0]["kid"]).to_string();
    let header: Value = {
        use base64::Engine;
        let head = s(&tokens["id_token"]).split('.').next().unwrap().to_string();
        serde_json::from_slice(&base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(head).unwrap()).unwrap()
    };
    assert_eq!(header["kid"], kid.as_str(), "the second instance publishes the key that signed it");
    let response = Client::new()
        .post(format!("{second}/oauth2/token"))
        .basic_auth(&rp.client_id, Some(&rp.secret))
        .form(&[("grant_type", "refresh_token"), ("refresh_token", s(&tokens["refresh_token"]))])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK, "the refresh works on the other instance");
    let _ = stop.send(());
});

app_test!(two_step_sign_in_on_the_way_continues_to_the_application, |app| async move {
    let w = world(&app).await;
    let secret = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP";
    let mut conn = app.store.conn().await.unwrap();
    starship_store::mfa::begin_enrolment(&mut conn, &UserId::from(w.backlot_admin.as_str()), secret).await.unwrap();
    starship_store::mfa::enable(&mut conn, &UserId::from(w.backlot_admin.as_str())).await.unwrap();
    drop(conn);
    let rp = register(&app, "backlot", &["authorization_code"]).await;
    let (visitor, csrf, next) = sent_to_sign_in(&app, &rp).await;
    // The password alone: the page asks for the code and keeps the way back.
    let response = visitor
        .post(app.url("/sign-in"))
        .form(&[("csrf", csrf.as_str()), ("email", MARA), ("password", PASSWORD), ("next", next.as_str())])
        .send()
        .await
        .unwrap();
    let html = response.text().await.unwrap();
    assert!(html.contains(&format!("name=\"next\" value=\"{}\"", next.replace('&', "&#38;"))), "{html}");
    let code = starship_server::ops::session::current_code(secret, MARA, starship_store::now_millis() / 1000).unwrap();
    let response = visitor
        .post(app.url("/sign-in"))
        .form(&[
            ("csrf", csrf.as_str()),
            ("email", MARA),
            ("password", PASSWORD),
            ("totp", code.as_str()),
            ("next", next.as_str()),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    assert!(response.text().await.unwrap().contains("http-equiv=\"refresh\""));
    let response = visitor.get(app.url(&next)).send().await.unwrap();
    assert!(location(&response).starts_with(CALLBACK));
    let code = param(&redirect_params(&response), "code").unwrap().to_string();
    assert_eq!(exchange(&app, &rp, &code).await.0, StatusCode::OK);
});

app_test!(malformed_requests_to_the_provider_never_answer_a_server_error, |app| async move {
    world(&app).await;
    let rp = register(&app, "backlot", &["authorization_code", "refresh_token", "client_credentials"]).await;
    let long = "x".repeat(70_000);
    let bodies: Vec<(&str, String)> = vec![
        ("application/x-www-form-urlencoded", "%FF%FE=%C3%28".into()),
        ("application/x-www-form-urlencoded", "grant_type".into()),
        ("application/x-www-form-urlencoded", "=&&==&grant_type=".into()),
        ("application/x-www-form-urlencoded", format!("grant_type=refresh_token&refresh_token={long}")),
        (
            "application/x-www-form-urlencoded",
            "grant_type=authorization_code&code=%00&redirect_uri=x&code_verifier=y".into(),
        ),
        ("application/x-www-form-urlencoded", "token=&token_type_hint=access_token".into()),
        ("text/plain", "grant_type=client_credentials".into()),
        ("", "\u{0}\u{1}\u{2}".into()),
    ];
    let authorizations = [
        None,
        Some("Basic !!!notbase64".to_string()),
        Some(format!("Basic {}", {
            use base64::Engine;
            base64::engine::general_purpose::STANDARD.encode("no-colon")
        })),
        Some(format!("Basic {}", {
            use base64::Engine;
            base64::engine::general_purpose::STANDARD.encode([0xff, b':', 0xfe])
        })),
        Some(format!("Basic {}", {
            use base64::Engine;
            base64::engine::general_purpose::STANDARD.encode(format!("{}:%ZZ", rp.client_id))
        })),
        Some("Bearer sat_nothing".to_string()),
        Some(format!("Basic {}", {
            use base64::Engine;
            base64::engine::general_purpose::STANDARD.encode("a\u{0}b:%00")
        })),
    ];
    let client = Client::new();
    for path in ["/oauth2/token", "/oauth2/revoke", "/oauth2/introspect", "/oauth2/userinfo", "/oauth2/end-session"] {
        for (content_type, body) in &bodies {
            for authorization in &authorizations {
                let mut request = client.post(app.url(path)).body(body.clone());
                if !content_type.is_empty() {
                    request = request.header("content-type", *content_type);
                }
                if let Some(value) = authorization {
                    request = request.header("authorization", value);
                }
                let response = request.send().await.unwrap();
                let status = response.status();
                assert!(
                    status.is_client_error() || status.is_success(),
                    "{path} {body:.60} {authorization:?}: {status}"
                );
                if path != "/oauth2/end-session" && status.is_client_error() && status != StatusCode::UNAUTHORIZED {
                    let answer: Value = response.json().await.unwrap_or(Value::Null);
                    assert!(answer["error"].is_string(), "{path} {body:.60}: the RFC 6749 error object, not {answer}");
                }
            }
        }
    }
    for query in [
        "",
        "client_id=%FF",
        "client_id=a&client_id=b",
        &format!("client_id={}&redirect_uri={}", rp.client_id, &long[..6000]),
        "response_type=code&scope=openid&client_id=%00",
    ] {
        let status = browser().get(app.url(&format!("/oauth2/authorize?{query}"))).send().await.unwrap().status();
        assert!(status.is_client_error() || status.is_redirection(), "authorize?{query:.60}: {status}");
        let status = browser().get(app.url(&format!("/oauth2/end-session?{query}"))).send().await.unwrap().status();
        assert!(status.is_client_error() || status.is_redirection(), "end-session?{query:.60}: {status}");
    }
});
