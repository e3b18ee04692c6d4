//! Which contacts a communication reaches, by contact role (seed 002).

/// A kind of communication Netflix sends a partner's contacts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Communication {
    OperationalOutreach,
    FirmwareUpgrade,
    Maintenance,
    Logistics,
    DeploymentStatus,
}

/// Who a communication targets.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Audience {
    /// Contacts holding any of these roles.
    Roles(&'static [&'static str]),
    /// Contacts named in a site's deployment survey, unless every role they
    /// hold is one of these.
    SurveyExcept(&'static [&'static str]),
}

pub const ALL: [(Communication, &str, Audience); 5] = [
    (Communication::OperationalOutreach, "operational-outreach", Audience::Roles(&["noc"])),
    (Communication::FirmwareUpgrade, "firmware-upgrade", Audience::Roles(&["noc"])),
    (Communication::Maintenance, "maintenance", Audience::Roles(&["noc"])),
    (Communication::Logistics, "logistics", Audience::Roles(&["logistics", "customs", "shipping"])),
    (Communication::DeploymentStatus, "deployment-status", Audience::SurveyExcept(&["customs"])),
];

impl Communication {
    pub fn parse(key: &str) -> Option<Self> {
        ALL.iter().find(|(_, k, _)| *k == key).map(|(c, _, _)| *c)
    }

    pub fn key(self) -> &'static str {
        ALL.iter().find(|(c, _, _)| *c == self).map_or("", |(_, k, _)| k)
    }

    pub fn audience(self) -> Audience {
        ALL.iter().find(|(c, _, _)| *c == self).map_or(Audience::Roles(&[]), |(_, _, a)| *a)
    }
}

/// Whether a contact with these roles (named on the survey or not) is reached.
pub fn reaches(communication: Communication, contact_roles: &[String], on_survey: bool) -> bool {
    match communication.audience() {
        Audience::Roles(wanted) => contact_roles.iter().any(|r| wanted.contains(&r.as_str())),
        Audience::SurveyExcept(excluded) => {
            on_survey && (contact_roles.is_empty() || contact_roles.iter().any(|r| !excluded.contains(&r.as_str())))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn roles(r: &[&str]) -> Vec<String> {
        r.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn communications_reach_contacts_by_role_as_the_seed_says() {
        use Communication::*;
        let table: [(Communication, &[&str], bool, bool); 12] = [
            (OperationalOutreach, &["noc"], false, true),
            (OperationalOutreach, &["engineering"], true, false),
            (FirmwareUpgrade, &["noc", "shipping"], false, true),
            (Maintenance, &["logistics"], false, false),
            (Logistics, &["logistics"], false, true),
            (Logistics, &["customs"], false, true),
            (Logistics, &["shipping"], false, true),
            (Logistics, &["noc"], false, false),
            (DeploymentStatus, &["noc"], true, true),
            (DeploymentStatus, &["customs"], true, false),
            (DeploymentStatus, &["customs", "shipping"], true, true),
            (DeploymentStatus, &["engineering"], false, false),
        ];
        for (communication, contact_roles, on_survey, expected) in table {
            assert_eq!(
                reaches(communication, &roles(contact_roles), on_survey),
                expected,
                "{communication:?} {contact_roles:?} survey={on_survey}"
            );
        }
        assert_eq!(Communication::parse("firmware-upgrade"), Some(FirmwareUpgrade));
        assert_eq!(Communication::parse("newsletter"), None);
        assert_eq!(DeploymentStatus.key(), "deployment-status");
    }
}
