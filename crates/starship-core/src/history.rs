//! The kinds of History entry. One enum, so a new kind cannot be written
//! without its stored name, its label in every language Starship speaks and
//! its place in the filters: each `match` below is exhaustive.

use std::fmt;

/// What happened, as stored in History's `action` column.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Kind {
    UserCreated,
    ContactDetailsSet,
    OperatorCreated,
    UserUpdated,
    RoleGranted,
    RoleRevoked,
    AdminPrivilegeAdded,
    AdminPrivilegeRemoved,
    NotificationsChanged,
    MetadataSaved,
    PortalInvited,
    AccountActivated,
    PortalAccessRevoked,
    PortalLevelChanged,
    ContactUpdated,
    ContactDeleted,
    EmailChangeRequested,
    EmailChanged,
    ApplianceDrained,
    ApplianceUndrained,
    ApplianceBgpChanged,
    TicketCommented,
    ApplianceRegistered,
    ApplianceRetired,
    TicketOpened,
    TicketStatusChanged,
    TokenCreated,
    TokenRevoked,
    SignedIn,
    SignedOut,
    SignInFailed,
    MfaEnrolled,
    MfaDisabled,
    MfaReset,
    PasswordChanged,
    UserDeactivated,
    UserReactivated,
    RoleRevokedByReview,
    RoleExpiryChanged,
    RoleExpired,
    ClientIssued,
    ClientRevoked,
    ClientSecretRotated,
    SigningKeyRotated,
    TokenReuseRefused,
    ScimTokenCreated,
    ScimTokenRevoked,
    ScimGroupChanged,
    ScimGroupJoined,
    ScimGroupLeft,
    ScimGroupRoleMapped,
    ScimGroupRoleUnmapped,
    OutboxResent,
}

/// Which languages History labels are written in; anything else reads English.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Language {
    English,
    French,
    Spanish,
}

impl Language {
    /// The language of a BCP 47 locale tag (`fr-CA` reads French).
    pub fn of_locale(locale: &str) -> Self {
        match locale.split('-').next().unwrap_or_default() {
            "fr" => Self::French,
            "es" => Self::Spanish,
            _ => Self::English,
        }
    }

    pub const ALL: [Language; 3] = [Self::English, Self::French, Self::Spanish];
}

/// How entries are grouped in the History filter.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Group {
    Account,
    Access,
    Preferences,
    Portal,
    Security,
    SignIn,
}

impl Kind {
    pub const ALL: [Kind; 53] = [
        Self::UserCreated,
        Self::ContactDetailsSet,
        Self::OperatorCreated,
        Self::UserUpdated,
        Self::RoleGranted,
        Self::RoleRevoked,
        Self::AdminPrivilegeAdded,
        Self::AdminPrivilegeRemoved,
        Self::NotificationsChanged,
        Self::MetadataSaved,
        Self::PortalInvited,
        Self::AccountActivated,
        Self::PortalAccessRevoked,
        Self::PortalLevelChanged,
        Self::ContactUpdated,
        Self::ContactDeleted,
        Self::EmailChangeRequested,
        Self::EmailChanged,
        Self::ApplianceDrained,
        Self::ApplianceUndrained,
        Self::ApplianceBgpChanged,
        Self::TicketCommented,
        Self::ApplianceRegistered,
        Self::ApplianceRetired,
        Self::TicketOpened,
        Self::TicketStatusChanged,
        Self::TokenCreated,
        Self::TokenRevoked,
        Self::SignedIn,
        Self::SignedOut,
        Self::SignInFailed,
        Self::MfaEnrolled,
        Self::MfaDisabled,
        Self::MfaReset,
        Self::PasswordChanged,
        Self::UserDeactivated,
        Self::UserReactivated,
        Self::RoleRevokedByReview,
        Self::RoleExpiryChanged,
        Self::RoleExpired,
        Self::ClientIssued,
        Self::ClientRevoked,
        Self::ClientSecretRotated,
        Self::SigningKeyRotated,
        Self::TokenReuseRefused,
        Self::ScimTokenCreated,
        Self::ScimTokenRevoked,
        Self::ScimGroupChanged,
        Self::ScimGroupJoined,
        Self::ScimGroupLeft,
        Self::ScimGroupRoleMapped,
        Self::ScimGroupRoleUnmapped,
        Self::OutboxResent,
    ];

