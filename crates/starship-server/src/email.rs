//! The emails Starship writes, in the recipient's language where we have a
//! translation, English otherwise.

use starship_core::portal::TicketStatus;
use starship_store::outbox::NewMessage;
use starship_store::users::User;

pub struct Rendered {
    pub subject: String,
    pub body: String,
}

impl Rendered {
    /// This email as an outbox message to a person, at their address.
    pub fn to<'a>(&'a self, user: &'a User, kind: &'a str) -> NewMessage<'a> {
        self.to_address(user, &user.email, kind)
    }

    /// This email to a person at another address of theirs (the new one of
    /// an email change).
    pub fn to_address<'a>(&'a self, user: &'a User, address: &'a str, kind: &'a str) -> NewMessage<'a> {
        NewMessage { recipient: address, user_id: Some(&user.id), kind, subject: &self.subject, body: &self.body }
    }
}

/// The languages with translations; anything else reads English.
pub const TRANSLATED: &[&str] = &["en", "fr", "es"];

fn language_of(locale: &str) -> &str {
    let language = locale.split('-').next().unwrap_or("en");
    if TRANSLATED.contains(&language) {
        language
    } else {
        "en"
    }
}

/// The welcome email of a new account, with its single-use activation link.
pub fn welcome(locale: &str, first_name: &str, partner_name: &str, link: &str, valid_hours: u64) -> Rendered {
    match language_of(locale) {
        "fr" => Rendered {
            subject: "Bienvenue sur Starship : activez votre compte".into(),
            body: format!(
                "Bonjour {first_name},\n\nUn compte Starship a été créé pour vous chez {partner_name}.\n\
                 Choisissez votre mot de passe pour l'activer :\n\n{link}\n\n\
                 Ce lien ne sert qu'une fois et expire dans {valid_hours} heures.\n"
            ),
        },
        "es" => Rendered {
            subject: "Bienvenido a Starship: activa tu cuenta".into(),
            body: format!(
                "Hola, {first_name}:\n\nSe ha creado una cuenta de Starship para ti en {partner_name}.\n\
                 Elige tu contraseña para activarla:\n\n{link}\n\n\
                 El enlace sirve una sola vez y caduca en {valid_hours} horas.\n"
            ),
        },
        _ => Rendered {
            subject: "Welcome to Starship: activate your account".into(),
            body: format!(
                "Hello {first_name},\n\nA Starship account was created for you at {partner_name}.\n\
                 Choose your password to activate it:\n\n{link}\n\n\
                 The link works once and expires in {valid_hours} hours.\n"
            ),
        },
    }
}

/// Seed 001: once an Academy User's metadata is saved, the user gets a link
/// to Production Academy with the courses assigned.
pub fn academy_courses(locale: &str, first_name: &str, courses: &[String], academy_url: &str) -> Rendered {
    let list = if courses.is_empty() {
        String::new()
    } else {
        format!("\n{}\n", courses.iter().map(|c| format!("  - {c}")).collect::<Vec<_>>().join("\n"))
    };
    match language_of(locale) {
        "fr" => Rendered {
            subject: "Vos cours Production Academy".into(),
            body: format!(
                "Bonjour {first_name},\n\nVous avez accès à Production Academy.{list}\nCommencez ici : {academy_url}\n"
            ),
        },
        "es" => Rendered {
            subject: "Tus cursos de Production Academy".into(),
            body: format!(
                "Hola, {first_name}:\n\nYa tienes acceso a Production Academy.{list}\nEmpieza aquí: {academy_url}\n"
            ),
        },
        _ => Rendered {
            subject: "Your Production Academy courses".into(),
            body: format!(
                "Hello {first_name},\n\nYou now have access to Production Academy.{list}\nStart here: {academy_url}\n"
            ),
        },
    }
}

/// A portal invitation with its single-use activation link.
pub fn invitation(locale: &str, first_name: &str, partner_name: &str, link: &str, valid_hours: u64) -> Rendered {
    match language_of(locale) {
        "fr" => Rendered {
            subject: "Invitation au Partner Portal".into(),
            body: format!("Bonjour {first_name},\n\n{partner_name} vous invite sur le Partner Portal. Choisissez votre mot de passe :\n\n{link}\n\nCe lien ne sert qu'une fois et expire dans {valid_hours} heures.\n"),
        },
        "es" => Rendered {
            subject: "Invitación al Partner Portal".into(),
            body: format!("Hola, {first_name}:\n\n{partner_name} te invita al Partner Portal. Elige tu contraseña:\n\n{link}\n\nEl enlace sirve una sola vez y caduca en {valid_hours} horas.\n"),
        },
        _ => Rendered {
            subject: "Your invitation to the Partner Portal".into(),
            body: format!("Hello {first_name},\n\n{partner_name} invites you to the Partner Portal. Choose your password to activate your access:\n\n{link}\n\nThe link works once and expires in {valid_hours} hours.\n"),
        },
    }
}

