//! The web pages' server behaviour: sign-in redirects, CSRF refusals, and
//! pages rendered for the seeds' cast. The flows themselves run in a real
//! browser (e2e/).

use reqwest::header::{LOCATION, SET_COOKIE};
use reqwest::redirect::Policy;
use reqwest::{Client, StatusCode};
use serde_json::{json, Value};
use starship_core::ids::UserId;

use crate::support::*;
use starship_server::web::{Action, Page};

/// A browser-like client that keeps cookies and shows redirects instead of
/// following them.
pub(crate) fn browser() -> Client {
    Client::builder().cookie_store(true).redirect(Policy::none()).build().unwrap()
}

pub(crate) async fn signed_in_browser(app: &TestApp, email: &str) -> Client {
    let client = browser();
    let (status, body) =
        app.call(&client, "POST", "/api/v1/session", Some(json!({"email": email, "password": PASSWORD}))).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    client
}

pub(crate) async fn page(app: &TestApp, client: &Client, path: &str) -> (StatusCode, String) {
    let response = client.get(app.url(path)).send().await.unwrap();
    (response.status(), response.text().await.unwrap())
}

/// The CSRF token a page's forms carry.
pub(crate) fn csrf_of(html: &str) -> String {
    let start = html.find(r#"name="csrf" value=""#).expect("a form with a CSRF token") + r#"name="csrf" value=""#.len();
    html[start..].split('"').next().unwrap().to_string()
}

pub(crate) fn location(response: &reqwest::Response) -> &str {
    response.headers().get(LOCATION).and_then(|v| v.to_str().ok()).unwrap_or_default()
}

app_test!(signed_out_visitors_are_sent_to_sign_in_and_back, |app| async move {
    world(&app).await;
    let client = browser();
    for (path, expected) in [
        ("/", "/sign-in"),
        ("/users?q=pat", "/sign-in?next=%2Fusers%3Fq%3Dpat"),
        ("/applications/backlot", "/sign-in?next=%2Fapplications%2Fbacklot"),
    ] {
        let response = client.get(app.url(path)).send().await.unwrap();
        assert_eq!(response.status(), StatusCode::SEE_OTHER, "{path}");
        assert_eq!(location(&response), expected, "{path}");
    }

    // The sign-in form works only with the cookie it set (double submit).
    let (status, html) = page(&app, &client, "/sign-in?next=%2Fusers").await;
    assert_eq!(status, StatusCode::OK);
    let csrf = csrf_of(&html);
    let form =
        [("csrf", csrf.as_str()), ("next", "/users"), ("email", "mara.master@sunrise.example"), ("password", PASSWORD)];
    let forged = browser().post(app.url("/sign-in")).form(&form).send().await.unwrap();
    assert_eq!(forged.status(), StatusCode::FORBIDDEN, "no cookie, no sign-in");
    let wrong = [("csrf", "not-the-token"), ("email", "mara.master@sunrise.example"), ("password", PASSWORD)];
    assert_eq!(client.post(app.url("/sign-in")).form(&wrong).send().await.unwrap().status(), StatusCode::FORBIDDEN);

    let bad_password =
        [("csrf", csrf.as_str()), ("email", "mara.master@sunrise.example"), ("password", "nope nope nope")];
    let refused = client.post(app.url("/sign-in")).form(&bad_password).send().await.unwrap();
    assert_eq!(refused.status(), StatusCode::UNAUTHORIZED);
    assert!(refused.text().await.unwrap().contains("The email or password is not right"));

    let signed_in = client.post(app.url("/sign-in")).form(&form).send().await.unwrap();
    assert_eq!(signed_in.status(), StatusCode::SEE_OTHER);
    assert_eq!(location(&signed_in), "/users");
    let cookie = signed_in.headers().get(SET_COOKIE).unwrap().to_str().unwrap();
    assert!(cookie.starts_with("starship_session=") && cookie.contains("HttpOnly") && cookie.contains("SameSite=Lax"));
    let (status, html) = page(&app, &client, "/").await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        html.contains("mara.master@sunrise.example") && html.contains("Master Content Partner Operations"),
        "{html}"
    );

    // Only same-site paths are followed after signing in.
    for next in ["//evil.example/x", "https://evil.example/", "/\\evil.example"] {
        let fresh = browser();
        let (_, html) = page(&app, &fresh, &format!("/sign-in?next={}", next.replace('/', "%2F"))).await;
        assert!(!html.contains("evil.example"), "{next} is never echoed as a target");
        let token = csrf_of(&html);
        let form = [
            ("csrf", token.as_str()),
            ("next", next),
            ("email", "mara.master@sunrise.example"),
            ("password", PASSWORD),
        ];
        let response = fresh.post(app.url("/sign-in")).form(&form).send().await.unwrap();
        assert_eq!(response.status(), StatusCode::SEE_OTHER, "{next}");
        assert_eq!(location(&response), "/", "{next}");
    }
});

app_test!(a_form_without_the_session_token_changes_nothing, |app| async move {
    world(&app).await;
    let mara = signed_in_browser(&app, "mara.master@sunrise.example").await;
    let (_, html) = page(&app, &mara, "/onboard").await;
    let csrf = csrf_of(&html);
    let users_before = app.count("users").await;
    let person = |token: &str| {
        vec![
            ("csrf", token.to_string()),
            ("email", "web.made@sunrise.example".to_string()),
            ("first_name", "Web".to_string()),
            ("last_name", "Made".to_string()),
            ("locale", "en-GB".to_string()),
        ]
    };
    for token in ["", "forged", &csrf[..csrf.len() - 1]] {
        let response = mara.post(app.url("/onboard/create")).form(&person(token)).send().await.unwrap();
        assert_eq!(response.status(), StatusCode::FORBIDDEN, "token {token:?}");
    }
    // Another session's token is not this one's.
    let other_session = signed_in_browser(&app, "mara.master@sunrise.example").await;
    let (_, other) = page(&app, &other_session, "/onboard").await;
    assert_ne!(csrf_of(&other), csrf);
    let response = mara.post(app.url("/onboard/create")).form(&person(&csrf_of(&other))).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::FORBIDDEN);
    assert_eq!(app.count("users").await, users_before, "nothing was written");

    let response = mara.post(app.url("/onboard/create")).form(&person(&csrf)).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    assert!(location(&response).starts_with("/onboard/permissions?user="));
    assert_eq!(app.count("users").await, users_before + 1);
    let history: i64 = {
        use starship_store::sqlx::Row;
        starship_store::sqlx::query(
            "SELECT COUNT(*) AS n FROM history WHERE action = 'user.created' AND source = 'web'",
        )
        .fetch_one(app.store.pool())
        .await
        .unwrap()
        .try_get("n")
        .unwrap()
    };
    assert_eq!(history, 1, "the History names the web as the source");

    // The same refusal for a signed-out POST: to sign in, not a write.
    let anonymous = browser();
    let response = anonymous.post(app.url("/onboard/create")).form(&person(&csrf)).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    assert_eq!(location(&response), "/sign-in");
});