    /// The stored name; part of the export format, so never renamed.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::UserCreated => "user.created",
            Self::ContactDetailsSet => "contact.details-set",
            Self::OperatorCreated => "operator.created",
            Self::UserUpdated => "user.updated",
            Self::RoleGranted => "role.granted",
            Self::RoleRevoked => "role.revoked",
            Self::AdminPrivilegeAdded => "admin-privilege.added",
            Self::AdminPrivilegeRemoved => "admin-privilege.removed",
            Self::NotificationsChanged => "notifications.changed",
            Self::MetadataSaved => "metadata.saved",
            Self::PortalInvited => "portal.invited",
            Self::AccountActivated => "account.activated",
            Self::PortalAccessRevoked => "portal.access-revoked",
            Self::PortalLevelChanged => "portal.level-changed",
            Self::ContactUpdated => "contact.updated",
            Self::ContactDeleted => "contact.deleted",
            Self::EmailChangeRequested => "email.change-requested",
            Self::EmailChanged => "email.changed",
            Self::ApplianceDrained => "appliance.drained",
            Self::ApplianceUndrained => "appliance.undrained",
            Self::ApplianceBgpChanged => "appliance.bgp-changed",
            Self::TicketCommented => "ticket.commented",
            Self::ApplianceRegistered => "appliance.registered",
            Self::ApplianceRetired => "appliance.retired",
            Self::TicketOpened => "ticket.opened",
            Self::TicketStatusChanged => "ticket.status-changed",
            Self::TokenCreated => "token.created",
            Self::TokenRevoked => "token.revoked",
            Self::SignedIn => "signed-in",
            Self::SignedOut => "signed-out",
            Self::SignInFailed => "sign-in.failed",
            Self::MfaEnrolled => "mfa.enrolled",
            Self::MfaDisabled => "mfa.disabled",
            Self::MfaReset => "mfa.reset",
            Self::PasswordChanged => "password.changed",
            Self::UserDeactivated => "user.deactivated",
            Self::UserReactivated => "user.reactivated",
            Self::RoleRevokedByReview => "role.revoked-by-review",
            Self::RoleExpiryChanged => "role.expiry-changed",
            Self::RoleExpired => "role.expired",
            Self::ClientIssued => "oidc.client-issued",
            Self::ClientRevoked => "oidc.client-revoked",
            Self::ClientSecretRotated => "oidc.client-secret-rotated",
            Self::SigningKeyRotated => "oidc.signing-key-rotated",
            Self::TokenReuseRefused => "oidc.token-reuse-refused",
            Self::ScimTokenCreated => "scim-token.created",
            Self::ScimTokenRevoked => "scim-token.revoked",
            Self::ScimGroupChanged => "scim-group.changed",
            Self::ScimGroupJoined => "scim-group.joined",
            Self::ScimGroupLeft => "scim-group.left",
            Self::ScimGroupRoleMapped => "scim-group.role-mapped",
            Self::ScimGroupRoleUnmapped => "scim-group.role-unmapped",
            Self::OutboxResent => "outbox.resent",
        }
    }

    pub fn parse(stored: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|kind| kind.as_str() == stored)
    }

    pub fn group(self) -> Group {
        match self {
            Self::UserCreated
            | Self::ContactDetailsSet
            | Self::OperatorCreated
            | Self::UserUpdated
            | Self::AccountActivated
            | Self::EmailChangeRequested
            | Self::EmailChanged
            | Self::UserDeactivated
            | Self::UserReactivated => Group::Account,
            Self::RoleGranted
            | Self::RoleRevoked
            | Self::RoleRevokedByReview
            | Self::RoleExpiryChanged
            | Self::RoleExpired
            | Self::AdminPrivilegeAdded
            | Self::AdminPrivilegeRemoved
            | Self::ScimGroupJoined
            | Self::ScimGroupLeft
            | Self::ScimGroupRoleMapped
            | Self::ScimGroupRoleUnmapped => Group::Access,
            Self::NotificationsChanged | Self::MetadataSaved => Group::Preferences,
            Self::PortalInvited
            | Self::PortalAccessRevoked
            | Self::PortalLevelChanged
            | Self::ContactUpdated
            | Self::ContactDeleted
            | Self::ApplianceDrained
            | Self::ApplianceUndrained
            | Self::ApplianceBgpChanged
            | Self::TicketCommented
            | Self::ApplianceRegistered
            | Self::ApplianceRetired
            | Self::TicketOpened
            | Self::TicketStatusChanged => Group::Portal,
            Self::TokenCreated
            | Self::TokenRevoked
            | Self::ScimTokenCreated
            | Self::ScimTokenRevoked
            | Self::ScimGroupChanged
            | Self::OutboxResent
            | Self::MfaEnrolled
            | Self::MfaDisabled
            | Self::MfaReset
            | Self::PasswordChanged
            | Self::ClientIssued
            | Self::ClientRevoked
            | Self::ClientSecretRotated
            | Self::SigningKeyRotated
            | Self::TokenReuseRefused => Group::Security,
            Self::SignedIn | Self::SignedOut | Self::SignInFailed => Group::SignIn,
        }
    }

    /// Sign-ins outnumber every other entry; History hides them unless asked.
    pub fn hidden_by_default(self) -> bool {
        self.group() == Group::SignIn
    }

    /// What people read for this kind, in their language.
    pub fn label(self, language: Language) -> &'static str {
        use Language::{English as En, French as Fr, Spanish as Es};
        match (self, language) {
            (Self::UserCreated, En) => "Account created",
            (Self::UserCreated, Fr) => "Compte créé",
            (Self::UserCreated, Es) => "Cuenta creada",
            (Self::ContactDetailsSet, En) => "Contact details set",
            (Self::ContactDetailsSet, Fr) => "Coordonnées de contact définies",
            (Self::ContactDetailsSet, Es) => "Datos de contacto establecidos",
            (Self::OperatorCreated, En) => "Operator created",
            (Self::OperatorCreated, Fr) => "Opérateur créé",
            (Self::OperatorCreated, Es) => "Operador creado",
            (Self::UserUpdated, En) => "Profile changed",
            (Self::UserUpdated, Fr) => "Profil modifié",
            (Self::UserUpdated, Es) => "Perfil modificado",
            (Self::RoleGranted, En) => "Role granted",
            (Self::RoleGranted, Fr) => "Rôle attribué",
            (Self::RoleGranted, Es) => "Rol concedido",
            (Self::RoleRevoked, En) => "Role revoked",
            (Self::RoleRevoked, Fr) => "Rôle retiré",
            (Self::RoleRevoked, Es) => "Rol revocado",
            (Self::AdminPrivilegeAdded, En) => "Admin privileges added",
            (Self::AdminPrivilegeAdded, Fr) => "Privilèges d’administration ajoutés",
            (Self::AdminPrivilegeAdded, Es) => "Privilegios de administración añadidos",
            (Self::AdminPrivilegeRemoved, En) => "Admin privileges removed",
            (Self::AdminPrivilegeRemoved, Fr) => "Privilèges d’administration retirés",
            (Self::AdminPrivilegeRemoved, Es) => "Privilegios de administración retirados",
            (Self::NotificationsChanged, En) => "Notifications changed",
            (Self::NotificationsChanged, Fr) => "Notifications modifiées",
            (Self::NotificationsChanged, Es) => "Notificaciones modificadas",
            (Self::MetadataSaved, En) => "Application metadata saved",
            (Self::MetadataSaved, Fr) => "Métadonnées d’application enregistrées",
            (Self::MetadataSaved, Es) => "Metadatos de la aplicación guardados",
            (Self::PortalInvited, En) => "Invited to the Partner Portal",
            (Self::PortalInvited, Fr) => "Invité au Partner Portal",
            (Self::PortalInvited, Es) => "Invitado al Partner Portal",
            (Self::AccountActivated, En) => "Account activated",
            (Self::AccountActivated, Fr) => "Compte activé",
            (Self::AccountActivated, Es) => "Cuenta activada",
            (Self::PortalAccessRevoked, En) => "Partner Portal access revoked",
            (Self::PortalAccessRevoked, Fr) => "Accès au Partner Portal retiré",
            (Self::PortalAccessRevoked, Es) => "Acceso al Partner Portal revocado",
            (Self::PortalLevelChanged, En) => "Partner Portal level changed",
            (Self::PortalLevelChanged, Fr) => "Niveau Partner Portal modifié",
            (Self::PortalLevelChanged, Es) => "Nivel de Partner Portal modificado",
            (Self::ContactUpdated, En) => "Contact changed",
            (Self::ContactUpdated, Fr) => "Contact modifié",
            (Self::ContactUpdated, Es) => "Contacto modificado",
            (Self::ContactDeleted, En) => "Contact deleted",
            (Self::ContactDeleted, Fr) => "Contact supprimé",
            (Self::ContactDeleted, Es) => "Contacto eliminado",
            (Self::EmailChangeRequested, En) => "Email change requested",
            (Self::EmailChangeRequested, Fr) => "Changement d’adresse e-mail demandé",
            (Self::EmailChangeRequested, Es) => "Cambio de correo solicitado",
            (Self::EmailChanged, En) => "Email changed",
            (Self::EmailChanged, Fr) => "Adresse e-mail modifiée",
            (Self::EmailChanged, Es) => "Correo modificado",
            (Self::ApplianceDrained, En) => "Appliance drained",
            (Self::ApplianceDrained, Fr) => "Appliance drainée",
            (Self::ApplianceDrained, Es) => "Appliance drenado",
            (Self::ApplianceUndrained, En) => "Appliance back in service",
            (Self::ApplianceUndrained, Fr) => "Appliance remise en service",
            (Self::ApplianceUndrained, Es) => "Appliance de nuevo en servicio",
            (Self::ApplianceBgpChanged, En) => "Appliance BGP settings changed",
            (Self::ApplianceBgpChanged, Fr) => "Paramètres BGP de l’appliance modifiés",
            (Self::ApplianceBgpChanged, Es) => "Configuración BGP del appliance modificada",
            (Self::TicketCommented, En) => "Ticket commented",
            (Self::TicketCommented, Fr) => "Ticket commenté",
            (Self::TicketCommented, Es) => "Ticket comentado",
            (Self::ApplianceRegistered, En) => "Appliance registered",
            (Self::ApplianceRegistered, Fr) => "Appliance enregistrée",
            (Self::ApplianceRegistered, Es) => "Appliance registrado",
            (Self::ApplianceRetired, En) => "Appliance retired",
            (Self::ApplianceRetired, Fr) => "Appliance retirée",
            (Self::ApplianceRetired, Es) => "Appliance retirado",
            (Self::TicketOpened, En) => "Ticket opened",
            (Self::TicketOpened, Fr) => "Ticket ouvert",
            (Self::TicketOpened, Es) => "Ticket abierto",
            (Self::TicketStatusChanged, En) => "Ticket status changed",
            (Self::TicketStatusChanged, Fr) => "Statut du ticket modifié",
            (Self::TicketStatusChanged, Es) => "Estado del ticket modificado",
            (Self::TokenCreated, En) => "API token created",
            (Self::TokenCreated, Fr) => "Jeton d’API créé",
            (Self::TokenCreated, Es) => "Token de API creado",
            (Self::TokenRevoked, En) => "API token revoked",
            (Self::TokenRevoked, Fr) => "Jeton d’API révoqué",
            (Self::TokenRevoked, Es) => "Token de API revocado",
            (Self::SignedIn, En) => "Signed in",
            (Self::SignedIn, Fr) => "Connexion",
            (Self::SignedIn, Es) => "Inicio de sesión",
            (Self::SignedOut, En) => "Signed out",
            (Self::SignedOut, Fr) => "Déconnexion",
            (Self::SignedOut, Es) => "Cierre de sesión",
            (Self::SignInFailed, En) => "Sign-in failed",
            (Self::SignInFailed, Fr) => "Échec de connexion",
            (Self::SignInFailed, Es) => "Inicio de sesión fallido",
            (Self::MfaEnrolled, En) => "Two-step sign-in turned on",
            (Self::MfaEnrolled, Fr) => "Connexion en deux étapes activée",
            (Self::MfaEnrolled, Es) => "Inicio de sesión en dos pasos activado",
            (Self::MfaDisabled, En) => "Two-step sign-in turned off",
            (Self::MfaDisabled, Fr) => "Connexion en deux étapes désactivée",
            (Self::MfaDisabled, Es) => "Inicio de sesión en dos pasos desactivado",
            (Self::MfaReset, En) => "Two-step sign-in reset by an admin",
            (Self::MfaReset, Fr) => "Connexion en deux étapes réinitialisée par un administrateur",
            (Self::MfaReset, Es) => "Inicio de sesión en dos pasos restablecido por un administrador",
            (Self::PasswordChanged, En) => "Password changed",
            (Self::PasswordChanged, Fr) => "Mot de passe modifié",
            (Self::PasswordChanged, Es) => "Contraseña modificada",
            (Self::UserDeactivated, En) => "Deactivated",
            (Self::UserDeactivated, Fr) => "Désactivé",
            (Self::UserDeactivated, Es) => "Desactivado",
            (Self::UserReactivated, En) => "Reactivated",
            (Self::UserReactivated, Fr) => "Réactivé",
            (Self::UserReactivated, Es) => "Reactivado",
            (Self::RoleRevokedByReview, En) => "Role revoked by an access review",
            (Self::RoleRevokedByReview, Fr) => "Rôle retiré par une revue des accès",
            (Self::RoleRevokedByReview, Es) => "Rol revocado por una revisión de accesos",
            (Self::RoleExpiryChanged, En) => "Role end date changed",
            (Self::RoleExpiryChanged, Fr) => "Date de fin du rôle modifiée",
            (Self::RoleExpiryChanged, Es) => "Fecha de fin del rol modificada",
            (Self::RoleExpired, En) => "Role ended",
            (Self::RoleExpired, Fr) => "Rôle arrivé à échéance",
            (Self::RoleExpired, Es) => "Rol vencido",
            (Self::ClientIssued, En) => "Application client registered",
            (Self::ClientIssued, Fr) => "Client d’application enregistré",
            (Self::ClientIssued, Es) => "Cliente de aplicación registrado",
            (Self::ClientRevoked, En) => "Application client revoked",
            (Self::ClientRevoked, Fr) => "Client d’application révoqué",
            (Self::ClientRevoked, Es) => "Cliente de aplicación revocado",
            (Self::ClientSecretRotated, En) => "Application client secret rotated",
            (Self::ClientSecretRotated, Fr) => "Secret du client d’application renouvelé",
            (Self::ClientSecretRotated, Es) => "Secreto del cliente de aplicación renovado",
            (Self::SigningKeyRotated, En) => "Token-signing key rotated",
            (Self::SigningKeyRotated, Fr) => "Clé de signature des jetons renouvelée",
            (Self::SigningKeyRotated, Es) => "Clave de firma de tokens renovada",
            (Self::TokenReuseRefused, En) => "Reused application token refused; its sign-in ended",
            (Self::TokenReuseRefused, Fr) => "Jeton d’application réutilisé refusé ; sa connexion est close",
            (Self::TokenReuseRefused, Es) => "Token de aplicación reutilizado rechazado; su sesión terminó",
            (Self::ScimTokenCreated, En) => "SCIM token created",
            (Self::ScimTokenCreated, Fr) => "Jeton SCIM créé",
            (Self::ScimTokenCreated, Es) => "Token SCIM creado",
            (Self::ScimTokenRevoked, En) => "SCIM token revoked",
            (Self::ScimTokenRevoked, Fr) => "Jeton SCIM révoqué",
            (Self::ScimTokenRevoked, Es) => "Token SCIM revocado",
            (Self::ScimGroupChanged, En) => "Directory group changed",
            (Self::ScimGroupChanged, Fr) => "Groupe d'annuaire modifié",
            (Self::ScimGroupChanged, Es) => "Grupo del directorio modificado",
            (Self::ScimGroupJoined, En) => "Joined a directory group",
            (Self::ScimGroupJoined, Fr) => "Ajouté à un groupe d'annuaire",
            (Self::ScimGroupJoined, Es) => "Añadido a un grupo del directorio",
            (Self::ScimGroupLeft, En) => "Left a directory group",
            (Self::ScimGroupLeft, Fr) => "Retiré d'un groupe d'annuaire",
            (Self::ScimGroupLeft, Es) => "Retirado de un grupo del directorio",
            (Self::ScimGroupRoleMapped, En) => "Directory group mapped to a role",
            (Self::ScimGroupRoleMapped, Fr) => "Groupe d'annuaire associé à un rôle",
            (Self::ScimGroupRoleMapped, Es) => "Grupo del directorio asociado a un rol",
            (Self::ScimGroupRoleUnmapped, En) => "Directory group's role mapping removed",
            (Self::ScimGroupRoleUnmapped, Fr) => "Association de rôle du groupe d'annuaire retirée",
            (Self::ScimGroupRoleUnmapped, Es) => "Asociación de rol del grupo del directorio retirada",
            (Self::OutboxResent, En) => "Failed email queued again",
            (Self::OutboxResent, Fr) => "E-mail en échec remis en file d’attente",
            (Self::OutboxResent, Es) => "Correo fallido puesto de nuevo en cola",
        }
    }
}

