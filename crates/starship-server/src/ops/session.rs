//! Signing in and out, and accepting single-use links: shared by the API
//! and the web pages.

use starship_core::history::Kind;
use starship_core::ids::UserId;
use std::net::IpAddr;

use serde_json::json;
use starship_core::authz;
use starship_core::domain::{Password, UserStatus};
use starship_core::FieldError;
use starship_store::history::{self, Actor, Source};
use starship_store::sessions::Throttle;
use starship_store::users::{self, User};
use starship_store::{mfa, now_millis, outbox, sessions, Conn};
use totp_rs::{Algorithm, Secret, TOTP};

use crate::metrics::SignInOutcome;
use crate::ops::ACTIVATION;
use crate::ops::{OperationError, OperationResult};
use crate::security::{hash_password, new_secret, secret_hash, verify_password};
use crate::state::AppState;

/// A new session: the account, and the secret to hand the browser (only
/// its hash is stored).
pub struct SignedIn {
    pub user: User,
    pub session_secret: String,
}

/// Checks a password, throttled per account and per client address; the
/// same error for an unknown email and a wrong password.
pub async fn sign_in(
    state: &AppState,
    email: &str,
    password: String,
    client: IpAddr,
    source: Source,
) -> OperationResult<SignedIn> {
    sign_in_with_code(state, email, password, None, client, source).await
}

/// Signs in with a password and, for accounts with MFA, a current
/// authenticator code or an unused recovery code. Without a code such an
/// account answers `MfaRequired`; a wrong, old or replayed code counts as a
/// failed sign-in.
pub async fn sign_in_with_code(
    state: &AppState,
    email: &str,
    password: String,
    code: Option<&str>,
    client: IpAddr,
    source: Source,
) -> OperationResult<SignedIn> {
    let attempt = SignInAttempt { email, password, code, client, source };
    match sign_in_or_challenge_if(state, attempt, false).await? {
        PasswordOutcome::SignedIn(signed_in) => Ok(*signed_in),
        PasswordOutcome::CodeNeeded(_) => Err(OperationError::MfaRequired),
    }
}

/// What the sign-in page sends: an email, a password and maybe a code.
pub struct SignInAttempt<'a> {
    pub email: &'a str,
    pub password: String,
    pub code: Option<&'a str>,
    pub client: IpAddr,
    pub source: Source,
}

/// Where a right password leads.
pub enum PasswordOutcome {
    SignedIn(Box<SignedIn>),
    /// The account has two-step sign-in and no code came: the secret of a
    /// challenge that stands for the right password while the code is asked
    /// for (`sign_in_with_challenge`), when one was wanted.
    CodeNeeded(Option<String>),
}

/// `sign_in_with_code` for the sign-in page: when the code is missing, the
/// right password is kept for `CHALLENGE_LIFETIME` as a challenge, so the
/// person then types the code alone.
pub async fn sign_in_or_challenge(state: &AppState, attempt: SignInAttempt<'_>) -> OperationResult<PasswordOutcome> {
    sign_in_or_challenge_if(state, attempt, true).await
}

async fn sign_in_or_challenge_if(
    state: &AppState,
    attempt: SignInAttempt<'_>,
    want_challenge: bool,
) -> OperationResult<PasswordOutcome> {
    let result = decide_sign_in(state, attempt, want_challenge).await;
    count_sign_in(state, &result, |outcome| matches!(outcome, PasswordOutcome::CodeNeeded(_)));
    result
}

/// How long a right password waits for its code.
pub const CHALLENGE_LIFETIME: std::time::Duration = std::time::Duration::from_secs(5 * 60);

/// Completes a sign-in whose password a challenge proved, with its code.
/// The challenge is spent by success only: a wrong code counts as a failed
/// sign-in of the account (its limit bounds the guesses) and may be
/// corrected. An expired, spent or unknown challenge is `Unauthenticated`:
/// the password must be given again.
pub async fn sign_in_with_challenge(
    state: &AppState,
    challenge: &str,
    code: Option<&str>,
    client: IpAddr,
    source: Source,
) -> OperationResult<SignedIn> {
    let result = complete_challenge(state, challenge, code, client, source).await;
    count_sign_in(state, &result, |_| false);
    result
}

