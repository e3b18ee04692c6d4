//! Users created through SCIM `/Bulk`, beside an import of as many.

use std::time::Instant;

use anyhow::{anyhow, bail, Result};
use serde_json::json;
use starship_core::domain::{Email, PartnerKind, Password, Title};
use starship_server::ops;
use starship_server::ops::users::{Access, Identity};
use starship_server::{AppState, Config};
use starship_store::history::{Actor, Source};
use starship_store::sqlx;
use starship_store::{partners, users, Store};

use crate::args::Args;
use crate::data::{Rng, FIRST_NAMES, LAST_NAMES};
use crate::log;
use crate::measure::{fmt_rate, Line, Report};
use crate::valid::Valid;

/// SCIM `/Bulk` (issue #17): `n` users created by a partner's identity
/// provider through the real server in this process, in requests of
/// `maxOperations` POSTs each, one after the other; beside it, the import
/// of as many users (`ops::users::create_users`, one transaction, with the
/// commit) into a partner of its own, the path the CSV import takes.
pub(crate) async fn bench_scim_bulk(store: &Store, args: &Args, report: &mut Report) -> Result<()> {
    const SECTION: &str = "Import";
    const PER_REQUEST: usize = 1_000;
    let n = args.scim_bulk;
    if n == 0 {
        return Ok(());
    }
    let mut rng = Rng::new(args.seed ^ 0x5C13);
    let locales = ["en-US", "en-US", "fr-FR", "de-DE", "ja-JP", "es-419", "pt-BR"];
    let people: Vec<(String, &str, &str, &str)> = (0..n)
        .map(|i| {
            let (f, l) = (*rng.pick(FIRST_NAMES), *rng.pick(LAST_NAMES));
            (format!("{f}.{l}.{i}"), f, l, locales[rng.below(locales.len())])
        })
        .collect();

    let mut tx = store.begin().await?;
    let beside =
        partners::insert(&mut tx, &Title::parse("name", "Bench Import Beside Bulk").valid()?, PartnerKind::Content)
            .await?;
    let provisioned =
        partners::insert(&mut tx, &Title::parse("name", "Bench SCIM Partners").valid()?, PartnerKind::Content).await?;
    tx.commit().await?;
    let identities = people
        .iter()
        .map(|(name, f, l, locale)| {
            Identity::parse("", &format!("{name}@bench-beside.example.com"), f, l, locale).map_err(|e| anyhow!("{e:?}"))
        })
        .collect::<Result<Vec<_>>>()?;
    let config = Config::for_public_url("https://starship.example.com");
    let started = Instant::now();
    let mut tx = store.begin().await?;
    ops::users::create_users(&mut tx, &config, &Actor::system(Source::Cli), &beside.id, &identities, Access::SignIn)
        .await?;
    tx.commit().await?;
    let import = started.elapsed();
    log!("import beside /Bulk: {n} users in {:.2} s", import.as_secs_f64());

    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let base = format!("http://{}", listener.local_addr()?);
    let state = AppState::new(store.clone(), Config::for_public_url(&base)).await?;
    let password = Password::parse("password", "bench password, long enough").valid()?;
    let email = Email::parse("email", "bench.scim@starship.example.com").valid()?;
    let operator = ops::users::create_operator(store, &email, "Bench", "Provisioner", &password).await?;
    let principal = users::principal(&mut *store.conn().await?, &operator).await?;
    let actor = Actor::user(&operator.id, operator.email.as_str(), Source::Cli);
    let token = ops::scim::create_token(&state, &principal, &actor, &provisioned.id, Some("Bench IdP"))
        .await
        .map_err(|e| anyhow!("minting a SCIM token: {e}"))?
        .secret;
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(starship_server::serve(listener, state, async move {
        let _ = stopped.await;
    }));
    let bodies: Vec<String> = people
        .chunks(PER_REQUEST)
        .enumerate()
        .map(|(r, chunk)| {
            let operations: Vec<serde_json::Value> = chunk
                .iter()
                .enumerate()
                .map(|(i, (name, f, l, locale))| {
                    let email = format!("{name}@bench-scim.example.com");
                    json!({
                        "method": "POST",
                        "bulkId": format!("u{r}.{i}"),
                        "path": "/Users",
                        "data": {
                            "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"],
                            "userName": email,
                            "externalId": format!("idp-{name}"),
                            "name": {"givenName": f, "familyName": l},
                            "locale": locale,
                            "active": true,
                            "emails": [{"value": email, "type": "work", "primary": true}],
                        },
                    })
                })
                .collect();
            json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:BulkRequest"], "Operations": operations})
                .to_string()
        })
        .collect();
    let http = reqwest::Client::new();
    log!("SCIM /Bulk: {n} users in {} requests of at most {PER_REQUEST}", bodies.len());
    let started = Instant::now();
    for body in bodies {
        let answer = http
            .post(format!("{base}/scim/v2/Bulk"))
            .bearer_auth(&token)
            .header("content-type", "application/scim+json")
            .body(body)
            .send()
            .await?;
        if !answer.status().is_success() {
            bail!("/Bulk answered {}: {}", answer.status(), answer.text().await?);
        }
        let answer: serde_json::Value = answer.json().await?;
        let results = answer["Operations"].as_array().ok_or_else(|| anyhow!("no Operations in {answer}"))?;
        if let Some(failed) = results.iter().find(|r| r["status"] != "201") {
            bail!("a /Bulk creation failed: {failed}");
        }
    }
    let bulk = started.elapsed();
    let _ = stop.send(());
    server.await??;
    log!("SCIM /Bulk: {n} users in {:.2} s", bulk.as_secs_f64());
    let created: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM users WHERE partner_id = $1")
        .bind(&provisioned.id)
        .fetch_one(store.pool())
        .await?;
    if created != n as i64 {
        bail!("/Bulk created {created} users, not {n}");
    }
    report.lines.push(Line::throughput(
        SECTION,
        format!(
            "SCIM `/Bulk` through the server: POST /Users operations, {PER_REQUEST} per request, one request at a time"
        ),
        n,
        format!(
            "**{}** ({:.2} s); the import of as many users beside it takes {:.2} s: **{:.2}×**",
            fmt_rate(n, bulk),
            bulk.as_secs_f64(),
            import.as_secs_f64(),
            bulk.as_secs_f64() / import.as_secs_f64()
        ),
    ));
    Ok(())
}