app_test!(pages_render_the_seeds_tabs_and_hide_other_partners, |app| async move {
    let w = world(&app).await;
    let mara = signed_in_browser(&app, "mara.master@sunrise.example").await;
    let (status, html) = page(&app, &mara, "/").await;
    assert_eq!(status, StatusCode::OK);
    for tab in ["Roles", "Starship Admin Privileges", "Notifications", "Application Metadata", "History"] {
        assert!(html.contains(&format!(">{tab}</a>")), "My Account shows the {tab} tab");
    }
    let (_, html) = page(&app, &mara, "/?tab=notifications").await;
    assert!(html.contains("Source requests") && html.contains(r#"aria-checked="false""#), "Master only: defaults off");
    let (_, html) = page(&app, &mara, "/?tab=history&show=all").await;
    assert!(html.contains("<table class=\"table history\">"), "her sign-in, shown when sign-ins are asked for");

    let pat = signed_in_browser(&app, "pat.plain@sunrise.example").await;
    let (_, html) = page(&app, &pat, "/").await;
    assert!(!html.contains(">History</a>") && !html.contains(">Starship Admin Privileges</a>"));
    assert!(!html.contains("href=\"/applications\""), "no Applications tab without admin privileges");
    let (status, _) = page(&app, &pat, "/applications/backlot").await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    // Alex administers Production Academy: an admin, but not of Backlot.
    let alex = signed_in_browser(&app, "alex.academy@sunrise.example").await;
    let (status, _) = page(&app, &alex, "/applications/backlot").await;
    assert_eq!(status, StatusCode::FORBIDDEN, "Backlot's page, to an admin of another application");
    let (status, _) = page(&app, &alex, "/applications/production-academy").await;
    assert_eq!(status, StatusCode::OK, "his own application's page");
    let (status, _) = page(&app, &pat, "/onboard").await;
    assert_eq!(status, StatusCode::FORBIDDEN, "only Master Content Partner Operations creates users");

    let (status, html) = page(&app, &mara, &format!("/users/{}", w.plain)).await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains("Onboard"), "a Backlot admin may onboard a colleague");
    let (status, html) = page(&app, &mara, &format!("/users/{}", w.outsider)).await;
    assert_eq!(status, StatusCode::NOT_FOUND, "another partner's user does not exist here");
    assert!(!html.contains("nina"));
    let (status, html) = page(&app, &mara, "/applications/backlot?everyone=1").await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains("pat.plain@sunrise.example") && !html.contains("nina.north"));

    let response = mara.get(app.url("/static/app.css")).send().await.unwrap();
    assert_eq!(response.headers()["content-type"], "text/css; charset=utf-8");
    let response = mara.get(app.url("/")).send().await.unwrap();
    assert!(response.headers()["content-security-policy"].to_str().unwrap().starts_with("default-src 'self'"));
});

app_test!(the_portal_panel_offers_only_what_the_level_allows_and_the_server_agrees, |app| async move {
    let p = crate::portal::portal_world(&app).await;
    // A peer at Eli's own level holds nothing Eli could not have given, so
    // only the matrix (Engineering administers read-only users) refuses here.
    let peer = app.member(Some(&p.metro), "erin.peer@metrofiber.example").await;
    app.grant(&peer, "partner-portal", "engineering", None).await;
    let eli = signed_in_browser(&app, "eli.engineer@metrofiber.example").await;
    let (status, html) = page(&app, &eli, &format!("/portal/users?edit={peer}")).await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains("Your permission level does not let you change"));
    for action in ["Delete contact", "Revoke portal access", "Save details", "Change level"] {
        assert!(!html.contains(action), "{action} is not offered on an engineering peer");
    }
    let (_, html) = page(&app, &eli, &format!("/portal/users?edit={}", p.read_only)).await;
    assert!(html.contains("Delete contact") && html.contains("Revoke portal access"));

    // Posting the refused form anyway changes nothing.
    let csrf = csrf_of(&html);
    let users_before = app.count("users").await;
    let response = eli
        .post(app.url(&format!("/portal/users/{peer}")))
        .form(&[("csrf", csrf.as_str()), ("action", "delete")])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(response.text().await.unwrap().contains("permission level may not administer this person"));
    let (_, html) = page(&app, &eli, "/portal/users").await;
    assert!(html.contains("erin.peer@metrofiber.example"), "still there");
    assert_eq!(app.count("users").await, users_before);

    let rita = signed_in_browser(&app, "rita.reader@metrofiber.example").await;
    let (_, html) = page(&app, &rita, "/portal/appliances").await;
    assert!(html.contains("OCA-1") && !html.contains("Drain OCA-1"), "read-only sees appliances, no self-service");
    let response = rita
        .post(app.url(&format!("/portal/appliances/{}/drain", p.appliance)))
        .form(&[("csrf", csrf_of(&html).as_str()), ("action", "drain")])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::FORBIDDEN);
});

/// Rita of Metro Fiber turns on two-step sign-in; her authenticator's code
/// at a time, and the time now (seconds).
async fn rita_with_two_step_sign_in(app: &TestApp) -> (impl Fn(i64) -> String, i64) {
    crate::portal::portal_world(app).await;
    let rita = app.signed_in("rita.reader@metrofiber.example").await;
    let (_, enrolment) = app.post(&rita, "/api/v1/me/mfa", json!({})).await;
    let secret = enrolment["secret"].as_str().unwrap().to_string();
    let now = starship_store::now_millis() / 1000;
    let code = move |at: i64| {
        starship_server::ops::session::current_code(&secret, "rita.reader@metrofiber.example", at).unwrap()
    };
    let (status, _) = app.post(&rita, "/api/v1/me/mfa/confirm", json!({"code": code(now - 30)})).await;
    assert_eq!(status, StatusCode::OK);
    (code, now)
}

