//! Signing in safely on one's own account: change the password; two-step
//! sign-in (set it up with an authenticator app, see the recovery codes
//! once, turn it off).

use askama::Template;
use axum::extract::{Query, State};
use serde::Deserialize;
use starship_store::history::Source;
use starship_store::sessions::Ended;

use super::page::{word, SecurityDone};
use super::{page, refused, see_other, Action, FormErrors, Layout, Page, Section, WebPost, WebResult, WebUser};
use crate::ops::session::{self, Enrolled, Enrolment, OtherSignIns};
use crate::ops::OperationError;
use crate::state::AppState;

#[derive(Deserialize, Default)]
pub struct SecurityQuery {
    #[serde(default, deserialize_with = "word")]
    done: Option<SecurityDone>,
}

/// Where the account stands, and what the page shows for it.
enum Step {
    Off,
    /// A secret to add to the authenticator, and a code to prove it.
    Enrolling {
        secret: String,
        secret_groups: String,
        provisioning_uri: String,
        /// The provisioning URI as a QR code, an SVG drawn here.
        qr_svg: String,
    },
    /// Just turned on: the recovery codes, shown this once, and what ended
    /// with the other sign-ins.
    RecoveryCodes {
        codes: Vec<String>,
        ended: Option<Ended>,
    },
    On,
}

#[derive(Template)]
#[template(path = "security.html")]
struct SecurityPage {
    layout: Layout,
    csrf: String,
    step: Step,
    errors: FormErrors,
    notice: Option<&'static str>,
    /// The "end my other sessions and tokens" box of the confirm form.
    end_others: bool,
}

fn enrolling(secret: String, provisioning_uri: String) -> Step {
    let secret_groups = secret.as_bytes().chunks(4).map(|c| String::from_utf8_lossy(c)).collect::<Vec<_>>().join(" ");
    let qr_svg = qr_svg(&provisioning_uri);
    Step::Enrolling { secret, secret_groups, provisioning_uri, qr_svg }
}

/// `text` as a QR code: an inline SVG element (no XML declaration), or
/// nothing if it cannot be encoded (the key and the link still show).
pub fn qr_svg(text: &str) -> String {
    let Ok(code) = qrcode::QrCode::new(text.as_bytes()) else {
        return String::new();
    };
    let svg = code
        .render::<qrcode::render::svg::Color>()
        .min_dimensions(200, 200)
        .dark_color(qrcode::render::svg::Color("#000000"))
        .light_color(qrcode::render::svg::Color("#ffffff"))
        .build();
    svg.find("<svg").map_or_else(String::new, |start| svg[start..].to_string())
}

fn render(
    state: &AppState,
    viewer: &WebUser,
    step: Step,
    errors: FormErrors,
    notice: Option<&'static str>,
) -> SecurityPage {
    SecurityPage {
        layout: viewer.layout(state, "Two-step sign-in", Section::Account),
        csrf: viewer.csrf.clone(),
        step,
        errors,
        notice,
        end_others: true,
    }
}

pub async fn show(State(state): State<AppState>, viewer: WebUser, Query(query): Query<SecurityQuery>) -> WebResult {
    let enabled = session::mfa_on(&state, &viewer.user).await?;
    let notice = query.done.map(|done| match done {
        SecurityDone::Off => "Two-step sign-in is off. You sign in with your password alone.",
        SecurityDone::Password => "Your password is changed.",
        SecurityDone::PasswordEnded => {
            "Your password is changed, and you are signed out everywhere else; your personal API tokens have ended."
        }
    });
    let step = if enabled { Step::On } else { Step::Off };
    page(&render(&state, &viewer, step, FormErrors::default(), notice))
}

/// The page's three forms: start setting up, confirm with a first code,
/// turn off with a code.
/// One of the page's forms, told apart by its button's `action`.
#[derive(Deserialize)]
pub struct SecurityForm {
    action: SecurityAction,
    #[serde(default)]
    code: String,
    #[serde(default)]
    end_other_sessions: Option<String>,
    #[serde(default)]
    current_password: String,
    #[serde(default)]
    new_password: String,
}

#[derive(Deserialize, Clone, Copy)]
#[serde(rename_all = "lowercase")]
enum SecurityAction {
    Start,
    Confirm,
    Off,
    Password,
}

pub async fn act(State(state): State<AppState>, post: WebPost<SecurityForm>) -> WebResult {
    let viewer = &post.user;
    let form = &post.form;
    let end_others = form.end_other_sessions.is_some();
    match form.action {
        SecurityAction::Start => {
            let Enrolment { secret, provisioning_uri } = session::begin_mfa(&state, &viewer.user).await?;
            page(&render(&state, viewer, enrolling(secret, provisioning_uri), FormErrors::default(), None))
        }
        SecurityAction::Confirm => confirm(&state, viewer, &form.code, end_others).await,
        SecurityAction::Off => match session::disable_own_mfa(&state, &viewer.user, &form.code, Source::Web).await {
            Ok(()) => see_other(Page::Security { done: Some(SecurityDone::Off) }),
            Err(e @ OperationError::Invalid(_)) => {
                let errors = FormErrors::from_error(e, &["code"])?;
                refused(&render(&state, viewer, Step::On, errors, None))
            }
            Err(other) => Err(other.into()),
        },
        SecurityAction::Password => {
            let current = form.current_password.clone();
            match session::change_password(
                &state,
                &viewer.user,
                Some(&viewer.session_hash),
                current,
                &form.new_password,
                end_others,
                Source::Web,
            )
            .await
            {
                Ok(_) => {
                    let done = if end_others { SecurityDone::PasswordEnded } else { SecurityDone::Password };
                    see_other(Page::Security { done: Some(done) })
                }
                Err(e @ OperationError::Invalid(_)) => {
                    let errors = FormErrors::from_error(e, &["current_password", "new_password"])?;
                    let enabled = session::mfa_on(&state, &viewer.user).await?;
                    let step = if enabled { Step::On } else { Step::Off };
                    refused(&SecurityPage { end_others, ..render(&state, viewer, step, errors, None) })
                }
                Err(other) => Err(other.into()),
            }
        }
    }
}

/// The confirm form (with "end my other sessions and tokens" ticked or
/// not): the recovery codes, or the same key again with the code's error.
async fn confirm(state: &AppState, viewer: &WebUser, code: &str, end_others: bool) -> WebResult {
    let others =
        if end_others { OtherSignIns::End { current: Some(&viewer.session_hash) } } else { OtherSignIns::Keep };
    match session::confirm_mfa(state, &viewer.user, code, others, Source::Web).await {
        Ok(Enrolled { recovery_codes, ended }) => {
            let step = Step::RecoveryCodes { codes: recovery_codes, ended: end_others.then_some(ended) };
            page(&render(state, viewer, step, FormErrors::default(), None))
        }
        Err(e @ OperationError::Invalid(_)) => {
            let errors = FormErrors::from_error(e, &["code"])?;
            // The same secret again: the authenticator has it already.
            let pending = session::own_totp(state, &viewer.user).await?;
            let step = match pending {
                Some(totp) if !totp.enabled => {
                    let uri = session::provisioning_uri(&totp.secret, &viewer.user.email)?;
                    enrolling(totp.secret, uri)
                }
                _ => Step::Off,
            };
            refused(&SecurityPage { end_others, ..render(state, viewer, step, errors, None) })
        }
        Err(OperationError::Conflict(_)) => {
            let errors = FormErrors::general("Start again: the setup was finished or cancelled meanwhile.");
            refused(&render(state, viewer, Step::Off, errors, None))
        }
        Err(other) => Err(other.into()),
    }
}