async fn complete_challenge(
    state: &AppState,
    challenge: &str,
    code: Option<&str>,
    client: IpAddr,
    source: Source,
) -> OperationResult<SignedIn> {
    let challenge_hash = secret_hash(challenge.trim());
    let mut conn = state.store.conn().await?;
    let user_id = sessions::challenge_user(&mut conn, &challenge_hash).await?.ok_or(OperationError::Unauthenticated)?;
    let user = users::get(&mut conn, &user_id).await?.filter(may_sign_in).ok_or(OperationError::Unauthenticated)?;
    drop(conn);
    let account = reserve_account_attempt(state, &user).await?;
    match check_second_factor(state, &user, code).await {
        Ok(()) => {
            let mut tx = state.store.begin().await?;
            if !sessions::spend_challenge(&mut tx, &challenge_hash).await? {
                return Err(OperationError::Unauthenticated);
            }
            let signed_in = start_session(state, &mut tx, user, client, source).await?;
            sessions::clear_failures(&mut tx, &account.key).await?;
            tx.commit().await?;
            Ok(signed_in)
        }
        Err(OperationError::MfaRequired) => {
            // An empty code guessed nothing.
            let mut tx = state.store.begin().await?;
            sessions::release_attempt(&mut tx, &account.key).await?;
            tx.commit().await?;
            Err(OperationError::MfaRequired)
        }
        Err(error) => {
            record_failed_sign_in(state, &user.id, client, source).await?;
            Err(error)
        }
    }
}

/// A failed sign-in of a known account, in its History.
async fn record_failed_sign_in(
    state: &AppState,
    user_id: &UserId,
    client: IpAddr,
    source: Source,
) -> OperationResult<()> {
    let mut tx = state.store.begin().await?;
    let details = json!({"client": client.to_string()});
    history::append(&mut tx, user_id, &Actor::system(source), Kind::SignInFailed, details).await?;
    tx.commit().await?;
    Ok(())
}

/// Counts a sign-in's outcome in the metrics.
fn count_sign_in<T>(state: &AppState, result: &OperationResult<T>, code_needed: impl Fn(&T) -> bool) {
    let outcome = match result {
        Ok(done) if code_needed(done) => Some(SignInOutcome::Mfa),
        Ok(_) => Some(SignInOutcome::Success),
        Err(OperationError::MfaRequired) => Some(SignInOutcome::Mfa),
        Err(OperationError::BadCredentials | OperationError::MfaCodeUsed | OperationError::Unauthenticated) => {
            Some(SignInOutcome::Failure)
        }
        Err(OperationError::Throttled { .. }) => Some(SignInOutcome::Throttled),
        // A store failure decided nothing about the person; the request's 500 counts it.
        Err(_) => None,
    };
    if let Some(outcome) = outcome {
        state.metrics.sign_in(outcome);
    }
}

async fn decide_sign_in(
    state: &AppState,
    attempt: SignInAttempt<'_>,
    want_challenge: bool,
) -> OperationResult<PasswordOutcome> {
    let SignInAttempt { email, password, code, client, source } = attempt;
    let email_lower = email.trim().to_lowercase();
    let account_key = format!("email:{email_lower}");
    let address_key = format!("ip:{client}");
    let mut keys = vec![Throttle::new(&account_key, state.config.sign_in_failure_limit)];
    let mut conn = state.store.conn().await?;
    // The address's limit counts volume from one place; an account that has
    // signed in from there before is never refused for others' failures.
    let known_since = now_millis() - KNOWN_CLIENT_FOR.as_millis() as i64;
    let known = sessions::is_known_client(&mut conn, &email_lower, &client.to_string(), known_since).await?;
    if !known {
        keys.push(Throttle::new(&address_key, state.config.sign_in_address_limit));
    }
    drop(conn);
    // The attempt is reserved before the password is checked: a burst of
    // guesses gets at most the limit evaluated, whatever their timing.
    reserve(state, &keys).await?;
    let mut conn = state.store.conn().await?;
    let found = users::credentials(&mut conn, &email_lower).await?;
    drop(conn);

    let stored_hash = found.as_ref().and_then(|(_, hash)| hash.clone());
    // argon2 is deliberately slow: keep it off the async workers.
    let password_ok = hashing(move || verify_password(&password, stored_hash.as_deref()))
        .await
        .map_err(|e| OperationError::Internal(e.to_string()))?;
    let mut second_factor = Ok(());
    if let Some((user, _)) = found.as_ref().filter(|(u, _)| password_ok && may_sign_in(u)) {
        second_factor = check_second_factor(state, user, code).await;
        if let Err(OperationError::MfaRequired) = second_factor {
            // The password was right: asking for the code is no failure.
            let mut tx = state.store.begin().await?;
            for throttle in &keys {
                sessions::release_attempt(&mut tx, &throttle.key).await?;
            }
            let challenge = if want_challenge {
                let secret = new_secret("");
                let expires_at = now_millis() + CHALLENGE_LIFETIME.as_millis() as i64;
                sessions::insert_challenge(&mut tx, &secret_hash(&secret), &user.id, expires_at).await?;
                Some(secret)
            } else {
                None
            };
            tx.commit().await?;
            return Ok(PasswordOutcome::CodeNeeded(challenge));
        }
    }
    let user = match found {
        Some((user, _)) if password_ok && may_sign_in(&user) && second_factor.is_ok() => user,
        other => {
            // The reserved attempt stays counted as the failure.
            if let Some((user, _)) = other {
                record_failed_sign_in(state, &user.id, client, source).await?;
            }
            // Only reached with the right password: a reused code says so,
            // and still counts as a failure.
            if let Err(OperationError::MfaCodeUsed) = second_factor {
                return Err(OperationError::MfaCodeUsed);
            }
            return Err(OperationError::BadCredentials);
        }
    };

    let mut tx = state.store.begin().await?;
    let signed_in = start_session(state, &mut tx, user, client, source).await?;
    sessions::clear_failures(&mut tx, &account_key).await?;
    if !known {
        sessions::release_attempt(&mut tx, &address_key).await?;
    }
    tx.commit().await?;
    Ok(PasswordOutcome::SignedIn(Box::new(signed_in)))
}

