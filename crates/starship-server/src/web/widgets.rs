//! What several pages show alike: choices, the roles an admin may grant
//! (the roles dialog of the wizard and the profile's Add Role), the
//! production labels, and application metadata as a form and back.

use starship_core::ids::{ApplicationKey, PartnerId, RoleKey};
use std::collections::HashMap;
use std::fmt;
use std::str::FromStr;

use serde_json::{Map, Value};
use starship_core::authz::{self, Principal};
use starship_core::catalogue::{FieldKind, MetadataField, RoleRef, RoleScope};
use starship_store::partners::{self, Production};

use serde::Deserialize;

use super::{Fields, FormErrors, WebError};
use crate::ops::OperationError;
use crate::state::AppState;

/// One option of a select, a radio group or a checkbox list.
pub(super) struct Choice {
    pub value: String,
    pub name: String,
    pub description: String,
    pub selected: bool,
}

/// One application's metadata, as a form.
pub(super) struct MetadataForm {
    pub application: ApplicationKey,
    pub name: String,
    pub fields: Vec<MetaField>,
    pub errors: FormErrors,
    /// Why the viewer may not see it, if they may not.
    pub denied: Option<String>,
}

pub(super) struct MetaField {
    pub key: String,
    pub label: String,
    /// text, enum, country or multi
    pub kind: &'static str,
    pub required: bool,
    pub value: String,
    pub options: Vec<Choice>,
}

/// A value several fields packed into one (`application|role`) that does
/// not read: a tampered or stale page. The form is refused as a whole (400)
/// rather than read as something else.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Malformed(pub &'static str);

impl fmt::Display for Malformed {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} is not one the page offered", self.0)
    }
}

impl From<Malformed> for WebError {
    fn from(e: Malformed) -> Self {
        WebError::Api(OperationError::BadRequest(format!("this form is not right: {e}")))
    }
}

/// Lets serde read a packed value through its `FromStr`, so a form struct
/// holding one refuses the whole form when it is malformed.
macro_rules! packed_form_value {
    ($type:ty) => {
        impl TryFrom<String> for $type {
            type Error = $crate::web::widgets::Malformed;

            fn try_from(value: String) -> Result<Self, Self::Error> {
                value.parse()
            }
        }
    };
}
pub(super) use packed_form_value;

/// A role picked in the roles dialog, its checkbox's value being
/// `application|role`. What names no role of the catalogue is refused
/// where the choice is resolved (`ops::grants::resolve`).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(try_from = "String")]
pub(super) struct RoleChoice {
    pub application: ApplicationKey,
    pub role: RoleKey,
}

impl fmt::Display for RoleChoice {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}|{}", self.application, self.role)
    }
}

impl FromStr for RoleChoice {
    type Err = Malformed;

    fn from_str(value: &str) -> Result<Self, Malformed> {
        match value.split('|').collect::<Vec<_>>().as_slice() {
            [application, role] if !application.is_empty() && !role.is_empty() => {
                Ok(Self { application: (*application).into(), role: (*role).into() })
            }
            _ => Err(Malformed("the role")),
        }
    }
}

packed_form_value!(RoleChoice);

/// One role of the roles dialog.
pub(super) struct RoleOption {
    /// The checkbox's value.
    pub value: RoleChoice,
    pub id: String,
    pub name: String,
    pub capabilities: Vec<String>,
    /// For production roles: the productions the admin may grant it on.
    pub productions: Vec<Choice>,
    pub production_scoped: bool,
    pub checked: bool,
}

impl RoleOption {
    pub fn production_field(&self) -> String {
        format!("production:{}", self.value)
    }
}

pub(super) struct RoleGroup {
    pub name: String,
    pub roles: Vec<RoleOption>,
}

