//! The people the HTTP measures act as, and their API tokens.

use anyhow::{anyhow, bail, Result};
use serde_json::json;
use starship_core::authz::{self, Principal};
use starship_core::catalogue::{keys, AdminScope};
use starship_core::domain::{Email, Locale, Password, PersonName, UserStatus};
use starship_server::ops;
use starship_server::security::hash_password;
use starship_store::grants;
use starship_store::users::{self, NewUser};
use starship_store::Store;

use crate::data::{DataSet, BIG};
use crate::valid::Valid;

/// A Backlot admin of the big partner and an operator, each signed in
/// through POST /api/v1/session and holding an API token from POST /api/v1/tokens.
pub(crate) async fn sign_in_people(store: &Store, data: &DataSet, base: &str) -> Result<(String, String)> {
    let password_text = "bench password, long enough";
    let password = Password::parse("password", password_text).valid()?;
    let admin_email = Email::parse("email", "bench.admin@bench-big-studios.example.com").valid()?;
    let operator_email = Email::parse("email", "bench.operator@starship.example.com").valid()?;
    let mut conn = store.conn().await?;
    let kept = users::get_by_email(&mut conn, &admin_email).await?.is_some();
    drop(conn);
    // A kept database (--reuse) has them from the run that wrote it.
    if !kept {
        create_bench_people(store, data, &admin_email, &operator_email, &password).await?;
    }

    let mut tokens = Vec::new();
    for email in [&admin_email, &operator_email] {
        let client = reqwest::Client::builder().cookie_store(true).build()?;
        let signed_in = client
            .post(format!("{base}/api/v1/session"))
            .json(&json!({"email": email.as_str(), "password": password_text}))
            .send()
            .await?;
        if !signed_in.status().is_success() {
            bail!("signing in as {email}: {} {}", signed_in.status(), signed_in.text().await?);
        }
        let created = client.post(format!("{base}/api/v1/tokens")).json(&json!({"name": "bench"})).send().await?;
        if !created.status().is_success() {
            bail!("creating a token for {email}: {} {}", created.status(), created.text().await?);
        }
        let body: serde_json::Value = created.json().await?;
        tokens.push(body["token"].as_str().ok_or_else(|| anyhow!("no token in {body}"))?.to_string());
    }
    let operator = tokens.pop().expect("two tokens");
    let admin = tokens.pop().expect("two tokens");
    Ok((admin, operator))
}

/// The two people `sign_in_people` signs in, with their rights.
async fn create_bench_people(
    store: &Store,
    data: &DataSet,
    admin_email: &Email,
    operator_email: &Email,
    password: &Password,
) -> Result<()> {
    let mut tx = store.begin().await?;
    let admin = users::insert(
        &mut tx,
        &NewUser {
            partner_id: Some(&data.partners[BIG as usize].id),
            email: admin_email,
            first_name: &PersonName::parse("first_name", "Bench").valid()?,
            last_name: &PersonName::parse("last_name", "Admin").valid()?,
            locale: Locale::parse("locale", "en-US").valid()?,
            phone: None,
            status: UserStatus::Active,
            password_hash: Some(&hash_password(password)),
        },
    )
    .await?;
    let backlot = AdminScope { application: keys::BACKLOT.into(), production: None };
    let permit = authz::grant_admin(&Principal::console(), &data.partners[BIG as usize].id, &backlot)
        .map_err(|denied| anyhow!("the console may grant anything: {denied:?}"))?;
    grants::add_admin(&mut tx, &admin.id, &permit, None).await?;
    tx.commit().await?;
    ops::users::create_operator(store, operator_email, "Bench", "Operator", password).await?;
    Ok(())
}