/// Sent to a new address: nothing changes until it is confirmed.
pub fn confirm_email(locale: &str, first_name: &str, link: &str) -> Rendered {
    match language_of(locale) {
        "fr" => Rendered {
            subject: "Confirmez votre nouvelle adresse".into(),
            body: format!("Bonjour {first_name},\n\nConfirmez cette adresse pour votre compte Starship :\n\n{link}\n"),
        },
        "es" => Rendered {
            subject: "Confirma tu nueva dirección".into(),
            body: format!("Hola, {first_name}:\n\nConfirma esta dirección para tu cuenta de Starship:\n\n{link}\n"),
        },
        _ => Rendered {
            subject: "Confirm your new email address".into(),
            body: format!("Hello {first_name},\n\nConfirm this address for your Starship account:\n\n{link}\n"),
        },
    }
}

/// Sent to the old address when someone asks to change it.
pub fn email_change_notice(locale: &str, first_name: &str, new_email: &str) -> Rendered {
    match language_of(locale) {
        "fr" => Rendered { subject: "Changement d'adresse demandé".into(), body: format!("Bonjour {first_name},\n\nUn changement d'adresse vers {new_email} a été demandé pour votre compte Starship. Si ce n'est pas vous, contactez votre administrateur.\n") },
        "es" => Rendered { subject: "Cambio de dirección solicitado".into(), body: format!("Hola, {first_name}:\n\nSe solicitó cambiar la dirección de tu cuenta de Starship a {new_email}. Si no fuiste tú, avisa a tu administrador.\n") },
        _ => Rendered { subject: "Email change requested".into(), body: format!("Hello {first_name},\n\nSomeone asked to change your Starship account's address to {new_email}. If it was not you, tell your administrator.\n") },
    }
}

/// To the old address once a change is confirmed: the account no longer
/// answers there, so this is the last chance to notice a takeover.
pub fn email_changed_notice(locale: &str, first_name: &str, new_email: &str) -> Rendered {
    match language_of(locale) {
        "fr" => Rendered { subject: "Adresse de votre compte modifiée".into(), body: format!("Bonjour {first_name},\n\nL'adresse de votre compte Starship est désormais {new_email}. Les liens envoyés à cette adresse-ci ne sont plus valides. Si vous n'êtes pas à l'origine de ce changement, signalez-le immédiatement à votre administrateur ou à l'équipe Starship en répondant à ce message.\n") },
        "es" => Rendered { subject: "Se cambió la dirección de tu cuenta".into(), body: format!("Hola, {first_name}:\n\nLa dirección de tu cuenta de Starship ahora es {new_email}. Los enlaces enviados a esta dirección ya no son válidos. Si no fuiste tú, infórmalo de inmediato a tu administrador o al equipo de Starship respondiendo a este mensaje.\n") },
        _ => Rendered { subject: "Your account's address was changed".into(), body: format!("Hello {first_name},\n\nYour Starship account's address is now {new_email}. Links sent to this address no longer work. If you did not make this change, report it at once to your administrator or to the Starship team by replying to this message.\n") },
    }
}

/// Before an access review's due date, to an admin with items to decide.
/// English only for now: reviewers are admins, who read the admin pages.
pub fn review_reminder(first_name: &str, application: &str, due: &str, undecided: usize, link: &str) -> Rendered {
    let items = if undecided == 1 { "1 grant".to_string() } else { format!("{undecided} grants") };
    Rendered {
        subject: format!("Access review of {application}: {items} to decide"),
        body: format!(
            "Hello {first_name},\n\nThe access review of {application} closes at {due}. {items} in it \
             still need a decision from an admin: keep or revoke. At the due date every grant not kept \
             is revoked.\n\nDecide here: {link}\n"
        ),
    }
}

/// Seven days before a role ends: to the person (`person` is `None`) or to
/// an admin who could extend it (`person` names whose role it is). English
/// only for now: the other languages read it in English.
pub fn role_expiry_reminder(
    _locale: &str,
    first_name: &str,
    person: Option<&str>,
    what: &str,
    last_day: &str,
) -> Rendered {
    match person {
        None => Rendered {
            subject: format!("Your role {what} ends after {last_day}"),
            body: format!(
                "Hello {first_name},\n\nYour role {what} ends after {last_day}.\n\
                 If you still need it, ask one of your admins to extend it.\n"
            ),
        },
        Some(person) => Rendered {
            subject: format!("{person}'s role {what} ends after {last_day}"),
            body: format!(
                "Hello {first_name},\n\n{person}'s role {what} ends after {last_day}.\n\
                 You may extend it (or let it end) on their profile's Roles tab.\n"
            ),
        },
    }
}