/// Every role the caller may grant to users of `partner`, by application;
/// production roles with the productions they may be granted on.
pub(super) fn grantable_roles(
    state: &AppState,
    caller: &Principal,
    partner: &PartnerId,
    productions: &[Production],
) -> Vec<RoleGroup> {
    let labels = production_labels(productions);
    let mut groups = Vec::new();
    for app in &state.catalogue.applications {
        let mut roles = Vec::new();
        for role in &app.roles {
            let reference = |production| RoleRef { application: app.key.clone(), role: role.key.clone(), production };
            let on: Vec<Choice> = match role.scope {
                RoleScope::Application => {
                    if authz::grant_role(caller, partner, &reference(None)).is_err() {
                        continue;
                    }
                    vec![]
                }
                RoleScope::Production => {
                    let on: Vec<Choice> = productions
                        .iter()
                        .filter(|p| authz::grant_role(caller, partner, &reference(Some(p.id))).is_ok())
                        .map(|p| Choice {
                            value: p.id.to_string(),
                            name: labels.get(&p.id.get()).cloned().unwrap_or_default(),
                            description: String::new(),
                            selected: false,
                        })
                        .collect();
                    if on.is_empty() {
                        continue;
                    }
                    on
                }
            };
            roles.push(RoleOption {
                value: RoleChoice { application: app.key.clone(), role: role.key.clone() },
                id: format!("role-{}-{}", app.key, role.key),
                name: role.name.clone(),
                capabilities: app
                    .capabilities
                    .iter()
                    .filter(|c| role.capabilities.contains(&c.key))
                    .map(|c| c.name.clone())
                    .collect(),
                production_scoped: role.scope == RoleScope::Production,
                productions: on,
                checked: false,
            });
        }
        if !roles.is_empty() {
            groups.push(RoleGroup { name: app.name.clone(), roles });
        }
    }
    groups
}

pub(super) fn production_labels(productions: &[partners::Production]) -> HashMap<i64, String> {
    productions.iter().map(|p| (p.id.get(), format!("{} ({})", p.title, p.id))).collect()
}

/// The fields of a metadata form, filled with saved (or submitted) values.
pub(super) fn metadata_fields(schema: &[MetadataField], values: &Map<String, Value>) -> Vec<MetaField> {
    schema
        .iter()
        .map(|field| {
            let value = values.get(&field.key);
            let single = value.and_then(Value::as_str).unwrap_or_default().to_string();
            let chosen: Vec<&str> = value
                .and_then(Value::as_array)
                .map(|a| a.iter().filter_map(Value::as_str).collect())
                .unwrap_or_default();
            let (kind, options) = match field.kind {
                FieldKind::Text => ("text", vec![]),
                FieldKind::Enum => ("enum", choices(field, |v| v == single)),
                FieldKind::MultiSelect => ("multi", choices(field, |v| chosen.contains(&v))),
                FieldKind::Country => (
                    "country",
                    starship_core::countries::ISO_3166_ALPHA2
                        .iter()
                        .map(|code| Choice {
                            value: code.to_string(),
                            name: code.to_string(),
                            description: String::new(),
                            selected: single.eq_ignore_ascii_case(code),
                        })
                        .collect(),
                ),
            };
            MetaField {
                key: field.key.clone(),
                label: field.label.clone(),
                kind,
                required: field.required,
                value: single,
                options,
            }
        })
        .collect()
}

fn choices(field: &MetadataField, selected: impl Fn(&str) -> bool) -> Vec<Choice> {
    field
        .options
        .iter()
        .map(|o| Choice {
            value: o.value.clone(),
            name: o.name.clone(),
            description: o.description.clone(),
            selected: selected(&o.value),
        })
        .collect()
}

/// A metadata form as the values the operation checks: empty fields are
/// left out (so a required one is reported), multi-selects are lists.
pub(super) fn metadata_from_form(schema: &[MetadataField], form: &Fields) -> Map<String, Value> {
    let mut values = Map::new();
    for field in schema {
        match field.kind {
            FieldKind::MultiSelect => {
                let chosen = form.all(&field.key).into_iter().map(|v| Value::String(v.to_string())).collect();
                values.insert(field.key.clone(), Value::Array(chosen));
            }
            _ => {
                let value = form.get(&field.key).trim();
                if !value.is_empty() {
                    values.insert(field.key.clone(), Value::String(value.to_string()));
                }
            }
        }
    }
    values
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_role_choice_reads_back_what_the_roles_dialog_offered() {
        let choice = RoleChoice { application: "backlot".into(), role: "content-partner-operations".into() };
        assert_eq!(choice.to_string(), "backlot|content-partner-operations");
        assert_eq!(choice.to_string().parse(), Ok(choice));
    }

    #[test]
    fn a_role_choice_without_its_two_parts_is_refused() {
        for tampered in ["", "backlot", "backlot|", "|viewer", "backlot|viewer|7"] {
            assert_eq!(tampered.parse::<RoleChoice>(), Err(Malformed("the role")), "{tampered:?}");
        }
    }
}