impl Group {
    pub const ALL: [Group; 6] =
        [Self::Account, Self::Access, Self::Preferences, Self::Portal, Self::Security, Self::SignIn];

    pub fn key(self) -> &'static str {
        match self {
            Self::Account => "account",
            Self::Access => "access",
            Self::Preferences => "preferences",
            Self::Portal => "portal",
            Self::Security => "security",
            Self::SignIn => "sign-in",
        }
    }

    pub fn parse(key: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|group| group.key() == key)
    }

    pub fn kinds(self) -> impl Iterator<Item = Kind> {
        Kind::ALL.into_iter().filter(move |kind| kind.group() == self)
    }

    pub fn label(self, language: Language) -> &'static str {
        use Language::{English as En, French as Fr, Spanish as Es};
        match (self, language) {
            (Self::Account, En) => "Account",
            (Self::Account, Fr) => "Compte",
            (Self::Account, Es) => "Cuenta",
            (Self::Access, En) => "Roles and admin privileges",
            (Self::Access, Fr) => "Rôles et privilèges d’administration",
            (Self::Access, Es) => "Roles y privilegios de administración",
            (Self::Preferences, En) => "Notifications and metadata",
            (Self::Preferences, Fr) => "Notifications et métadonnées",
            (Self::Preferences, Es) => "Notificaciones y metadatos",
            (Self::Portal, En) => "Partner Portal",
            (Self::Portal, Fr) => "Partner Portal",
            (Self::Portal, Es) => "Partner Portal",
            (Self::Security, En) => "Security",
            (Self::Security, Fr) => "Sécurité",
            (Self::Security, Es) => "Seguridad",
            (Self::SignIn, En) => "Sign-ins",
            (Self::SignIn, Fr) => "Connexions",
            (Self::SignIn, Es) => "Inicios de sesión",
        }
    }
}

