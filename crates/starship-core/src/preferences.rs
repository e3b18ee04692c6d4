//! Notifications and application metadata: what a user receives, and the
//! application-specific answers they give, checked against the catalogue.

use serde::Serialize;
use serde_json::{Map, Value};
use utoipa::ToSchema;

use crate::catalogue::{Catalogue, FieldKind, MetadataField, RoleRef};
use crate::ids::ApplicationKey;
use crate::{FieldError, Invalid};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum SettingSource {
    /// From the user's roles.
    Default,
    /// Chosen by the user.
    Custom,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct NotificationSetting {
    pub application: ApplicationKey,
    #[serde(rename = "type")]
    pub notification_type: String,
    pub name: String,
    pub enabled: bool,
    pub source: SettingSource,
}

/// A choice the user made: this type on or off, whatever the roles say.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CustomChoice {
    pub application: ApplicationKey,
    pub notification_type: String,
    pub enabled: bool,
}

/// Every notification type the user may receive (those of applications
/// they hold a role in), on by a custom choice where there is one, else by
/// whether any of their roles turns it on by default.
pub fn notification_settings(
    catalogue: &Catalogue,
    roles: &[RoleRef],
    custom: &[CustomChoice],
) -> Vec<NotificationSetting> {
    let mut settings = Vec::new();
    for app in &catalogue.applications {
        let held: Vec<&RoleRef> = roles.iter().filter(|r| r.application == app.key).collect();
        if held.is_empty() {
            continue;
        }
        for kind in &app.notification_types {
            let by_default = held
                .iter()
                .filter_map(|r| app.role(&r.role))
                .any(|role| role.default_notifications.iter().any(|n| n == &kind.key));
            let choice = custom.iter().find(|c| c.application == app.key && c.notification_type == kind.key);
            settings.push(NotificationSetting {
                application: app.key.clone(),
                notification_type: kind.key.clone(),
                name: kind.name.clone(),
                enabled: choice.map_or(by_default, |c| c.enabled),
                source: if choice.is_some() { SettingSource::Custom } else { SettingSource::Default },
            });
        }
    }
    settings
}

/// Checks requested choices: each must name a type the user may receive.
pub fn check_choices(catalogue: &Catalogue, roles: &[RoleRef], requested: &[CustomChoice]) -> Result<(), Invalid> {
    let receivable = notification_settings(catalogue, roles, &[]);
    let errors: Vec<FieldError> = requested
        .iter()
        .enumerate()
        .filter_map(|(i, c)| {
            let known = catalogue
                .application(&c.application)
                .is_some_and(|a| a.notification_types.iter().any(|t| t.key == c.notification_type));
            if !known {
                return Some(FieldError::new(
                    format!("[{i}]"),
                    format!("{} has no notification type '{}'", c.application, c.notification_type),
                ));
            }
            let allowed =
                receivable.iter().any(|s| s.application == c.application && s.notification_type == c.notification_type);
            (!allowed)
                .then(|| FieldError::new(format!("[{i}]"), format!("the user holds no role in {}", c.application)))
        })
        .collect();
    if errors.is_empty() {
        Ok(())
    } else {
        Err(Invalid(errors))
    }
}

pub const TEXT_MAX_CHARS: usize = 500;

/// Checks metadata against an application's schema, naming every bad
/// field; returns the normalised values (country codes upper-cased,
/// multi-select values de-duplicated in catalogue order).
pub fn check_metadata(schema: &[MetadataField], input: &Map<String, Value>) -> Result<Map<String, Value>, Invalid> {
    let mut errors = Vec::new();
    let mut clean = Map::new();
    for key in input.keys() {
        if !schema.iter().any(|f| &f.key == key) {
            errors.push(FieldError::new(key, "is not a field of this application"));
        }
    }
    for field in schema {
        let value = input.get(&field.key).filter(|v| !v.is_null());
        let Some(value) = value else {
            if field.required {
                errors.push(FieldError::new(&field.key, "is required"));
            }
            continue;
        };
        match check_field(field, value) {
            Ok(v) => {
                clean.insert(field.key.clone(), v);
            }
            Err(reason) => errors.push(FieldError::new(&field.key, reason)),
        }
    }
    if errors.is_empty() {
        Ok(clean)
    } else {
        Err(Invalid(errors))
    }
}