/// What happened on a ticket, for its watchers and the partner's NOC contacts.
pub enum TicketNews<'a> {
    Opened { body: &'a str },
    Commented { body: &'a str },
    StatusChanged { from: TicketStatus, to: TicketStatus },
}

fn ticket_status_name(language: &str, status: TicketStatus) -> &'static str {
    match (language, status) {
        ("fr", TicketStatus::Open) => "ouvert",
        ("fr", TicketStatus::WaitingOnPartner) => "en attente du partenaire",
        ("fr", TicketStatus::WaitingOnOperator) => "en attente de l'opérateur",
        ("fr", TicketStatus::Resolved) => "résolu",
        ("fr", TicketStatus::Closed) => "fermé",
        ("es", TicketStatus::Open) => "abierto",
        ("es", TicketStatus::WaitingOnPartner) => "en espera del socio",
        ("es", TicketStatus::WaitingOnOperator) => "en espera del operador",
        ("es", TicketStatus::Resolved) => "resuelto",
        ("es", TicketStatus::Closed) => "cerrado",
        (_, status) => status.label(),
    }
}

/// A ticket was opened, commented on or moved to another status.
pub fn ticket_news(locale: &str, first_name: &str, subject: &str, by: &str, news: &TicketNews, link: &str) -> Rendered {
    let language = language_of(locale);
    let (en, fr, es) = match news {
        TicketNews::Opened { body } => (
            (format!("New ticket: {subject}"), format!("{by} opened the ticket:\n\n{body}")),
            (format!("Nouveau ticket : {subject}"), format!("{by} a ouvert le ticket :\n\n{body}")),
            (format!("Nuevo ticket: {subject}"), format!("{by} abrió el ticket:\n\n{body}")),
        ),
        TicketNews::Commented { body } => (
            (format!("New comment on: {subject}"), format!("{by} commented:\n\n{body}")),
            (format!("Nouveau commentaire : {subject}"), format!("{by} a commenté :\n\n{body}")),
            (format!("Nuevo comentario: {subject}"), format!("{by} comentó:\n\n{body}")),
        ),
        TicketNews::StatusChanged { from, to } => (
            (
                format!("Ticket {}: {subject}", ticket_status_name("en", *to)),
                format!(
                    "{by} changed the status from {} to {}.",
                    ticket_status_name("en", *from),
                    ticket_status_name("en", *to)
                ),
            ),
            (
                format!("Ticket {} : {subject}", ticket_status_name("fr", *to)),
                format!(
                    "{by} a changé le statut de « {} » à « {} ».",
                    ticket_status_name("fr", *from),
                    ticket_status_name("fr", *to)
                ),
            ),
            (
                format!("Ticket {}: {subject}", ticket_status_name("es", *to)),
                format!(
                    "{by} cambió el estado de «{}» a «{}».",
                    ticket_status_name("es", *from),
                    ticket_status_name("es", *to)
                ),
            ),
        ),
    };
    let ((subject, what), greeting, open) = match language {
        "fr" => (fr, "Bonjour", "Voir le ticket"),
        "es" => (es, "Hola,", "Ver el ticket"),
        _ => (en, "Hello", "See the ticket"),
    };
    Rendered { subject, body: format!("{greeting} {first_name},\n\n{what}\n\n{open}: {link}\n") }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn welcome_reads_in_the_recipients_language_or_english() {
        assert!(welcome("fr-FR", "Ana", "Sunrise", "http://x/a", 72).subject.starts_with("Bienvenue"));
        assert!(welcome("es-419", "Ana", "Sunrise", "http://x/a", 72).body.contains("Hola, Ana"));
        let fallback = welcome("ja-JP", "Ana", "Sunrise", "http://x/a", 72);
        assert!(fallback.subject.starts_with("Welcome"));
        assert!(fallback.body.contains("http://x/a") && fallback.body.contains("72 hours"));
    }

    #[test]
    fn the_academy_email_lists_the_courses_and_links_to_the_academy() {
        let mail = academy_courses("en-US", "Jamie", &["Welcome to IMF (IMF101)".into()], "https://academy.example");
        assert!(mail.body.contains("  - Welcome to IMF (IMF101)"));
        assert!(mail.body.contains("https://academy.example"));
        assert!(academy_courses("es-ES", "Jamie", &[], "u").subject.starts_with("Tus cursos"));
    }
}