/// The session of a person who proved every secret their account asks
/// for, remembered with the address it came from.
async fn start_session(
    state: &AppState,
    tx: &mut Conn,
    user: User,
    client: IpAddr,
    source: Source,
) -> OperationResult<SignedIn> {
    let session_secret = new_secret("");
    let expires_at = now_millis() + state.config.session_ttl.as_millis() as i64;
    sessions::insert_session(tx, &secret_hash(&session_secret), &user.id, expires_at).await?;
    sessions::remember_client(tx, &user.email.to_lowercase(), &client.to_string()).await?;
    let actor = Actor::user(&user.id, &user.email, source);
    history::append(tx, &user.id, &actor, Kind::SignedIn, json!({"client": client.to_string()})).await?;
    Ok(SignedIn { user, session_secret })
}

/// An account signs in while it is active and not deactivated.
pub fn may_sign_in(user: &User) -> bool {
    user.status == UserStatus::Active && user.deactivated_at.is_none()
}

/// Reserves one attempt on every key, committed at once so that it counts
/// even when the secret then turns out wrong; past a limit, `Throttled`.
async fn reserve(state: &AppState, keys: &[Throttle]) -> OperationResult<()> {
    let window_ms = state.config.sign_in_window.as_millis() as i64;
    let mut tx = state.store.begin().await?;
    if !sessions::reserve_attempt(&mut tx, keys, window_ms).await? {
        return Err(OperationError::Throttled { retry_after_secs: state.config.sign_in_window.as_secs() });
    }
    tx.commit().await?;
    Ok(())
}

/// Reserves an attempt of a signed-in person's own account, for proving a
/// secret again (a code, the current password); returns its key to give
/// the attempt back on success.
async fn reserve_account_attempt(state: &AppState, user: &User) -> OperationResult<Throttle> {
    let account = Throttle::new(format!("email:{}", user.email.to_lowercase()), state.config.sign_in_failure_limit);
    reserve(state, std::slice::from_ref(&account)).await?;
    Ok(account)
}

/// How long a successful sign-in from an address exempts the account from
/// that address's volume limit.
const KNOWN_CLIENT_FOR: std::time::Duration = std::time::Duration::from_secs(90 * 24 * 3600);

/// Ends one session.
pub async fn sign_out(state: &AppState, session_token_hash: &str, actor: &Actor) -> OperationResult<()> {
    let mut tx = state.store.begin().await?;
    if let Some(user_id) = sessions::delete_session(&mut tx, session_token_hash).await? {
        history::append(&mut tx, &user_id, actor, Kind::SignedOut, json!({})).await?;
    }
    tx.commit().await?;
    Ok(())
}