impl fmt::Display for Kind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    #[test]
    fn every_kind_is_listed_once_and_reads_back_from_its_stored_name() {
        let names: HashSet<&str> = Kind::ALL.iter().map(|k| k.as_str()).collect();
        assert_eq!(names.len(), Kind::ALL.len());
        for kind in Kind::ALL {
            assert_eq!(Kind::parse(kind.as_str()), Some(kind));
        }
        assert_eq!(Kind::parse("no.such-kind"), None);
    }

    #[test]
    fn every_kind_has_a_label_in_every_language_that_is_not_its_stored_name() {
        for kind in Kind::ALL {
            for language in Language::ALL {
                let label = kind.label(language);
                assert!(!label.is_empty() && label != kind.as_str(), "{kind} in {language:?}");
            }
        }
        // Translations are translations: French and Spanish differ from English
        // wherever the words are not a product name.
        assert_ne!(Kind::RoleGranted.label(Language::French), Kind::RoleGranted.label(Language::English));
    }

    #[test]
    fn only_sign_ins_are_hidden_by_default_and_every_group_has_kinds() {
        let hidden: Vec<Kind> = Kind::ALL.into_iter().filter(|k| k.hidden_by_default()).collect();
        assert_eq!(hidden, [Kind::SignedIn, Kind::SignedOut, Kind::SignInFailed]);
        for group in Group::ALL {
            assert!(group.kinds().next().is_some(), "{group:?}");
            assert_eq!(Group::parse(group.key()), Some(group));
        }
    }

    #[test]
    fn a_locale_reads_its_language_or_english() {
        assert_eq!(Language::of_locale("fr-CA"), Language::French);
        assert_eq!(Language::of_locale("es-419"), Language::Spanish);
        assert_eq!(Language::of_locale("ja-JP"), Language::English);
    }
}
