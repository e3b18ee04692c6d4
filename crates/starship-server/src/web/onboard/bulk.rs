//! Bulk Add Users: paste rows, Apply checks them all and writes nothing,
//! Remove bad rows, Next creates them all (or none).

use askama::Template;
use axum::extract::State;
use serde::Deserialize;
use starship_core::ids::PartnerId;

use super::*;
use crate::ops::users::{self, BulkRow};
use crate::ops::OperationError;
use crate::state::AppState;
use crate::web::{page, refused, see_other, Action, FormErrors, Layout, Page, Section, WebPost, WebResult, WebUser};

/// A paste bigger than this goes through `starshipd users import` or the API.
const WEB_BULK_MAX_ROWS: usize = 500;

/// Bulk Add Users: the pasted rows and the button pressed.
#[derive(Deserialize)]
pub struct BulkForm {
    #[serde(default)]
    partner_id: String,
    #[serde(default)]
    rows: String,
    #[serde(default)]
    action: String,
}

/// A pasted line: email, locale, first name, last name, separated by tabs
/// (a spreadsheet) or commas. Blank lines and a header line are skipped.
fn parse_rows(text: &str) -> Vec<(String, BulkRow)> {
    text.lines()
        .map(str::trim)
        .filter(|line| !line.is_empty())
        .filter(|line| !line.to_ascii_lowercase().starts_with("email"))
        .map(|line| {
            let cells: Vec<&str> =
                if line.contains('\t') { line.split('\t').collect() } else { line.split(',').collect() };
            let cell = |i: usize| cells.get(i).map(|c| c.trim().to_string()).unwrap_or_default();
            (line.to_string(), BulkRow { email: cell(0), locale: cell(1), first_name: cell(2), last_name: cell(3) })
        })
        .collect()
}

struct ReviewRow {
    number: usize,
    email: String,
    locale: String,
    first_name: String,
    last_name: String,
    problems: Vec<String>,
    bad_fields: Vec<String>,
}

impl ReviewRow {
    fn bad(&self, field: &str) -> bool {
        self.bad_fields.iter().any(|f| f == field)
    }
}

#[derive(Template)]
#[template(path = "onboard_bulk_review.html")]
struct ReviewPage {
    layout: Layout,
    csrf: String,
    rows: Vec<ReviewRow>,
    text: String,
    partner_id: String,
    valid: usize,
    bad: usize,
    errors: FormErrors,
}

fn field_label(field: &str) -> &str {
    match field {
        "email" => "Email",
        "locale" => "Locale",
        "first_name" => "First name",
        "last_name" => "Last name",
        other => other,
    }
}

fn review(
    state: &AppState,
    viewer: &WebUser,
    lines: &[(String, BulkRow)],
    partner_id: &PartnerId,
    errors: &[starship_core::FieldError],
) -> ReviewPage {
    let rows: Vec<ReviewRow> = lines
        .iter()
        .enumerate()
        .map(|(i, (_, row))| {
            let mine: Vec<&starship_core::FieldError> = errors.iter().filter(|e| e.row == Some(i + 1)).collect();
            ReviewRow {
                number: i + 1,
                email: row.email.clone(),
                locale: row.locale.clone(),
                first_name: row.first_name.clone(),
                last_name: row.last_name.clone(),
                problems: mine.iter().map(|e| format!("{}: {}", field_label(&e.field), e.reason)).collect(),
                bad_fields: mine.iter().map(|e| e.field.clone()).collect(),
            }
        })
        .collect();
    let bad = rows.iter().filter(|r| !r.problems.is_empty()).count();
    ReviewPage {
        layout: viewer.layout(state, "Bulk Add Users", Section::Users),
        csrf: viewer.csrf.clone(),
        valid: rows.len() - bad,
        bad,
        rows,
        text: lines.iter().map(|(line, _)| line.as_str()).collect::<Vec<_>>().join("\n"),
        partner_id: partner_id.to_string(),
        errors: FormErrors::default(),
    }
}

/// Bulk Add Users: Apply checks every row and writes nothing; Remove bad
/// rows drops the refused ones; Next creates them all (or none).
pub async fn bulk(State(state): State<AppState>, post: WebPost<BulkForm>) -> WebResult {
    let viewer = &post.user;
    let form = &post.form;
    let partner_id = target_partner(&viewer.principal, &form.partner_id)?;
    let mut lines = parse_rows(&form.rows);
    let refuse_paste = |errors: FormErrors| async {
        let mut start = StartPage::new(&state, viewer).await?;
        start.rows = form.rows.clone();
        start.bulk_errors = errors;
        start.open_bulk = true;
        refused(&start)
    };
    if lines.len() > WEB_BULK_MAX_ROWS {
        let why = format!(
            "Paste at most {WEB_BULK_MAX_ROWS} rows at once here; larger batches go through `starshipd users import`"
        );
        return refuse_paste(FormErrors::field("rows", why)).await;
    }
    let actor = viewer.actor();
    let dry_run = |rows: Vec<BulkRow>| {
        let (state, principal, actor, partner_id) = (&state, &viewer.principal, &actor, &partner_id);
        async move { users::bulk_add(state, principal, actor, partner_id, &rows, true).await }
    };
    let rows = |lines: &[(String, BulkRow)]| lines.iter().map(|(_, r)| r.clone()).collect::<Vec<_>>();
    match form.action.as_str() {
        "next" => match users::bulk_add(&state, &viewer.principal, &actor, &partner_id, &rows(&lines), false).await {
            Ok(outcome) => {
                let users = outcome.created.into_iter().map(|u| u.id).collect();
                see_other(Page::OnboardPermissions { users, bulk: true })
            }
            Err(OperationError::Invalid(invalid)) if invalid.0.iter().all(|e| e.row.is_some()) => {
                refused(&review(&state, viewer, &lines, &partner_id, &invalid.0))
            }
            Err(e @ OperationError::Invalid(_)) => refuse_paste(FormErrors::from_error(e, &["rows"])?).await,
            Err(other) => Err(other.into()),
        },
        action => {
            let mut outcome = match dry_run(rows(&lines)).await {
                Ok(outcome) => outcome,
                Err(e @ OperationError::Invalid(_)) => {
                    return refuse_paste(FormErrors::from_error(e, &["rows"])?).await
                }
                Err(other) => return Err(other.into()),
            };
            if action == "remove-bad" && !outcome.errors.is_empty() {
                let bad: Vec<usize> = outcome.errors.iter().filter_map(|e| e.row).collect();
                lines =
                    lines.into_iter().enumerate().filter(|(i, _)| !bad.contains(&(i + 1))).map(|(_, l)| l).collect();
                outcome = match dry_run(rows(&lines)).await {
                    Ok(outcome) => outcome,
                    Err(e @ OperationError::Invalid(_)) => {
                        return refuse_paste(FormErrors::from_error(e, &["rows"])?).await;
                    }
                    Err(other) => return Err(other.into()),
                };
            }
            page(&review(&state, viewer, &lines, &partner_id, &outcome.errors))
        }
    }
}