/// Sets the password from a single-use activation link and turns sign-in
/// on. A used, replaced or expired link changes nothing.
pub async fn accept_link(state: &AppState, token: &str, password: &str, source: Source) -> OperationResult<User> {
    let password = Password::parse("password", password)?;
    let hash = hashing(move || hash_password(&password)).await.map_err(|e| OperationError::Internal(e.to_string()))?;
    let mut tx = state.store.begin().await?;
    let invalid = || FieldError::new("token", "this link is not valid: it was used or replaced, or it has expired");
    let user_id = outbox::use_link(&mut tx, &secret_hash(token.trim()), ACTIVATION).await?.ok_or_else(invalid)?;
    let user = users::get(&mut tx, &user_id).await?.ok_or_else(invalid)?;
    if user.status == UserStatus::Disabled || user.deactivated_at.is_some() {
        return Err(invalid().into());
    }
    users::set_password(&mut tx, &user.id, &hash).await?;
    history::append(&mut tx, &user.id, &Actor::user(&user.id, &user.email, source), Kind::AccountActivated, json!({}))
        .await?;
    tx.commit().await?;
    Ok(user)
}

/// The MFA check after a right password: nothing to do without
/// enrolment; otherwise a TOTP code of the current window (used once) or an
/// unused recovery code.
async fn check_second_factor(state: &AppState, user: &User, code: Option<&str>) -> OperationResult<()> {
    let mut conn = state.store.conn().await?;
    let Some(totp) = mfa::totp_of(&mut conn, &user.id).await?.filter(|t| t.enabled) else {
        return Ok(());
    };
    let Some(code) = code.map(str::trim).filter(|c| !c.is_empty()) else {
        return Err(OperationError::MfaRequired);
    };
    if proves_second_factor(&mut conn, user, &totp, code).await? {
        Ok(())
    } else if matching_step(&totp.secret, &user.email, code, now_millis() / 1000).is_some() {
        // The current code, spent already by an earlier sign-in.
        Err(OperationError::MfaCodeUsed)
    } else {
        Err(OperationError::BadCredentials)
    }
}

/// A TOTP code of the current window not used before, or an unused
/// recovery code; either is spent by this check.
async fn proves_second_factor(conn: &mut Conn, user: &User, totp: &mfa::Totp, code: &str) -> OperationResult<bool> {
    if let Some(step) = matching_step(&totp.secret, &user.email, code, now_millis() / 1000) {
        return Ok(mfa::use_step(conn, &user.id, step).await?);
    }
    Ok(mfa::use_recovery_code(conn, &user.id, &secret_hash(&code.to_lowercase())).await?)
}

/// Turns off one's own two-step sign-in, only with a current code or a
/// recovery code: a borrowed or stolen session alone cannot remove the
/// second factor. A wrong code counts as a failed sign-in of the account.
pub async fn disable_own_mfa(state: &AppState, user: &User, code: &str, source: Source) -> OperationResult<()> {
    let account = reserve_account_attempt(state, user).await?;
    let mut tx = state.store.begin().await?;
    let Some(totp) = mfa::totp_of(&mut tx, &user.id).await?.filter(|t| t.enabled) else {
        return Err(OperationError::Conflict("two-step sign-in is not on".into()));
    };
    if !proves_second_factor(&mut tx, user, &totp, code.trim()).await? {
        return Err(FieldError::new(
            "code",
            "is neither the current code of your authenticator nor an unused recovery code",
        )
        .into());
    }
    sessions::release_attempt(&mut tx, &account.key).await?;
    mfa::remove(&mut tx, &user.id).await?;
    history::append(&mut tx, &user.id, &Actor::user(&user.id, &user.email, source), Kind::MfaDisabled, json!({}))
        .await?;
    tx.commit().await?;
    Ok(())
}

/// Changes one's own password. The current password proves it is the
/// owner, not a borrowed session: a wrong one counts as a failed sign-in of
/// the account. Other sessions and every API token end when asked, in the
/// same transaction.
/// `session` is the hash of the session the caller signed in with (none
/// through an API token); `end_others` ends every other session and token.
pub async fn change_password(
    state: &AppState,
    user: &User,
    session: Option<&str>,
    current_password: String,
    new_password: &str,
    end_others: bool,
    source: Source,
) -> OperationResult<sessions::Ended> {
    authz::change_own_password(session.is_some())?;
    let others = if end_others { OtherSignIns::End { current: session } } else { OtherSignIns::Keep };
    let new_password = Password::parse("new_password", new_password)?;
    let account = reserve_account_attempt(state, user).await?;
    let mut conn = state.store.conn().await?;
    let stored_hash = users::credentials(&mut conn, &user.email.to_lowercase()).await?.and_then(|(_, hash)| hash);
    drop(conn);
    let current_ok = hashing(move || verify_password(&current_password, stored_hash.as_deref()))
        .await
        .map_err(|e| OperationError::Internal(e.to_string()))?;
    if !current_ok {
        return Err(FieldError::new("current_password", "is not your current password").into());
    }
    let hash =
        hashing(move || hash_password(&new_password)).await.map_err(|e| OperationError::Internal(e.to_string()))?;
    let mut tx = state.store.begin().await?;
    users::set_password(&mut tx, &user.id, &hash).await?;
    sessions::release_attempt(&mut tx, &account.key).await?;
    let mut details = json!({});
    let mut ended = sessions::Ended::default();
    if let OtherSignIns::End { current } = others {
        ended = sessions::end_all_for_user_except(&mut tx, &user.id, current).await?;
        details["other_sessions_ended"] = json!(ended.sessions);
        details["tokens_ended"] = json!(ended.tokens);
    }
    history::append(&mut tx, &user.id, &Actor::user(&user.id, &user.email, source), Kind::PasswordChanged, details)
        .await?;
    tx.commit().await?;
    Ok(ended)
}

