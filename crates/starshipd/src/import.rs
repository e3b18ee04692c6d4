//! `starshipd users import`: a CSV of people added to one partner, all or
//! nothing, with a progress bar.

use starship_core::catalogue::RequestedRole;
use starship_core::ids::PartnerId;
use std::path::Path;

use anyhow::{anyhow, bail, Context};
use indicatif::{ProgressBar, ProgressStyle};
use starship_server::ops;
use starship_server::ops::users::{Access, BulkRow};
use starship_server::Config;
use starship_store::history::{Actor, Source};
use starship_store::{partners, Store};

/// Rows written per statement batch; also how often the bar moves.
const CHUNK: usize = 5_000;

#[derive(serde::Deserialize)]
struct CsvRow {
    email: String,
    locale: String,
    first_name: String,
    last_name: String,
    /// Optional: roles to grant, `application/role` or
    /// `application/role@production`, separated by `;`.
    #[serde(default)]
    roles: Option<String>,
}

pub async fn run(store: &Store, partner_id: &PartnerId, file: &Path) -> anyhow::Result<()> {
    let mut conn = store.conn().await?;
    let partner =
        partners::get(&mut conn, partner_id).await?.ok_or_else(|| anyhow!("no partner with id {partner_id}"))?;
    let catalogue = starship_store::catalogue::load(store.pool()).await?;

    let mut reader = csv::ReaderBuilder::new()
        .trim(csv::Trim::All)
        .from_path(file)
        .with_context(|| format!("opening {}", file.display()))?;
    let mut rows = Vec::new();
    let mut role_specs = Vec::new();
    for (i, record) in reader.deserialize::<CsvRow>().enumerate() {
        let record = record.with_context(|| format!("reading row {}", i + 1))?;
        role_specs.push(record.roles.unwrap_or_default());
        rows.push(BulkRow {
            email: record.email,
            locale: record.locale,
            first_name: record.first_name,
            last_name: record.last_name,
        });
    }
    if rows.is_empty() {
        bail!("{} has no rows", file.display());
    }

    let ops::users::CheckedRows { valid: people, errors, .. } = ops::users::check_bulk(&mut conn, &rows, None).await?;
    let mut role_errors = Vec::new();
    let mut roles_per_row = Vec::with_capacity(rows.len());
    for (i, spec) in role_specs.iter().enumerate() {
        let requested: Vec<RequestedRole> = match parse_roles(spec) {
            Ok(r) => r,
            Err(e) => {
                role_errors.push(format!("row {}: roles: {e}", i + 1));
                roles_per_row.push(vec![]);
                continue;
            }
        };
        match ops::grants::resolve_roles(&mut conn, &catalogue, &requested).await {
            Ok(roles) => roles_per_row.push(roles),
            Err(e) => {
                role_errors.push(format!("row {}: roles: {e}", i + 1));
                roles_per_row.push(vec![]);
            }
        }
    }
    drop(conn);
    if !errors.is_empty() || !role_errors.is_empty() {
        for e in &errors {
            eprintln!("row {}: {}: {}", e.row.unwrap_or(0), e.field, e.reason);
        }
        for e in &role_errors {
            eprintln!("{e}");
        }
        bail!("{} bad rows; nothing was imported", errors.len() + role_errors.len());
    }

    let bar = ProgressBar::new(people.len() as u64);
    bar.set_style(
        ProgressStyle::with_template("{bar:40} {pos}/{len} users ({per_sec}, {eta} left)")
            .unwrap_or_else(|_| ProgressStyle::default_bar()),
    );
    let config = Config::for_public_url(
        &std::env::var("STARSHIP_PUBLIC_URL").unwrap_or_else(|_| "http://127.0.0.1:8080".into()),
    );
    let actor = Actor::system(Source::Cli);
    let console = starship_core::authz::Principal::console();
    let started = std::time::Instant::now();
    let mut tx = store.begin().await?;
    let mut granted = 0usize;
    for (chunk_index, chunk) in people.chunks(CHUNK).enumerate() {
        let created = ops::users::create_users(&mut tx, &config, &actor, &partner.id, chunk, Access::SignIn).await?;
        let first = chunk_index * CHUNK;
        granted +=
            ops::grants::grant_each(&mut tx, &console, &actor, &created, &roles_per_row[first..first + created.len()])
                .await?;
        bar.inc(chunk.len() as u64);
    }
    tx.commit().await?;
    bar.finish();
    println!(
        "imported {} users into {} with {granted} role grants in {:.1?}; each was sent an activation link",
        people.len(),
        partner.name,
        started.elapsed()
    );
    Ok(())
}

fn parse_roles(spec: &str) -> Result<Vec<RequestedRole>, String> {
    spec.split(';')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(|item| {
            let (role_part, production) = match item.split_once('@') {
                Some((r, p)) => {
                    (r, Some(p.trim().parse::<i64>().map_err(|_| format!("'{p}' is not a production id"))?))
                }
                None => (item, None),
            };
            let (application, role) =
                role_part.split_once('/').ok_or_else(|| format!("'{item}' is not application/role"))?;
            Ok(RequestedRole { application: application.trim().to_string(), role: role.trim().to_string(), production })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::parse_roles;
    use starship_core::catalogue::RequestedRole;

    #[test]
    fn role_columns_name_application_role_and_production() {
        assert_eq!(
            parse_roles("backlot/content-partner-operations; production-academy/academy-user@70030433").unwrap(),
            vec![
                RequestedRole {
                    application: "backlot".into(),
                    role: "content-partner-operations".into(),
                    production: None
                },
                RequestedRole {
                    application: "production-academy".into(),
                    role: "academy-user".into(),
                    production: Some(70030433)
                },
            ]
        );
        assert!(parse_roles("").unwrap().is_empty());
        assert!(parse_roles("backlot").is_err());
        assert!(parse_roles("production-academy/academy-user@x").is_err());
    }
}
