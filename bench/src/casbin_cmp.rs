//! The comparison: casbin-rs with an RBAC-with-domains model, loaded with
//! the same grants (users → role keys in their partner's domain) and the
//! catalogue's role → (application, capability) policies for every domain.

use std::time::{Duration, Instant};

use anyhow::Result;
use casbin::prelude::*;
use starship_core::catalogue::{Catalogue, RoleScope};
use starship_core::domain::ProductionId;

use crate::data::{bar, DataSet};
use crate::log;

pub const MODEL: &str = r#"
[request_definition]
r = sub, dom, obj, act

[policy_definition]
p = sub, dom, obj, act

[role_definition]
g = _, _, _

[policy_effect]
e = some(where (p.eft == allow))

[matchers]
m = g(r.sub, p.sub, r.dom) && r.dom == p.dom && r.obj == p.obj && r.act == p.act
"#;

/// A role as a casbin subject: `application:role`, or for a production
/// role `application:role:production` (casbin has no scopes of its own).
pub fn role_key(application: &str, role: &str, production: Option<ProductionId>) -> String {
    match production {
        Some(p) => format!("{application}:{role}:{p}"),
        None => format!("{application}:{role}"),
    }
}

/// The object a check names: the application, or `application/production`.
pub fn object(application: &str, production: Option<ProductionId>) -> String {
    match production {
        Some(p) => format!("{application}/{p}"),
        None => application.to_string(),
    }
}

pub struct Loaded {
    pub enforcer: Enforcer,
    pub policies: usize,
    pub groupings: usize,
    /// People `0..loaded_people` of the data set have their grants loaded.
    pub loaded_people: usize,
    pub load_time: Duration,
    pub rss_growth_bytes: Option<u64>,
}

pub fn rss_bytes() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmRSS:"))?;
    let kb: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kb * 1024)
}

/// Loads casbin through its in-memory adapter and batch APIs. `max_people`
/// bounds how many people's grants are loaded (all by default).
pub async fn load(catalogue: &Catalogue, data: &DataSet, max_people: Option<usize>) -> Result<Loaded> {
    let rss_before = rss_bytes();
    let started = Instant::now();
    let model = DefaultModel::from_str(MODEL).await?;
    let mut enforcer = Enforcer::new(model, MemoryAdapter::default()).await?;

    // p: every partner domain, every role → (application, capability).
    let mut per_domain = Vec::new();
    for app in &catalogue.applications {
        for role in &app.roles {
            let scopes: Vec<Option<ProductionId>> = match role.scope {
                RoleScope::Application => vec![None],
                RoleScope::Production => data.productions.iter().copied().map(Some).collect(),
            };
            for production in scopes {
                for capability in &role.capabilities {
                    per_domain.push((
                        role_key(&app.key, &role.key, production),
                        object(&app.key, production),
                        capability.clone(),
                    ));
                }
            }
        }
    }
    let mut policies = 0;
    let mut batch = Vec::new();
    for partner in &data.partners {
        for (sub, obj, act) in &per_domain {
            batch.push(vec![sub.clone(), partner.id.to_string(), obj.clone(), act.clone()]);
        }
        if batch.len() >= 10_000 {
            policies += batch.len();
            enforcer.add_policies(std::mem::take(&mut batch)).await?;
        }
    }
    policies += batch.len();
    if !batch.is_empty() {
        enforcer.add_policies(std::mem::take(&mut batch)).await?;
    }
    log!(
        "casbin: {policies} policies ({} per domain) loaded in {:.1} s",
        per_domain.len(),
        started.elapsed().as_secs_f64()
    );

    // g: every grant, user → role key in the user's partner's domain.
    let loaded_people = max_people.unwrap_or(data.people.len()).min(data.people.len());
    let progress = bar(loaded_people as u64, "casbin g");
    let mut groupings = 0;
    for (c, chunk) in data.people[..loaded_people].chunks(50_000).enumerate() {
        let mut rules = Vec::with_capacity(chunk.len() * 2);
        for person in chunk {
            let domain = &data.partners[person.partner as usize].id;
            for role in data.roles_of(person) {
                rules.push(vec![
                    person.id.to_string(),
                    role_key(&role.application, &role.role, role.production),
                    domain.to_string(),
                ]);
            }
        }
        groupings += rules.len();
        enforcer.add_grouping_policies(rules).await?;
        progress.set_position(((c + 1) * 50_000).min(loaded_people) as u64);
    }
    progress.finish_and_clear();
    let load_time = started.elapsed();
    let rss_growth_bytes = match (rss_before, rss_bytes()) {
        (Some(before), Some(after)) => Some(after.saturating_sub(before)),
        _ => None,
    };
    log!(
        "casbin: {groupings} groupings of {loaded_people} people loaded; {:.1} s in all, RSS +{} MiB",
        load_time.as_secs_f64(),
        rss_growth_bytes.map_or(0, |b| b / (1024 * 1024))
    );
    Ok(Loaded { enforcer, policies, groupings, loaded_people, load_time, rss_growth_bytes })
}