const TOTP_STEP_SECS: i64 = 30;

fn totp_of(secret_base32: &str, account: &str) -> Option<TOTP> {
    let secret = Secret::Encoded(secret_base32.to_string()).to_bytes().ok()?;
    TOTP::new(Algorithm::SHA1, 6, 1, TOTP_STEP_SECS as u64, secret, Some("Starship".into()), account.to_string()).ok()
}

/// The time step whose code this is, allowing one step of clock drift.
pub fn matching_step(secret_base32: &str, account: &str, code: &str, now_secs: i64) -> Option<i64> {
    let totp = totp_of(secret_base32, account)?;
    let current = now_secs / TOTP_STEP_SECS;
    [current - 1, current, current + 1].into_iter().find(|step| {
        let expected = totp.generate((step * TOTP_STEP_SECS) as u64);
        expected.len() == code.len() && expected.bytes().zip(code.bytes()).fold(0u8, |acc, (a, b)| acc | (a ^ b)) == 0
    })
}

/// The code an authenticator shows at `now_secs` (for tests and tooling).
pub fn current_code(secret_base32: &str, account: &str, now_secs: i64) -> Option<String> {
    totp_of(secret_base32, account).map(|t| t.generate(now_secs as u64))
}

pub struct Enrolment {
    pub secret: String,
    /// otpauth:// URI for authenticator apps (as a QR code or pasted).
    pub provisioning_uri: String,
}

/// Starts MFA enrolment: a new secret that a first code must confirm.
pub async fn begin_mfa(state: &AppState, user: &User) -> OperationResult<Enrolment> {
    let mut conn = state.store.conn().await?;
    if mfa::totp_of(&mut conn, &user.id).await?.is_some_and(|t| t.enabled) {
        return Err(OperationError::Conflict("MFA is on already; reset it first to enrol again".into()));
    }
    let mut bytes = [0u8; 20];
    argon2::password_hash::rand_core::RngCore::fill_bytes(&mut argon2::password_hash::rand_core::OsRng, &mut bytes);
    let secret = Secret::Raw(bytes.to_vec()).to_encoded().to_string();
    let provisioning_uri = provisioning_uri(&secret, &user.email)?;
    mfa::begin_enrolment(&mut conn, &user.id, &secret).await?;
    Ok(Enrolment { provisioning_uri, secret })
}

/// The otpauth:// URI an authenticator app takes for a secret.
pub fn provisioning_uri(secret_base32: &str, account: &str) -> OperationResult<String> {
    Ok(totp_of(secret_base32, account).ok_or_else(|| OperationError::Internal("TOTP secret".into()))?.get_url())
}

/// Whether turning on MFA also ends the person's other ways in: someone who
/// enrols because they fear their password leaked wants the sessions and
/// tokens made with it gone too.
#[derive(Debug, Clone, Copy)]
pub enum OtherSignIns<'a> {
    Keep,
    /// Ends every session but `current` (none when enrolling through an
    /// API token) and every API token.
    End {
        current: Option<&'a str>,
    },
}

/// A finished enrolment: ten recovery codes, shown this once and stored
/// hashed, and what else ended with it.
pub struct Enrolled {
    pub recovery_codes: Vec<String>,
    pub ended: sessions::Ended,
}