fn check_field(field: &MetadataField, value: &Value) -> Result<Value, String> {
    let option_values = || field.options.iter().map(|o| o.value.as_str()).collect::<Vec<_>>().join(", ");
    match field.kind {
        FieldKind::Text => {
            let text = value.as_str().ok_or("must be text")?.trim();
            if field.required && text.is_empty() {
                return Err("is required".into());
            }
            if text.chars().count() > TEXT_MAX_CHARS {
                return Err(format!("must be at most {TEXT_MAX_CHARS} characters"));
            }
            Ok(Value::String(text.to_string()))
        }
        FieldKind::Enum => {
            let chosen = value.as_str().ok_or("must be one value")?;
            field
                .options
                .iter()
                .find(|o| o.value == chosen)
                .map(|o| Value::String(o.value.clone()))
                .ok_or_else(|| format!("'{chosen}' is not one of {}", option_values()))
        }
        FieldKind::Country => {
            let code = value.as_str().ok_or("must be a country code")?.trim().to_ascii_uppercase();
            if crate::countries::ISO_3166_ALPHA2.binary_search(&code.as_str()).is_ok() {
                Ok(Value::String(code))
            } else {
                Err(format!("'{code}' is not an ISO 3166-1 alpha-2 country code (for example US, FR, JP)"))
            }
        }
        FieldKind::MultiSelect => {
            let items = value.as_array().ok_or("must be a list")?;
            let mut unknown = Vec::new();
            for item in items {
                match item.as_str() {
                    Some(v) if field.options.iter().any(|o| o.value == v) => {}
                    Some(v) => unknown.push(v.to_string()),
                    None => return Err("must be a list of values".into()),
                }
            }
            if !unknown.is_empty() {
                return Err(format!("unknown: {} (choose from {})", unknown.join(", "), option_values()));
            }
            if field.required && items.is_empty() {
                return Err("choose at least one".into());
            }
            Ok(Value::Array(
                field
                    .options
                    .iter()
                    .filter(|o| items.iter().any(|i| i.as_str() == Some(&o.value)))
                    .map(|o| Value::String(o.value.clone()))
                    .collect(),
            ))
        }
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::catalogue::{Application, FieldOption, NotificationType, Role, RoleScope};

    fn backlot_and_academy() -> Catalogue {
        let types = ["source-request", "qc-report"];
        let role = |key: &str, defaults: &[&str]| Role {
            key: key.into(),
            name: key.into(),
            scope: RoleScope::Application,
            capabilities: vec![],
            default_notifications: defaults.iter().map(|d| d.to_string()).collect(),
        };
        let option = |v: &str| FieldOption { value: v.into(), name: v.into(), description: String::new() };
        Catalogue {
            applications: vec![
                Application {
                    key: "backlot".into(),
                    name: "Backlot".into(),
                    description: String::new(),
                    url: String::new(),
                    roles: vec![
                        role("master-content-partner-operations", &[]),
                        role("content-partner-operations", &types),
                    ],
                    capabilities: vec![],
                    notification_types: types
                        .iter()
                        .map(|t| NotificationType {
                            key: t.to_string(),
                            name: t.to_string(),
                            description: String::new(),
                        })
                        .collect(),
                    metadata_schema: vec![],
                },
                Application {
                    key: "production-academy".into(),
                    name: "Production Academy".into(),
                    description: String::new(),
                    url: String::new(),
                    roles: vec![],
                    capabilities: vec![],
                    notification_types: vec![],
                    metadata_schema: vec![
                        MetadataField {
                            key: "crew_department".into(),
                            label: "Crew".into(),
                            kind: FieldKind::Enum,
                            required: true,
                            options: vec![option("sound"), option("camera")],
                        },
                        MetadataField {
                            key: "country".into(),
                            label: "Country".into(),
                            kind: FieldKind::Country,
                            required: true,
                            options: vec![],
                        },
                        MetadataField {
                            key: "courses".into(),
                            label: "Courses".into(),
                            kind: FieldKind::MultiSelect,
                            required: false,
                            options: vec![option("IMF101"), option("IMF102"), option("ECH_DL")],
                        },
                        MetadataField {
                            key: "note".into(),
                            label: "Note".into(),
                            kind: FieldKind::Text,
                            required: false,
                            options: vec![],
                        },
                    ],
                },
            ],
            contact_roles: vec![],
        }
    }

    fn role(key: &str) -> RoleRef {
        RoleRef { application: "backlot".into(), role: key.into(), production: None }
    }

    fn enabled(settings: &[NotificationSetting]) -> Vec<&str> {
        settings.iter().filter(|s| s.enabled).map(|s| s.notification_type.as_str()).collect()
    }

    #[test]
    fn master_only_gets_no_default_backlot_notifications_and_content_partner_operations_turns_them_on() {
        let catalogue = backlot_and_academy();
        let master_only = notification_settings(&catalogue, &[role("master-content-partner-operations")], &[]);
        assert_eq!(master_only.len(), 2, "both types are receivable");
        assert!(enabled(&master_only).is_empty());
        assert!(master_only.iter().all(|s| s.source == SettingSource::Default));

        let both = notification_settings(
            &catalogue,
            &[role("master-content-partner-operations"), role("content-partner-operations")],
            &[],
        );
        assert_eq!(enabled(&both), ["source-request", "qc-report"]);

        // Removing Content Partner Operations turns the defaults off again;
        // the user's own choice stays.
        let custom =
            [CustomChoice { application: "backlot".into(), notification_type: "qc-report".into(), enabled: true }];
        let after = notification_settings(&catalogue, &[role("master-content-partner-operations")], &custom);
        assert_eq!(enabled(&after), ["qc-report"]);
        assert_eq!(after[1].source, SettingSource::Custom);
        let opted_out =
            [CustomChoice { application: "backlot".into(), notification_type: "qc-report".into(), enabled: false }];
        let with_defaults = notification_settings(&catalogue, &[role("content-partner-operations")], &opted_out);
        assert_eq!(enabled(&with_defaults), ["source-request"]);
        assert!(notification_settings(&catalogue, &[], &custom).is_empty(), "no role, nothing receivable");
    }

    #[test]
    fn choices_must_name_a_receivable_type() {
        let catalogue = backlot_and_academy();
        let choice =
            |app: &str, t: &str| CustomChoice { application: app.into(), notification_type: t.into(), enabled: true };
        assert!(check_choices(
            &catalogue,
            &[role("master-content-partner-operations")],
            &[choice("backlot", "qc-report")]
        )
        .is_ok());
        let Invalid(errors) =
            check_choices(&catalogue, &[], &[choice("backlot", "qc-report"), choice("backlot", "nope")]).unwrap_err();
        assert_eq!(errors.len(), 2);
        assert!(errors[0].reason.contains("no role"));
        assert!(errors[1].reason.contains("no notification type"));
    }

    #[test]
    fn metadata_is_checked_per_field_kind_naming_every_bad_field() {
        let schema = &backlot_and_academy().applications[1].metadata_schema;
        let ok = check_metadata(schema, json!({"crew_department": "sound", "country": "fr", "courses": ["ECH_DL", "IMF101", "IMF101"], "note": "  hi "}).as_object().unwrap()).unwrap();
        assert_eq!(
            Value::Object(ok),
            json!({"crew_department": "sound", "country": "FR", "courses": ["IMF101", "ECH_DL"], "note": "hi"})
        );

        let Invalid(errors) = check_metadata(
            schema,
            json!({"crew_department": "catering", "country": "XX", "courses": ["IMF999"], "note": "x".repeat(501), "shoe_size": 9}).as_object().unwrap(),
        )
        .unwrap_err();
        let fields: Vec<&str> = errors.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(fields, ["shoe_size", "crew_department", "country", "courses", "note"]);

        let Invalid(errors) = check_metadata(schema, json!({"courses": "IMF101"}).as_object().unwrap()).unwrap_err();
        let fields: Vec<&str> = errors.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(fields, ["crew_department", "country", "courses"], "required fields and a list that is not a list");
    }
}