app_test!(an_account_with_mfa_signs_in_on_the_page_with_a_code, |app| async move {
    let (code, now) = rita_with_two_step_sign_in(&app).await;

    let client = browser();
    let (_, html) = page(&app, &client, "/sign-in").await;
    // One form for everyone: the code field is there, and optional.
    assert!(html.contains(r#"name="totp""#) && html.contains("Otherwise leave it empty"));
    assert!(!tag_of(&html, "totp").contains(" required"), "the code is optional");
    let csrf = csrf_of(&html);
    // A wrong password, with or without a code, answers alike whether or
    // not the account has two-step sign-in: nothing tells it before the
    // password is right.
    for code_typed in ["", "123456"] {
        let refusal = |email: &str| {
            let form = [
                ("csrf", csrf.clone()),
                ("email", email.into()),
                ("password", "wrong password".into()),
                ("totp", code_typed.into()),
            ];
            let request = client.post(app.url("/sign-in")).form(&form);
            let email = email.to_string();
            async move {
                let response = request.send().await.unwrap();
                (response.status(), response.text().await.unwrap().replace(&email, "EMAIL"))
            }
        };
        let with_mfa = refusal("rita.reader@metrofiber.example").await;
        let without = refusal("eli.engineer@metrofiber.example").await;
        assert_eq!(with_mfa.0, StatusCode::UNAUTHORIZED);
        assert_eq!(with_mfa, without, "a code typed: {code_typed:?}");
    }
    // The right password without a code: the page asks for the code alone,
    // and never holds the password.
    let form =
        [("csrf", csrf.clone()), ("email", "rita.reader@metrofiber.example".into()), ("password", PASSWORD.into())];
    let response = client.post(app.url("/sign-in")).form(&form).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let html = response.text().await.unwrap();
    assert!(
        html.contains(r#"Password accepted for <strong class="wrap-anywhere">rita.reader@metrofiber.example</strong>"#)
    );
    assert!(!html.contains(r#"name="password""#) && !html.contains(PASSWORD), "no password on the page");
    assert!(tag_of(&html, "totp").contains(" required") && tag_of(&html, "totp").contains("autofocus"));
    let challenge = attribute_of(&html, "challenge", "value").expect("the challenge rides in the form");
    let with_code = |code: String| {
        [
            ("csrf", csrf.clone()),
            ("email", "rita.reader@metrofiber.example".to_string()),
            ("challenge", challenge.clone()),
            ("totp", code),
        ]
    };
    // A wrong code is said to be the code, and the code may be typed again.
    let response = client.post(app.url("/sign-in")).form(&with_code("000000".into())).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
    let html = response.text().await.unwrap();
    assert!(html.contains("This code is not right") && html.contains(&challenge));
    assert_eq!(attribute_of(&html, "totp", "aria-invalid").as_deref(), Some("true"));
    let response = client.post(app.url("/sign-in")).form(&with_code(code(now))).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    assert_eq!(location(&response), "/");
    // The challenge is spent: it signs nobody in twice.
    let other = browser();
    let (_, html) = page(&app, &other, "/sign-in").await;
    let form = [
        ("csrf", csrf_of(&html)),
        ("email", "rita.reader@metrofiber.example".to_string()),
        ("challenge", challenge.clone()),
        ("totp", code(now + 30)),
    ];
    let response = other.post(app.url("/sign-in")).form(&form).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
    let html = response.text().await.unwrap();
    assert!(html.contains("enter your password again") && html.contains(r#"name="password""#));
});

app_test!(a_waiting_code_challenge_ends_with_the_accounts_sign_ins, |app| async move {
    let (code, now) = rita_with_two_step_sign_in(&app).await;
    let client = browser();
    let (_, html) = page(&app, &client, "/sign-in").await;
    let csrf = csrf_of(&html);
    let form =
        [("csrf", csrf.clone()), ("email", "rita.reader@metrofiber.example".into()), ("password", PASSWORD.into())];
    let html = client.post(app.url("/sign-in")).form(&form).send().await.unwrap().text().await.unwrap();
    let challenge = attribute_of(&html, "challenge", "value").expect("a challenge");
    // Her admin deactivates her and takes it back meanwhile: the proven
    // password ended with her sign-ins.
    let nora = app.signed_in("nora.admin@metrofiber.example").await;
    let rita_id = app.signed_in_id("rita.reader@metrofiber.example").await;
    let (status, _) = app.post(&nora, &format!("/api/v1/users/{rita_id}/deactivation"), json!({})).await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let (status, _) = app.delete(&nora, &format!("/api/v1/users/{rita_id}/deactivation")).await;
    assert!(status.is_success(), "reactivation answered {status}");
    let form = [
        ("csrf", csrf),
        ("email", "rita.reader@metrofiber.example".to_string()),
        ("challenge", challenge),
        ("totp", code(now)),
    ];
    let response = client.post(app.url("/sign-in")).form(&form).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
    assert!(response.text().await.unwrap().contains("enter your password again"));
});

app_test!(the_welcome_link_opens_a_page_that_activates_the_account_once, |app| async move {
    world(&app).await;
    let mara = app.signed_in("mara.master@sunrise.example").await;
    let person =
        json!({"email": "ana.web@sunrise.example", "first_name": "Ana", "last_name": "Web", "locale": "en-GB"});
    let (status, _) = app.post(&mara, "/api/v1/users", person).await;
    assert_eq!(status, StatusCode::CREATED);
    let operator = app.signed_in("olivia.operator@starship.example").await;
    let (_, outbox) = app.get(&operator, "/api/v1/outbox?recipient=ana.web@sunrise.example").await;
    let body = outbox[0]["body"].as_str().unwrap();
    let link = body.split_whitespace().find(|w| w.contains("/activate?token=")).expect("an activation link");
    let path = &link[link.find("/activate").unwrap()..];

    let client = browser();
    let (status, html) = page(&app, &client, path).await;
    assert_eq!(status, StatusCode::OK);
    let token = path.trim_start_matches("/activate?token=");
    let form = |password: &str, confirm: &str| {
        vec![
            ("csrf", csrf_of(&html)),
            ("token", token.to_string()),
            ("password", password.to_string()),
            ("confirm", confirm.to_string()),
        ]
    };
    let response = client.post(app.url("/activate")).form(&form(PASSWORD, "something else")).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(response.text().await.unwrap().contains("The two passwords are not the same"));
    let response = client.post(app.url("/activate")).form(&form("short", "short")).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(response.text().await.unwrap().contains(r#"id="password-error""#), "the reason sits by the field");
    let response = client.post(app.url("/activate")).form(&form(PASSWORD, PASSWORD)).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let html = response.text().await.unwrap();
    assert!(html.contains("Your account is active"));
    assert!(html.contains(r#"href="/sign-in?email=ana.web%40sunrise.example""#), "sign in with the address filled in");
    let response = client.post(app.url("/activate")).form(&form(PASSWORD, PASSWORD)).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY, "a link works once");
    app.signed_in("ana.web@sunrise.example").await;
});

app_test!(an_unknown_page_answers_a_404_page_and_an_unknown_api_path_a_problem, |app| async move {
    let client = browser();
    let response = client.get(app.url("/no-such-page")).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::NOT_FOUND);
    let content_type = response.headers()[reqwest::header::CONTENT_TYPE].to_str().unwrap().to_string();
    assert!(content_type.starts_with("text/html"), "{content_type}");
    let html = response.text().await.unwrap();
    assert!(html.contains("<html") && html.contains("Not found"), "{html}");

    let response = client.get(app.url("/api/v1/no-such-thing")).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::NOT_FOUND);
    assert_eq!(response.headers()[reqwest::header::CONTENT_TYPE], "application/problem+json");
});

app_test!(every_page_a_link_or_redirect_names_is_served, |app| async move {
    // Signed out, a page the router serves asks to sign in and come back to
    // exactly that address (or is a page shown before signing in); an
    // address no route serves would answer 404.
    let client = browser();
    for page in Page::samples() {
        let printed = page.to_string();
        let sent = printed.split('#').next().unwrap();
        let response = client.get(app.url(sent)).send().await.unwrap();
        match response.status() {
            StatusCode::OK => assert!(
                matches!(page, Page::SignIn { .. } | Page::Activate | Page::ConfirmEmail),
                "{printed} answered without signing in"
            ),
            StatusCode::SEE_OTHER => {
                let to = match page {
                    Page::Portal => Page::Contacts { edit: None, done: None },
                    _ => Page::sign_in_then(sent),
                };
                assert_eq!(location(&response), to.to_string(), "{printed}");
            }
            other => panic!("{printed} answered {other}"),
        }
    }
});

app_test!(every_action_a_form_names_is_served, |app| async move {
    // Signed in, a POST to each action is served by a route whose form
    // extractor answers a forged token (403, or 400 when the empty form
    // lacks a field it reads first), where an address no route serves
    // would answer 404 and a route without POST 405; with the session's
    // token the form goes on to its handler. Signing out comes last, as it
    // ends the session.
    world(&app).await;
    let client = signed_in_browser(&app, "olivia.operator@starship.example").await;
    let (_, html) = page(&app, &client, Page::MY_ACCOUNT).await;
    let csrf = csrf_of(&html);
    let mut actions = Action::samples();
    actions.sort_by_key(|action| *action == Action::SignOut);
    for action in actions {
        let printed = action.to_string();
        let post = |token: &str| client.post(app.url(&printed)).form(&[("csrf", token)]).send();

        let forged = post("not-the-token").await.unwrap();
        let status = forged.status();
        let body = forged.text().await.unwrap();
        assert!(
            (status == StatusCode::FORBIDDEN && body.contains("did not come from Starship"))
                || (status == StatusCode::BAD_REQUEST && body.contains("form is not right")),
            "{printed} answered {status} to a forged form"
        );

        let response = post(&csrf).await.unwrap();
        let status = response.status();
        let to = location(&response).to_string();
        let body = response.text().await.unwrap();
        assert!(!body.contains("did not come from Starship"), "{printed}: the session's token refused");
        assert!(!status.is_server_error() && status != StatusCode::METHOD_NOT_ALLOWED, "{printed} answered {status}");
        let signs_out = action == Action::SignOut;
        assert_eq!(to.starts_with(Page::SIGN_IN), signs_out, "{printed} went to {to}");
    }
});

/// The form action of the first Remove button on a page, if any.
fn remove_action(html: &str, kind: &str) -> Option<String> {
    let start = html.find(&format!("/{kind}/"))?;
    let from = html[..start].rfind("action=\"")? + "action=\"".len();
    Some(html[from..].split('"').next().unwrap().to_string())
}

app_test!(an_admin_removes_a_role_on_the_roles_tab_and_others_get_no_button, |app| async move {
    let w = world(&app).await;
    let profile = format!("/users/{}", w.master_only);

    // Alex administers Production Academy, not Backlot: no button, and a
    // forged form is refused.
    let alex = signed_in_browser(&app, "alex.academy@sunrise.example").await;
    let (status, html) = page(&app, &alex, &profile).await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains("Master Content Partner Operations"));
    assert!(remove_action(&html, "roles").is_none(), "Alex sees no Remove button");

    let mara = signed_in_browser(&app, "mara.master@sunrise.example").await;
    let (_, html) = page(&app, &mara, &profile).await;
    let action = remove_action(&html, "roles").expect("a Backlot admin sees Remove");
    assert!(action.starts_with(&format!("/users/{}/roles/", w.master_only)), "{action}");

    let (_, alex_html) = page(&app, &alex, &profile).await;
    let forged = alex.post(app.url(&action)).form(&[("csrf", csrf_of(&alex_html).as_str())]).send().await.unwrap();
    assert_eq!(forged.status(), StatusCode::FORBIDDEN);

    let response = mara.post(app.url(&action)).form(&[("csrf", csrf_of(&html).as_str())]).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    assert!(location(&response).starts_with(&format!("{profile}?done=role-revoked&undo=")));
    let (_, html) = page(&app, &mara, &format!("{profile}?done=role-revoked")).await;
    assert!(html.contains("Role removed.") && html.contains("No application roles."), "{html}");

    let again = mara.post(app.url(&action)).form(&[("csrf", csrf_of(&html).as_str())]).send().await.unwrap();
    assert_eq!(again.status(), StatusCode::NOT_FOUND, "a role removed already");
    let revoked: i64 = starship_store::sqlx::query_scalar(
        "SELECT COUNT(*) FROM history WHERE action = 'role.revoked' AND source = 'web' AND user_id = $1",
    )
    .bind(&w.master_only)
    .fetch_one(app.store.pool())
    .await
    .unwrap();
    assert_eq!(revoked, 1, "History records the removal once, from the web");
});

app_test!(an_operator_removes_an_admin_privilege_on_its_tab, |app| async move {
    let w = world(&app).await;
    let tab = format!("/users/{}?tab=admin-privileges", w.academy_admin);
    let mara = signed_in_browser(&app, "mara.master@sunrise.example").await;
    let (_, html) = page(&app, &mara, &tab).await;
    assert!(remove_action(&html, "admin-privileges").is_none(), "Mara does not administer Production Academy");

    let operator = signed_in_browser(&app, "olivia.operator@starship.example").await;
    let (status, html) = page(&app, &operator, &tab).await;
    assert_eq!(status, StatusCode::OK);
    let action = remove_action(&html, "admin-privileges").expect("operators may remove it");
    let response = operator.post(app.url(&action)).form(&[("csrf", csrf_of(&html).as_str())]).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    let (_, html) = page(&app, &operator, &format!("{tab}&done=admin-removed")).await;
    assert!(html.contains("Admin privilege removed."));

    let api = app.signed_in("olivia.operator@starship.example").await;
    let (_, profile) = app.get(&api, &format!("/api/v1/users/{}", w.academy_admin)).await;
    assert_eq!(profile["admin_privileges"].as_array().unwrap().len(), 1, "one of the two privileges is left");
});

app_test!(two_step_sign_in_is_set_up_on_the_security_page_and_then_asked_for, |app| async move {
    world(&app).await;
    let email = "pat.plain@sunrise.example";
    let pat = signed_in_browser(&app, email).await;
    let (status, html) = page(&app, &pat, "/security").await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains("Set up two-step sign-in"));
    let csrf = csrf_of(&html);
    let post = |form: Vec<(&'static str, String)>| {
        let request = pat.post(app.url("/security")).form(&form);
        async move { request.send().await.unwrap() }
    };

    let response = post(vec![("csrf", csrf.clone()), ("action", "start".into())]).await;
    assert_eq!(response.status(), StatusCode::OK);
    let html = response.text().await.unwrap();
    let key_at = html.find(r#"aria-label="Key "#).expect("the key to add") + r#"aria-label="Key "#.len();
    let secret = html[key_at..].split('"').next().unwrap().to_string();
    assert!(html.contains("otpauth://totp/"), "a link for authenticator apps");
    // The same link as a QR code, drawn on the server as an inline SVG.
    let uri = starship_server::ops::session::provisioning_uri(&secret, email).unwrap();
    let svg = qrcode::QrCode::new(uri.as_bytes())
        .unwrap()
        .render::<qrcode::render::svg::Color>()
        .min_dimensions(200, 200)
        .dark_color(qrcode::render::svg::Color("#000000"))
        .light_color(qrcode::render::svg::Color("#ffffff"))
        .build();
    let svg = &svg[svg.find("<svg").unwrap()..];
    assert!(html.contains(&format!(r#"aria-label="QR code of the key for your authenticator app">{svg}</figure>"#)));
    assert!(!html.contains("<script src=\"http"), "no third-party script");
    let code = |at: i64| starship_server::ops::session::current_code(&secret, email, at).unwrap();
    let now = starship_store::now_millis() / 1000;

    // A wrong code is refused, the same key is shown again, nothing is on.
    let wrong = if code(now) == "000000" { "111111" } else { "000000" };
    let response = post(vec![("csrf", csrf.clone()), ("action", "confirm".into()), ("code", wrong.into())]).await;
    assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let html = response.text().await.unwrap();
    assert!(html.contains("not the current code") && html.contains(&format!("Key {secret}")), "{html}");

    let response = post(vec![("csrf", csrf.clone()), ("action", "confirm".into()), ("code", code(now))]).await;
    assert_eq!(response.status(), StatusCode::OK);
    let html = response.text().await.unwrap();
    assert!(html.contains("Two-step sign-in is on."));
    let recovery_codes: Vec<String> =
        html.split("<li><code>").skip(1).map(|rest| rest.split('<').next().unwrap().to_string()).collect();
    assert_eq!(recovery_codes.len(), 10, "ten recovery codes, shown once");
    let (_, html) = page(&app, &pat, "/security").await;
    assert!(
        html.contains("Turn off two-step sign-in") && !html.contains("<li><code>"),
        "the codes are not shown again"
    );

    // Signing in now takes a code.
    let (status, _) =
        app.call(&browser(), "POST", "/api/v1/session", Some(json!({"email": email, "password": PASSWORD}))).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);

    // Turning it off takes a code: the session alone is not enough.
    let response = post(vec![("csrf", csrf.clone()), ("action", "off".into()), ("code", wrong.into())]).await;
    assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(response.text().await.unwrap().contains("Turn off two-step sign-in"), "still on");

    // Turned off with a recovery code, the password alone works again.
    let off = vec![("csrf", csrf.clone()), ("action", "off".into()), ("code", recovery_codes[0].clone())];
    let response = post(off).await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    assert_eq!(location(&response), "/security?done=off");
    signed_in_browser(&app, email).await;
    let actions: Vec<String> = starship_store::sqlx::query_scalar(
        "SELECT h.action FROM history h JOIN users u ON u.id = h.user_id \
         WHERE u.email = $1 AND h.action LIKE 'mfa.%' AND h.source = 'web' ORDER BY h.at, h.id",
    )
    .bind(email)
    .fetch_all(app.store.pool())
    .await
    .unwrap();
    assert_eq!(actions, ["mfa.enrolled", "mfa.disabled"]);
});

app_test!(the_security_page_refuses_a_form_without_the_session_token, |app| async move {
    world(&app).await;
    let pat = signed_in_browser(&app, "pat.plain@sunrise.example").await;
    let response = pat.post(app.url("/security")).form(&[("action", "start")]).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::FORBIDDEN);
    let mfa: i64 =
        starship_store::sqlx::query_scalar("SELECT COUNT(*) FROM mfa_totp").fetch_one(app.store.pool()).await.unwrap();
    assert_eq!(mfa, 0);
});

app_test!(a_portal_admin_resets_a_users_two_step_sign_in_from_the_panel, |app| async move {
    let metro = crate::portal::portal_world(&app).await;
    let email = "rita.reader@metrofiber.example";
    let rita = app.signed_in(email).await;
    let (_, enrolment) = app.post(&rita, "/api/v1/me/mfa", json!({})).await;
    let secret = enrolment["secret"].as_str().unwrap().to_string();
    let code =
        starship_server::ops::session::current_code(&secret, email, starship_store::now_millis() / 1000).unwrap();
    let (status, _) = app.post(&rita, "/api/v1/me/mfa/confirm", json!({"code": code})).await;
    assert_eq!(status, StatusCode::OK);

    let panel = format!("/portal/users?edit={}", metro.read_only);
    let nora = signed_in_browser(&app, "nora.admin@metrofiber.example").await;
    let (_, html) = page(&app, &nora, &panel).await;
    assert!(html.contains("Reset two-step sign-in"), "an admin may reset it");
    let (_, html_without) = page(&app, &nora, &format!("/portal/users?edit={}", metro.engineering)).await;
    assert!(!html_without.contains("Reset two-step sign-in"), "offered only where it is on");

    let form = [("csrf", csrf_of(&html)), ("action", "mfa".to_string())];
    let response = nora.post(app.url(&format!("/portal/users/{}", metro.read_only))).form(&form).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    let (_, html) = page(&app, &nora, location(&response)).await;
    assert!(html.contains("Two-step sign-in reset") && !html.contains("Reset two-step sign-in"));
    signed_in_browser(&app, email).await;
});

app_test!(a_person_changes_their_password_on_the_security_page, |app| async move {
    let w = world(&app).await;
    let pat = signed_in_browser(&app, "pat.plain@sunrise.example").await;
    let elsewhere = signed_in_browser(&app, "pat.plain@sunrise.example").await;
    let (_, html) = page(&app, &pat, "/security").await;
    assert!(html.contains("Change password"));
    let csrf = csrf_of(&html);
    let wrong = [
        ("csrf", csrf.as_str()),
        ("action", "password"),
        ("current_password", "not it at all"),
        ("new_password", "a brand new passphrase"),
        ("end_other_sessions", "on"),
    ];
    let response = pat.post(app.url("/security")).form(&wrong).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(response.text().await.unwrap().contains("Is not your current password"));

    let right = [
        ("csrf", csrf.as_str()),
        ("action", "password"),
        ("current_password", PASSWORD),
        ("new_password", "a brand new passphrase"),
        ("end_other_sessions", "on"),
    ];
    let response = pat.post(app.url("/security")).form(&right).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    let (_, html) = page(&app, &pat, location(&response)).await;
    assert!(html.contains("Your password is changed"), "this browser stays signed in");
    let (status, _) = page(&app, &elsewhere, "/security").await;
    assert_ne!(status, StatusCode::OK, "the other browser is signed out");
    let operator = app.signed_in("olivia.operator@starship.example").await;
    let (_, history) = app.get(&operator, &format!("/api/v1/users/{}/history", w.plain)).await;
    let entry = history.as_array().unwrap().iter().find(|e| e["action"] == "password.changed").expect("in History");
    assert_eq!(entry["source"], "web");
    assert_eq!(entry["details"]["other_sessions_ended"], 1);
});

app_test!(an_admin_deactivates_and_reactivates_someone_from_their_profile, |app| async move {
    let w = world(&app).await;
    let mara = signed_in_browser(&app, "mara.master@sunrise.example").await;
    let profile = format!("/users/{}", w.plain);
    let (_, html) = page(&app, &mara, &profile).await;
    assert!(html.contains(">Deactivate</button>") && html.contains("data-confirm=\"Deactivate pat plain?"));
    let form = [("csrf", csrf_of(&html)), ("action", "deactivate".to_string())];
    let response = mara.post(app.url(&format!("{profile}/deactivation"))).form(&form).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    let (_, html) = page(&app, &mara, location(&response)).await;
    assert!(html.contains("badge-disabled\">deactivated") && html.contains(">Reactivate</button>"));
    let (status, _) = app
        .post(&app.client(), "/api/v1/session", json!({"email": "pat.plain@sunrise.example", "password": PASSWORD}))
        .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    let form = [("csrf", csrf_of(&html)), ("action", "reactivate".to_string())];
    let response = mara.post(app.url(&format!("{profile}/deactivation"))).form(&form).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    app.signed_in("pat.plain@sunrise.example").await;

    let pat = signed_in_browser(&app, "pat.plain@sunrise.example").await;
    let (_, html) = page(&app, &pat, &format!("/users/{}", w.backlot_admin)).await;
    assert!(!html.contains(">Deactivate</button>"), "not offered to someone who may not");

    // Alex could have given Pat all Pat holds (nothing), but neither creates
    // users nor holds a portal level: only the rule for administering a
    // person refuses, and the form posted anyway changes nothing.
    let alex = signed_in_browser(&app, "alex.academy@sunrise.example").await;
    let (_, security) = page(&app, &alex, "/security").await;
    let before = app.snapshot().await;
    let form = [("csrf", csrf_of(&security)), ("action", "deactivate".to_string())];
    let response = alex.post(app.url(&format!("{profile}/deactivation"))).form(&form).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::FORBIDDEN);
    assert!(snapshot_difference(&before, &app.snapshot().await).is_empty(), "nothing changed");
    let (_, html) = page(&app, &alex, &profile).await;
    assert!(!html.contains(">Deactivate</button>"), "not offered to Alex either");
});

app_test!(history_reads_in_words_leaves_out_sign_ins_and_filters_by_kind, |app| async move {
    let w = world(&app).await;
    // Signing in writes a `signed-in` entry into Mara's own History.
    let mara = signed_in_browser(&app, "mara.master@sunrise.example").await;
    {
        use starship_store::history::{self, Actor, Kind, Source};
        let mut conn = app.store.conn().await.unwrap();
        let details = json!({"changes": [{"application": "backlot", "enabled": true}]});
        history::append(
            &mut conn,
            &UserId::from(w.backlot_admin.as_str()),
            &Actor::system(Source::System),
            Kind::UserDeactivated,
            details,
        )
        .await
        .unwrap();
    }
    let row = |label: &str| format!(r#"<th scope="row">{label}</th>"#);

    let (_, html) = page(&app, &mara, "/?tab=history").await;
    assert!(html.contains(&row("Deactivated")), "a kind reads as words, not `user.deactivated`");
    assert!(!html.contains(&row("Signed in")), "sign-ins are left out unless asked for");
    assert!(html.contains("Starship <span class=\"sub\">automatically</span>"), "not “system via system”");
    assert!(html.contains("changes: (application: backlot, enabled: yes)"), "details are words, not JSON");
    assert!(html.contains("data-local-time"), "the viewer's browser shows the time in their own zone");

    let (_, html) = page(&app, &mara, "/?tab=history&show=sign-in").await;
    assert!(html.contains(&row("Signed in")) && !html.contains(&row("Deactivated")));
    let (_, html) = page(&app, &mara, "/?tab=history&show=user.deactivated").await;
    assert!(html.contains(&row("Deactivated")) && !html.contains(&row("Signed in")));
    assert!(html.contains(r#"<option value="user.deactivated" selected>"#), "the filter shows what is chosen");
    let (_, html) = page(&app, &mara, "/?tab=history&show=all").await;
    assert!(html.contains(&row("Signed in")) && html.contains(&row("Deactivated")));

    starship_store::sqlx::query("UPDATE users SET locale = 'fr-FR' WHERE id = $1")
        .bind(&w.backlot_admin)
        .execute(app.store.pool())
        .await
        .unwrap();
    let (_, html) = page(&app, &mara, "/?tab=history").await;
    assert!(html.contains(&row("Désactivé")), "labels read in the viewer's language");
    assert!(html.contains("automatiquement"));
});

app_test!(reviewers_see_open_reviews_with_progress_and_decide_with_buttons, |app| async move {
    let w = world(&app).await;
    app.grant(&w.plain, "backlot", "content-partner-operations", None).await;
    let mara = signed_in_browser(&app, "mara.master@sunrise.example").await;
    let (_, home) = page(&app, &mara, "/").await;
    assert!(!home.contains(r#"href="/reviews""#), "no review yet, no link");
    let due = starship_core::time_fmt::rfc3339_from_millis(starship_store::now_millis() + 86_400_000);
    let (status, review) =
        app.post(&mara, "/api/v1/access-reviews", json!({"application": "backlot", "due_at": due})).await;
    assert_eq!(status, StatusCode::CREATED);
    let id = review["id"].as_str().unwrap();
    let (_, home) = page(&app, &mara, "/").await;
    assert!(home.contains(r#"href="/reviews""#), "the navigation leads to the open review");
    let (status, list) = page(&app, &mara, "/reviews").await;
    assert_eq!(status, StatusCode::OK);
    assert!(list.contains(&format!("/reviews/{id}")) && list.contains("0 of 3 decided"), "{list}");

    let (status, html) = page(&app, &mara, &format!("/reviews/{id}")).await;
    assert_eq!(status, StatusCode::OK);
    // Keep and Revoke for Morgan's and Pat's grants, none for her own.
    assert_eq!(html.matches(r#"value="revoke""#).count(), 2, "{html}");
    assert!(html.contains("Another admin decides"));
    let pat_grant = review["items"].as_array().unwrap().iter().find(|i| i["user_id"] == w.plain.as_str()).unwrap()
        ["grant_id"]
        .as_str()
        .unwrap()
        .to_string();
    let csrf = csrf_of(&html);
    let path = format!("/reviews/{id}/decisions");
    let forged = mara
        .post(app.url(&path))
        .form(&[("csrf", "forged"), ("grant_id", pat_grant.as_str()), ("decision", "revoke")])
        .send()
        .await
        .unwrap();
    assert_eq!(forged.status(), StatusCode::FORBIDDEN);
    let decided = mara
        .post(app.url(&path))
        .form(&[("csrf", csrf.as_str()), ("grant_id", pat_grant.as_str()), ("decision", "revoke")])
        .send()
        .await
        .unwrap();
    assert_eq!(decided.status(), StatusCode::SEE_OTHER);
    let (_, list) = page(&app, &mara, "/reviews").await;
    assert!(list.contains("1 of 3 decided"), "{list}");

    // Pat administers nothing: no link, and the review is not his to read.
    let pat = signed_in_browser(&app, "pat.plain@sunrise.example").await;
    let (_, home) = page(&app, &pat, "/").await;
    assert!(!home.contains(r#"href="/reviews""#));
    let (status, _) = page(&app, &pat, &format!("/reviews/{id}")).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
});

app_test!(the_wizard_grants_a_role_with_an_end_date_and_refuses_a_past_one, |app| async move {
    let w = world(&app).await;
    let mara = signed_in_browser(&app, "mara.master@sunrise.example").await;
    let (status, html) = page(&app, &mara, &format!("/onboard/permissions?user={}", w.plain)).await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains(r#"name="until""#), "the roles dialog offers an end date");
    let csrf = csrf_of(&html);
    let assign = |until: &str| {
        vec![
            ("csrf", csrf.clone()),
            ("user", w.plain.clone()),
            ("selected", w.plain.clone()),
            ("role", "backlot|content-partner-operations".to_string()),
            ("until", until.to_string()),
            ("action", "assign".to_string()),
        ]
    };

    let refused = mara.post(app.url("/onboard/permissions")).form(&assign("2001-01-01")).send().await.unwrap();
    assert_eq!(refused.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(refused.text().await.unwrap().contains("The end must be in the future"));

    let assigned = mara.post(app.url("/onboard/permissions")).form(&assign("2999-05-03")).send().await.unwrap();
    assert_eq!(assigned.status(), StatusCode::OK);
    let html = assigned.text().await.unwrap();
    assert!(html.contains("until 3 May 2999"), "the pending role shows its end: {html}");
    let code = format!("{}|backlot|content-partner-operations||2999-05-03", w.plain);
    assert!(html.contains(&format!(r#"name="assign" value="{code}""#)), "{html}");

    let grant = [("csrf", csrf.clone()), ("user", w.plain.clone()), ("assign", code), ("action", "grant".into())];
    let granted = mara.post(app.url("/onboard/permissions")).form(&grant).send().await.unwrap();
    assert!(granted.status().is_success() || granted.status().is_redirection(), "{}", granted.status());
    let stored: Option<i64> = starship_store::sqlx::query_scalar(
        "SELECT expires_at FROM grants WHERE user_id = $1 AND role = 'content-partner-operations'",
    )
    .bind(&w.plain)
    .fetch_one(app.store.pool())
    .await
    .unwrap();
    let stored = stored.expect("the grant ends");
    assert_eq!(starship_core::time_fmt::rfc3339_from_millis(stored), "2999-05-04T00:00:00Z");
});

app_test!(the_wizard_carries_its_state_as_one_field_and_refuses_a_tampered_one, |app| async move {
    let w = world(&app).await;
    let alex = signed_in_browser(&app, "alex.academy@sunrise.example").await;
    let (_, html) = page(&app, &alex, &format!("/onboard/permissions?user={}", w.plain)).await;
    let csrf = csrf_of(&html);
    let code = format!("{}|production-academy|academy-user|{HOME_THEATER}|", w.plain);
    let grant = [("csrf", csrf.clone()), ("user", w.plain.clone()), ("assign", code), ("action", "grant".into())];
    let granted = alex.post(app.url("/onboard/permissions")).form(&grant).send().await.unwrap();
    assert_eq!(granted.status(), StatusCode::OK);
    let step = granted.text().await.unwrap();
    assert!(step.contains("Application metadata"), "the academy asks for its metadata: {step}");
    let trail = hidden_value(&step, "trail").expect("the step carries its trail");
    let state: Value = serde_json::from_str(&trail).unwrap();
    assert_eq!(state["queue"], json!([{"user_id": w.plain, "application": "production-academy"}]));
    assert_eq!(state["grants"][0]["new"], json!(true));

    let tampered = [("csrf", csrf.as_str()), ("trail", "{\"queue\": \"everyone|backlot\"}"), ("action", "save")];
    let refused = alex.post(app.url("/onboard/metadata")).form(&tampered).send().await.unwrap();
    assert_eq!(refused.status(), StatusCode::BAD_REQUEST);
    let api = app.signed_in("alex.academy@sunrise.example").await;
    let (_, saved) = app.get(&api, &format!("/api/v1/users/{}/metadata/production-academy", w.plain)).await;
    assert!(!saved.to_string().contains("IMF101"), "a refused step saves nothing: {saved}");

    let save = [
        ("csrf", csrf.as_str()),
        ("trail", trail.as_str()),
        ("crew_department", "sound"),
        ("country", "fr"),
        ("courses", "IMF101"),
        ("action", "save"),
    ];
    let done = alex.post(app.url("/onboard/metadata")).form(&save).send().await.unwrap();
    assert_eq!(done.status(), StatusCode::OK);
    let confirmation = done.text().await.unwrap();
    assert!(confirmation.contains("Roles granted"), "{confirmation}");
    assert!(confirmation.contains("Production Academy metadata saved."), "{confirmation}");
    assert!(confirmation.contains("academy-link"), "the saved academy metadata queued its email: {confirmation}");
});

/// The value of an attribute of the element with this id, if any.
/// A reason as the pages show it, capitalised.
fn capitalised_reason(reason: &str) -> String {
    let mut chars = reason.chars();
    chars.next().map(|c| c.to_uppercase().chain(chars).collect()).unwrap_or_default()
}

/// The start tag of the element with this id.
fn tag_of(html: &str, id: &str) -> String {
    let at = html.find(&format!(r#"id="{id}""#)).expect("the element");
    let start = html[..at].rfind('<').unwrap();
    html[start..at + html[at..].find('>').unwrap()].to_string()
}

/// The value of a hidden field, unescaped.
fn hidden_value(html: &str, name: &str) -> Option<String> {
    let marker = format!(r#"type="hidden" name="{name}" value=""#);
    let from = html.find(&marker)? + marker.len();
    let raw = html[from..].split('"').next()?;
    Some(
        raw.replace("&#34;", "\"")
            .replace("&quot;", "\"")
            .replace("&#39;", "'")
            .replace("&amp;", "&")
            .replace("&#38;", "&"),
    )
}

fn attribute_of(html: &str, id: &str, attribute: &str) -> Option<String> {
    let at = html.find(&format!(r#"id="{id}""#))?;
    let start = html[..at].rfind('<')?;
    let end = at + html[at..].find('>')?;
    let tag = &html[start..end];
    let from = tag.find(&format!(r#"{attribute}=""#))? + attribute.len() + 2;
    Some(tag[from..].split('"').next()?.to_string())
}

app_test!(sign_in_errors_are_tied_to_their_fields_for_screen_readers, |app| async move {
    world(&app).await;
    let client = browser();
    let (_, html) = page(&app, &client, "/sign-in").await;
    assert_eq!(attribute_of(&html, "email", "aria-invalid"), None, "nothing is wrong before a try");
    assert_eq!(attribute_of(&html, "email", "aria-describedby"), None);
    let csrf = csrf_of(&html);

    // A wrong password: the refusal names no single field, so it describes both.
    let form = [("csrf", csrf.as_str()), ("email", "mara.master@sunrise.example"), ("password", "not her password")];
    let html = client.post(app.url("/sign-in")).form(&form).send().await.unwrap().text().await.unwrap();
    assert!(html.contains(r#"role="alert" id="sign-in-error""#), "{html}");
    for field in ["email", "password"] {
        assert_eq!(attribute_of(&html, field, "aria-invalid").as_deref(), Some("true"), "{field}");
        assert_eq!(attribute_of(&html, field, "aria-describedby").as_deref(), Some("sign-in-error"), "{field}");
    }

    // No email: the email field carries its own message.
    let form = [("csrf", csrf.as_str()), ("email", ""), ("password", "whatever it is")];
    let html = client.post(app.url("/sign-in")).form(&form).send().await.unwrap().text().await.unwrap();
    assert_eq!(attribute_of(&html, "email", "aria-invalid").as_deref(), Some("true"));
    assert_eq!(attribute_of(&html, "email", "aria-describedby").as_deref(), Some("email-error"));
    assert!(html.contains(r#"<p class="field-error" id="email-error">Enter your email address</p>"#), "{html}");
    assert_eq!(attribute_of(&html, "password", "aria-invalid"), None, "the password was not judged");
});

app_test!(a_reused_code_on_the_sign_in_page_says_so_only_after_the_right_password, |app| async move {
    let w = world(&app).await;
    let secret = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP";
    let mut conn = app.store.conn().await.unwrap();
    starship_store::mfa::begin_enrolment(&mut conn, &UserId::from(w.plain.as_str()), secret).await.unwrap();
    starship_store::mfa::enable(&mut conn, &UserId::from(w.plain.as_str())).await.unwrap();
    drop(conn);
    let email = "pat.plain@sunrise.example";
    let now = starship_store::now_millis() / 1000;
    let code = starship_server::ops::session::current_code(secret, email, now).unwrap();
    let client = browser();
    let (_, html) = page(&app, &client, "/sign-in").await;
    let csrf = csrf_of(&html);
    let post = |password: &'static str| {
        let form =
            [("csrf", csrf.clone()), ("email", email.into()), ("password", password.into()), ("totp", code.clone())];
        let request = client.post(app.url("/sign-in")).form(&form);
        async move { request.send().await.unwrap() }
    };
    assert_eq!(post(PASSWORD).await.status(), StatusCode::SEE_OTHER, "email, password and code in one form");

    let other = browser();
    let (_, html) = page(&app, &other, "/sign-in").await;
    let csrf = csrf_of(&html);
    let again = |password: &'static str| {
        let form =
            [("csrf", csrf.clone()), ("email", email.into()), ("password", password.into()), ("totp", code.clone())];
        let request = other.post(app.url("/sign-in")).form(&form);
        async move { request.send().await.unwrap().text().await.unwrap() }
    };
    let html = again("not the password at all").await;
    assert!(
        html.contains("The email, password or authenticator code is not right") && !html.contains("used already"),
        "{html}"
    );
    let html = again(PASSWORD).await;
    assert!(html.contains("This code was used already"), "{html}");
    assert_eq!(attribute_of(&html, "totp", "aria-invalid").as_deref(), Some("true"), "the code field is the wrong one");
});

app_test!(the_wizard_catches_a_taken_email_on_its_first_step_and_links_only_ones_own_person, |app| async move {
    let w = world(&app).await;
    let mara = signed_in_browser(&app, "mara.master@sunrise.example").await;
    let (_, html) = page(&app, &mara, "/onboard").await;
    let csrf = csrf_of(&html);
    let add = |email: &str| {
        let request = mara.post(app.url("/onboard/new")).form(&[("csrf", csrf.as_str()), ("email", email)]);
        async move {
            let response = request.send().await.unwrap();
            (response.status(), response.text().await.unwrap())
        }
    };
    // One's own partner's person: said so at once, with a link to them.
    let (status, html) = add("PAT.plain@sunrise.example").await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(html.contains("A user with this email already exists"), "{html}");
    assert!(html.contains(&format!(r#"<a href="/users/{}">Open their profile</a>"#, w.plain)), "{html}");
    let email = tag_of(&html, "email");
    assert!(email.contains("autofocus") && email.contains(r#"aria-invalid="true""#), "{email}");
    assert!(email.contains(r#"aria-describedby="email-error""#), "{email}");
    // Another partner's: the API's neutral answer, no link, no name.
    let (status, html) = add("nina.north@northwind.example").await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(html.contains(&capitalised_reason(starship_store::users::EMAIL_UNAVAILABLE)), "{html}");
    assert!(!html.contains(&w.outsider) && !html.contains("Open their profile") && !html.contains("Northwind"));
    // A free address goes on to the names.
    let (status, html) = add("new.person@sunrise.example").await;
    assert_eq!(status, StatusCode::OK);
    assert!(tag_of(&html, "first_name").contains("autofocus"));
    let form_at = html.find(r#"id="details-form""#).unwrap();
    assert!(html.find(">Next</button>").unwrap() > form_at, "Next comes after the form's fields");

    // Step 2 refused: focus lands on the first field in error.
    let form = [
        ("csrf", csrf.as_str()),
        ("email", "new.person@sunrise.example"),
        ("first_name", "Ana"),
        ("last_name", ""),
        ("locale", "en-GB"),
    ];
    let response = mara.post(app.url("/onboard/create")).form(&form).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let html = response.text().await.unwrap();
    assert!(!tag_of(&html, "first_name").contains("autofocus"));
    let last = tag_of(&html, "last_name");
    assert!(last.contains("autofocus") && last.contains(r#"aria-describedby="last_name-error""#), "{last}");
});

app_test!(select_permissions_preselects_a_lone_user_and_grants_nothing_until_roles_are_assigned, |app| async move {
    let w = world(&app).await;
    let mara = signed_in_browser(&app, "mara.master@sunrise.example").await;
    let (status, html) = page(&app, &mara, &format!("/onboard/permissions?user={}", w.plain)).await;
    assert_eq!(status, StatusCode::OK);
    assert!(tag_of(&html, &format!("select-{}", w.plain)).contains(" checked"), "the lone user is selected");
    let grant_at = html.find(r#"value="grant""#).unwrap();
    let grant = &html[html[..grant_at].rfind('<').unwrap()..grant_at + html[grant_at..].find('>').unwrap()];
    assert!(grant.contains(" disabled"), "Grant roles waits for roles: {grant}");
    assert!(grant_at > html.find("</table>").unwrap(), "Grant roles comes after the users in tab order");
    // Two users: none is chosen for the admin.
    let (_, html) = page(&app, &mara, &format!("/onboard/permissions?user={}&user={}", w.plain, w.master_only)).await;
    assert!(!tag_of(&html, &format!("select-{}", w.plain)).contains(" checked"));

    // The server refuses Grant roles with nothing assigned, whatever the page offered.
    let csrf = csrf_of(&html);
    let form = [("csrf", csrf.as_str()), ("user", w.plain.as_str()), ("action", "grant")];
    let grants_before = app.count("grants").await;
    let response = mara.post(app.url("/onboard/permissions")).form(&form).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(response.text().await.unwrap().contains("Assign roles to at least one user first"));
    assert_eq!(app.count("grants").await, grants_before);
    // Select Roles with nobody selected: focus on the first user's box.
    let form =
        [("csrf", csrf.as_str()), ("user", w.plain.as_str()), ("user", w.master_only.as_str()), ("action", "assign")];
    let html = mara.post(app.url("/onboard/permissions")).form(&form).send().await.unwrap().text().await.unwrap();
    let first = tag_of(&html, &format!("select-{}", w.plain));
    assert!(first.contains("autofocus") && first.contains(r#"aria-describedby="selected-error""#), "{first}");
});

app_test!(select_permissions_refuses_a_tampered_role_or_assignment_and_grants_nothing, |app| async move {
    let w = world(&app).await;
    let mara = signed_in_browser(&app, "mara.master@sunrise.example").await;
    let (_, html) = page(&app, &mara, &format!("/onboard/permissions?user={}", w.plain)).await;
    let csrf = csrf_of(&html);
    let grants_before = app.count("grants").await;
    let pending = format!("{}|backlot|content-partner-operations||", w.plain);
    for (name, tampered, action) in [
        ("role", "backlot".to_string(), "assign"),
        ("role", "backlot|content-partner-operations|7".to_string(), "assign"),
        ("assign", format!("{}|backlot|content-partner-operations", w.plain), "grant"),
        ("assign", format!("{}|backlot|content-partner-operations|home|", w.plain), "grant"),
        ("assign", format!("{}|backlot|content-partner-operations||someday", w.plain), "grant"),
        ("remove", "everyone|backlot".to_string(), "grant"),
    ] {
        let form = [
            ("csrf", csrf.clone()),
            ("user", w.plain.clone()),
            ("selected", w.plain.clone()),
            ("assign", pending.clone()),
            (name, tampered.clone()),
            ("action", action.to_string()),
        ];
        let response = mara.post(app.url("/onboard/permissions")).form(&form).send().await.unwrap();
        assert_eq!(response.status(), StatusCode::BAD_REQUEST, "{name}={tampered}");
    }
    assert_eq!(app.count("grants").await, grants_before, "a refused form grants nothing");
});

app_test!(the_profile_refuses_a_tampered_admin_privilege_or_undo_and_adds_nothing, |app| async move {
    let w = world(&app).await;
    let operator = signed_in_browser(&app, "olivia.operator@starship.example").await;
    let tab = format!("/users/{}?tab=admin-privileges", w.plain);
    let (_, html) = page(&app, &operator, &tab).await;
    let csrf = csrf_of(&html);
    let privileges_before = app.count("admin_privileges").await;
    for tampered in ["backlot|", "backlot|home", "backlot|0", "|7", "backlot|7|7"] {
        let response = operator
            .post(app.url(&format!("/users/{}/admin-privileges", w.plain)))
            .form(&[("csrf", csrf.as_str()), ("scope", tampered)])
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::BAD_REQUEST, "{tampered}");
    }
    assert_eq!(app.count("admin_privileges").await, privileges_before, "a refused form adds nothing");

    // The Undo's address carries the same values; a tampered one offers nothing to press.
    for undo in ["?tab=admin-privileges&undo=backlot%7Chome", "?done=role-revoked&undo=backlot%7Cviewer"] {
        let (status, _) = page(&app, &operator, &format!("/users/{}{undo}", w.plain)).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{undo}");
    }
});