/// Confirms enrolment with a first code, in one transaction with ending the
/// other sign-ins when asked.
pub async fn confirm_mfa(
    state: &AppState,
    user: &User,
    code: &str,
    others: OtherSignIns<'_>,
    source: Source,
) -> OperationResult<Enrolled> {
    let mut tx = state.store.begin().await?;
    let Some(totp) = mfa::totp_of(&mut tx, &user.id).await?.filter(|t| !t.enabled) else {
        return Err(OperationError::Conflict("start an enrolment first".into()));
    };
    let step = matching_step(&totp.secret, &user.email, code.trim(), now_millis() / 1000)
        .ok_or_else(|| FieldError::new("code", "is not the current code of your authenticator"))?;
    if !mfa::use_step(&mut tx, &user.id, step).await? {
        return Err(FieldError::new("code", "was used already; wait for the next one").into());
    }
    mfa::enable(&mut tx, &user.id).await?;
    let codes: Vec<String> = (0..10).map(|_| recovery_code()).collect();
    mfa::replace_recovery_codes(&mut tx, &user.id, &codes.iter().map(|c| secret_hash(c)).collect::<Vec<_>>()).await?;
    let mut details = json!({"method": "totp"});
    let mut ended = sessions::Ended::default();
    if let OtherSignIns::End { current } = others {
        ended = sessions::end_all_for_user_except(&mut tx, &user.id, current).await?;
        details["other_sessions_ended"] = json!(ended.sessions);
        details["tokens_ended"] = json!(ended.tokens);
    }
    history::append(&mut tx, &user.id, &Actor::user(&user.id, &user.email, source), Kind::MfaEnrolled, details).await?;
    tx.commit().await?;
    Ok(Enrolled { recovery_codes: codes, ended })
}

fn recovery_code() -> String {
    let secret = new_secret("");
    let letters: String =
        secret.chars().filter(|c| c.is_ascii_alphanumeric()).map(|c| c.to_ascii_lowercase()).take(12).collect();
    format!("{}-{}-{}", &letters[0..4], &letters[4..8], &letters[8..12])
}

/// Removes someone else's MFA (they lost their phone), under the
/// user-administration rule; one's own goes through `disable_own_mfa`.
pub async fn reset_mfa(
    state: &AppState,
    caller: &starship_core::authz::Principal,
    actor: &Actor,
    user_id: &UserId,
) -> OperationResult<()> {
    let mut tx = state.store.begin().await?;
    let user = crate::ops::users::visible_user(&mut tx, caller, user_id).await?;
    if caller.is(&user.id) {
        return Err(OperationError::Forbidden(
            "turn off your own two-step sign-in with a current code (POST /api/v1/me/mfa/disable)",
        ));
    }
    let held = users::principal(&mut tx, &user).await?;
    let standing = starship_core::portal::Standing::of_account(user.status, &held.roles);
    let administer = starship_core::authz::portal(
        caller,
        starship_core::portal::PortalAction::UserAdministration,
        user.partner(),
        Some((&user.id, standing)),
    );
    starship_core::authz::act_on_person(caller, &held, administer)?;
    if !mfa::remove(&mut tx, &user.id).await? {
        return Err(OperationError::NotFound);
    }
    history::append(&mut tx, &user.id, actor, Kind::MfaReset, json!({})).await?;
    tx.commit().await?;
    Ok(())
}

/// argon2 takes 19 MiB and most of a core per hash: a few at a time keep
/// memory and latency bounded under a burst of sign-ins instead of one
/// blocking thread (and its allocator arena) per concurrent request.
static HASHING_SLOTS: tokio::sync::Semaphore = tokio::sync::Semaphore::const_new(2);

async fn hashing<T: Send + 'static>(work: impl FnOnce() -> T + Send + 'static) -> Result<T, tokio::task::JoinError> {
    let _slot = HASHING_SLOTS.acquire().await.expect("the hashing semaphore is never closed");
    tokio::task::spawn_blocking(work).await
}

/// The roles and admin privileges a person acts with now.
pub async fn principal_of(state: &AppState, user: &User) -> OperationResult<starship_core::authz::Principal> {
    let mut conn = state.store.conn().await?;
    Ok(users::principal(&mut conn, user).await?)
}

/// One's own authenticator, enrolled or waiting for a first code: its
/// secret is shown to its owner only.
pub async fn own_totp(state: &AppState, user: &User) -> OperationResult<Option<mfa::Totp>> {
    let mut conn = state.store.conn().await?;
    Ok(mfa::totp_of(&mut conn, &user.id).await?)
}

/// Whether a person signs in in two steps (never their secret).
pub async fn mfa_on(state: &AppState, user: &User) -> OperationResult<bool> {
    Ok(own_totp(state, user).await?.is_some_and(|t| t.enabled))
}
