//! The review page: the queue and each memo in a browser, served on this machine.
//!
//! [`serve`] answers on 127.0.0.1 unless told otherwise. `/` is the queue (drafts, most
//! significant first, filtered by status, service and topic); `/memos/<id>` shows a memo beside
//! the change itself (removed and added words highlighted, each quotation linked to its place in
//! the diff) with the reasons for its significance, and forms to approve, reject and edit it.
//! Writes are `POST /memos/<id>/approve`, `/reject` and `/edit`; each must carry the token the
//! pages hold (a form field `token`, or the `X-Policydiff-Token` header), so that another site
//! open in the reviewer's browser cannot act for them: without it the answer is 403 and nothing
//! changes. Listening on another address than loopback requires a password, which every request
//! must then give (HTTP basic authentication, any user name).
//!
//! Pages are askama templates (checked when policydiff is compiled) in `src/review/templates/`,
//! with their style and a little script inline: nothing is fetched from anywhere else.
//!
//! ```no_run
//! # async fn run() -> policydiff::Result<()> {
//! use policydiff::review::web::{serve, ServeOptions};
//!
//! let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
//! let config = policydiff::config::Config::default();
//! let options = ServeOptions::new(config, "Ana".into());
//! serve(listener, options, std::future::pending()).await?;
//! # Ok(()) }
//! ```

use std::sync::Arc;

use askama::Template;
use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use serde::Deserialize;

use super::{Edit, QueueFilter, StatusFilter};
use crate::analyse::plain_text;
use crate::audit::render::{self, Cell, DiffRow};
use crate::config::Config;
use crate::memo::{MemoStore, StoredMemo};
use crate::record::VersionsRepository;
use crate::{Error, Result};

/// What the server serves, and for whom.
#[derive(Debug, Clone)]
pub struct ServeOptions {
    /// The configuration: the memos folder, the versions repository, the notifications that
    /// follow a publication.
    pub config: Config,
    /// The name approvals and rejections are recorded under, unless the form gives one.
    pub reviewer: String,
    /// When set, every request must give this password (HTTP basic authentication).
    pub password: Option<String>,
    /// The token every write must carry (random unless set).
    pub token: String,
}

impl ServeOptions {
    /// Options with a fresh random token and no password.
    pub fn new(config: Config, reviewer: String) -> Self {
        let token: String = (0..32)
            .map(|_| format!("{:x}", rand::random_range(0..16u8)))
            .collect();
        ServeOptions {
            config,
            reviewer,
            password: None,
            token,
        }
    }
}

struct App {
    store: MemoStore,
    options: ServeOptions,
}

/// Serves the review pages on `listener` until `shutdown` completes.
pub async fn serve(
    listener: tokio::net::TcpListener,
    options: ServeOptions,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> Result<()> {
    let app = Arc::new(App {
        store: MemoStore::new(&options.config.memos.dir),
        options,
    });
    let router = Router::new()
        .route("/", get(queue_page))
        .route("/memos/{id}", get(memo_page))
        .route("/memos/{id}/approve", post(approve))
        .route("/memos/{id}/reject", post(reject))
        .route("/memos/{id}/edit", post(edit))
        .layer(axum::middleware::from_fn_with_state(
            app.clone(),
            require_password,
        ))
        .with_state(app);
    axum::serve(listener, router)
        .with_graceful_shutdown(shutdown)
        .await
        .map_err(|e| Error::io("the review server stopped", e))
}

async fn require_password(
    State(app): State<Arc<App>>,
    request: axum::extract::Request,
    next: axum::middleware::Next,
) -> Response {
    let Some(password) = &app.options.password else {
        return next.run(request).await;
    };
    let given = request
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Basic "))
        .and_then(|encoded| {
            use base64::Engine;
            base64::engine::general_purpose::STANDARD
                .decode(encoded.trim())
                .ok()
        })
        .and_then(|decoded| String::from_utf8(decoded).ok())
        .and_then(|pair| pair.split_once(':').map(|(_, p)| p.to_string()));
    if given.is_some_and(|given| constant_time_eq(given.as_bytes(), password.as_bytes())) {
        next.run(request).await
    } else {
        (
            StatusCode::UNAUTHORIZED,
            [(
                header::WWW_AUTHENTICATE,
                "Basic realm=\"policydiff review\"",
            )],
            "a password is needed",
        )
            .into_response()
    }
}

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

#[derive(Debug, Deserialize, Default)]
struct QueueQuery {
    status: Option<String>,
    service: Option<String>,
    topic: Option<String>,
}

/// One row of the queue.
struct QueueRow {
    id: String,
    title: String,
    status: String,
    significance: String,
    service: String,
    terms_type: String,
    topics: String,
    date: String,
}

/// Memos shown on the queue page at most (the most significant): a page stays light.
const QUEUE_ROWS: usize = 300;

#[derive(Template)]
#[template(path = "queue.html")]
struct QueuePage {
    token: String,
    /// How many memos the filter admits (more than the rows when cut).
    total: usize,
    rows: Vec<QueueRow>,
    status: String,
    statuses: Vec<Choice>,
    services: Vec<Choice>,
    topics: Vec<Choice>,
}

/// An option of a filter.
struct Choice {
    value: String,
    selected: bool,
}

fn choices(values: impl IntoIterator<Item = String>, selected: &str) -> Vec<Choice> {
    values
        .into_iter()
        .map(|value| Choice {
            selected: value == selected,
            value,
        })
        .collect()
}

async fn queue_page(State(app): State<Arc<App>>, Query(query): Query<QueueQuery>) -> Response {
    let status = query
        .status
        .as_deref()
        .and_then(StatusFilter::parse)
        .unwrap_or_default();
    let nonempty = |v: Option<String>| v.filter(|s| !s.is_empty());
    let filter = QueueFilter {
        status,
        service: nonempty(query.service),
        topic: nonempty(query.topic),
    };
    // One reading of the folder serves the filters' options and the rows.
    let everything = match super::queue(
        &app.store,
        &QueueFilter {
            status: StatusFilter::All,
            ..QueueFilter::default()
        },
    ) {
        Ok(all) => all,
        Err(error) => return error_page(StatusCode::INTERNAL_SERVER_ERROR, &error.to_string()),
    };
    let mut services: Vec<String> = everything
        .iter()
        .map(|e| e.document.service.clone())
        .collect();
    services.sort();
    services.dedup();
    let mut topics: Vec<String> = everything
        .iter()
        .flat_map(|e| e.topics.iter().cloned())
        .collect();
    topics.sort();
    topics.dedup();
    let entries: Vec<super::QueueEntry> = everything
        .into_iter()
        .filter(|e| filter.admits(e))
        .collect();
    let total = entries.len();
    let page = QueuePage {
        token: app.options.token.clone(),
        total,
        rows: entries
            .into_iter()
            .take(QUEUE_ROWS)
            .map(|e| QueueRow {
                id: e.id,
                title: e.title,
                status: e.status,
                significance: format!("{:.2}", e.significance),
                service: e.document.service,
                terms_type: e.document.terms_type,
                topics: e.topics.join(", "),
                date: e.date,
            })
            .collect(),
        status: status.as_str().to_string(),
        statuses: choices(
            ["draft", "published", "rejected", "all"].map(String::from),
            status.as_str(),
        ),
        services: choices(services, filter.service.as_deref().unwrap_or("")),
        topics: choices(topics, filter.topic.as_deref().unwrap_or("")),
    };
    render(&page)
}

struct FactorRow {
    feature: String,
    value: String,
    contribution: String,
    raises: bool,
}

#[derive(Template)]
#[template(path = "memo.html")]
struct MemoPage {
    token: String,
    id: String,
    title: String,
    status: String,
    service: String,
    terms_type: String,
    date: String,
    significance: String,
    topics: String,
    reviewed_by: String,
    rejection_reason: String,
    memo_html: String,
    description: String,
    body: String,
    factors: Vec<FactorRow>,
    rows: Vec<DiffRow>,
    diff_note: String,
    reviewer: String,
}

async fn memo_page(State(app): State<Arc<App>>, Path(id): Path<String>) -> Response {
    let memo = match super::find(&app.store, &id) {
        Ok(memo) => memo,
        Err(error) => return error_page(StatusCode::NOT_FOUND, &error.to_string()),
    };
    let front = match memo.open_file() {
        Ok(front) => front,
        Err(error) => return error_page(StatusCode::INTERNAL_SERVER_ERROR, &error.to_string()),
    };
    let title = front.get("title").unwrap_or_else(|| memo.title.clone());
    let description =
        crate::basics::unescape_html(&front.get("html_description").unwrap_or_default());
    let quotes = super::quotations(&format!("{title}\n{}", front.body));
    let (rows, diff_note) = match versions(&app.options, &memo) {
        Ok((before, after)) => (diff_rows(&before, &after, &quotes), String::new()),
        Err(error) => (Vec::new(), format!("The change cannot be shown: {error}")),
    };
    let anchored: Vec<String> = rows.iter().flat_map(|r| r.anchors.clone()).collect();
    let memo_html = link_quotations(&markdown_html(&front.body), &quotes, &anchored);
    let record = &memo.record;
    let page = MemoPage {
        token: app.options.token.clone(),
        id: memo.id.clone(),
        title,
        status: memo.status.clone(),
        service: record.document.service.clone(),
        terms_type: record.document.terms_type.clone(),
        date: record.date.clone().unwrap_or_default(),
        significance: format!("{:.2}", record.significance),
        topics: record.topics.join(", "),
        reviewed_by: front.get("reviewed_by").unwrap_or_default(),
        rejection_reason: front.get("rejection_reason").unwrap_or_default(),
        memo_html,
        description,
        body: front.body.clone(),
        factors: record
            .significance_factors
            .iter()
            .map(|f| FactorRow {
                feature: f.feature.replace('_', " "),
                value: format!("{:.2}", f.value),
                contribution: format!("{:+.2}", f.contribution),
                raises: f.contribution >= 0.0,
            })
            .collect(),
        rows,
        diff_note,
        reviewer: app.options.reviewer.clone(),
    };
    render(&page)
}

/// The texts before and after the change the memo describes.
fn versions(options: &ServeOptions, memo: &StoredMemo) -> Result<(String, String)> {
    let repository = VersionsRepository::open(&options.config.snapshots)?;
    let record = &memo.record;
    let text = |commit: &Option<String>| -> Result<String> {
        match commit {
            Some(commit) => repository.version_text_at(
                commit,
                &record.document.service,
                &record.document.terms_type,
            ),
            None => Ok(String::new()),
        }
    };
    Ok((text(&record.previous_commit)?, text(&record.commit)?))
}

/// Lines of context kept around each change.
const CONTEXT_LINES: usize = 2;

fn diff_rows(before: &str, after: &str, quotes: &[String]) -> Vec<DiffRow> {
    let mut rows = render::side_by_side_rows(before, after, CONTEXT_LINES);
    // Each quotation is anchored on the first changed row that holds it (else any row).
    let line_text = |cell: &Option<Cell>| {
        cell.as_ref().map_or(String::new(), |c| {
            let text: String = c.segments.iter().map(|s| s.text.as_str()).collect();
            super::collapse_whitespace(&plain_text(&text))
        })
    };
    let texts: Vec<(String, String)> = rows
        .iter()
        .map(|r| (line_text(&r.old), line_text(&r.new)))
        .collect();
    for (i, quote) in quotes.iter().enumerate() {
        let quote = super::collapse_whitespace(&plain_text(quote));
        let probe: String = quote.chars().take(60).collect();
        if probe.is_empty() {
            continue;
        }
        let holds = |(old, new): &(String, String)| old.contains(&probe) || new.contains(&probe);
        let found = (0..rows.len())
            .find(|&r| rows[r].kind == "changed" && holds(&texts[r]))
            .or_else(|| (0..rows.len()).find(|&r| holds(&texts[r])));
        if let Some(row) = found {
            rows[row].anchors.push(format!("q{i}"));
        }
    }
    rows
}

/// The memo's Markdown as HTML; HTML inside the Markdown is shown as text, never run.
fn markdown_html(markdown: &str) -> String {
    use pulldown_cmark::{Event, Parser};
    let events = Parser::new(markdown).map(|event| match event {
        Event::Html(html) | Event::InlineHtml(html) => Event::Text(html),
        other => other,
    });
    let mut html = String::new();
    pulldown_cmark::html::push_html(&mut html, events);
    html
}

/// Links each quotation of the rendered memo to its place in the diff.
fn link_quotations(html: &str, quotes: &[String], anchored: &[String]) -> String {
    let mut html = html.to_string();
    for (i, quote) in quotes.iter().enumerate() {
        let anchor = format!("q{i}");
        if !anchored.contains(&anchor) {
            continue;
        }
        // The quotation as the Markdown renderer wrote it, escapes and all.
        let mut needle = String::new();
        pulldown_cmark::html::push_html(
            &mut needle,
            std::iter::once(pulldown_cmark::Event::Text(format!("“{quote}”").into())),
        );
        if let Some(at) = html.find(&needle)
            && !html[..at].ends_with("\">")
        {
            let link = format!(
                "<a class=\"quote\" href=\"#{anchor}\" title=\"See it in the change\">{needle}</a>"
            );
            html.replace_range(at..at + needle.len(), &link);
        }
    }
    html
}

#[derive(Template)]
#[template(path = "message.html")]
struct MessagePage {
    heading: String,
    message: String,
    back: String,
    token: String,
    force_id: String,
    reviewer: String,
}

fn error_page(status: StatusCode, message: &str) -> Response {
    let page = MessagePage {
        heading: "Something is wrong".into(),
        message: message.to_string(),
        back: "/".into(),
        token: String::new(),
        force_id: String::new(),
        reviewer: String::new(),
    };
    (status, render(&page)).into_response()
}

fn render(page: &impl Template) -> Response {
    match page.render() {
        Ok(html) => Html(html).into_response(),
        Err(error) => (
            StatusCode::INTERNAL_SERVER_ERROR,
            format!("the page could not be rendered: {error}"),
        )
            .into_response(),
    }
}

/// The fields a write may carry.
#[derive(Debug, Deserialize, Default)]
struct ActionForm {
    token: Option<String>,
    by: Option<String>,
    reason: Option<String>,
    force: Option<String>,
    title: Option<String>,
    description: Option<String>,
    body: Option<String>,
}

/// The form of a write, when it carries the page's token; `None` otherwise.
fn authorised(app: &App, headers: &HeaderMap, body: &Bytes) -> Option<ActionForm> {
    let form: ActionForm = serde_urlencoded::from_bytes(body).unwrap_or_default();
    let token = headers
        .get("x-policydiff-token")
        .and_then(|v| v.to_str().ok())
        .map(str::to_string)
        .or_else(|| form.token.clone())?;
    constant_time_eq(token.as_bytes(), app.options.token.as_bytes()).then_some(form)
}

fn forbidden() -> Response {
    (
        StatusCode::FORBIDDEN,
        "this request does not carry the review page's token; use the review page to act on memos",
    )
        .into_response()
}

fn back_to(id: &str) -> Response {
    Redirect::to(&format!("/memos/{}", percent_encode(id))).into_response()
}

fn percent_encode(text: &str) -> String {
    percent_encoding::utf8_percent_encode(text, percent_encoding::NON_ALPHANUMERIC).to_string()
}

fn reviewer_name(app: &App, form: &ActionForm) -> String {
    form.by
        .as_deref()
        .map(str::trim)
        .filter(|b| !b.is_empty())
        .map_or_else(|| app.options.reviewer.clone(), str::to_string)
}

async fn approve(
    State(app): State<Arc<App>>,
    Path(id): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let Some(form) = authorised(&app, &headers, &body) else {
        return forbidden();
    };
    let force = form.force.as_deref().is_some_and(|f| !f.is_empty());
    let by = reviewer_name(&app, &form);
    let repository = match VersionsRepository::open(&app.options.config.snapshots) {
        Ok(repository) => repository,
        Err(error) => return error_page(StatusCode::INTERNAL_SERVER_ERROR, &error.to_string()),
    };
    match super::approve(&app.store, &repository, &id, &by, force) {
        Ok(memo) => {
            crate::notify::after_publishing(&app.options.config, memo).await;
            back_to(&id)
        }
        Err(error @ Error::UnverifiedQuotation { .. }) => {
            let page = MessagePage {
                heading: "Not approved: quotations not in the policy".into(),
                message: error.to_string(),
                back: format!("/memos/{}", percent_encode(&id)),
                token: app.options.token.clone(),
                force_id: id.clone(),
                reviewer: by,
            };
            (StatusCode::CONFLICT, render(&page)).into_response()
        }
        Err(error) => error_page(status_of(&error), &error.to_string()),
    }
}

fn status_of(error: &Error) -> StatusCode {
    match error {
        Error::InvalidArgument { .. } => StatusCode::BAD_REQUEST,
        _ => StatusCode::INTERNAL_SERVER_ERROR,
    }
}

async fn reject(
    State(app): State<Arc<App>>,
    Path(id): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let Some(form) = authorised(&app, &headers, &body) else {
        return forbidden();
    };
    let by = reviewer_name(&app, &form);
    match super::reject(&app.store, &id, form.reason.as_deref().unwrap_or(""), &by) {
        Ok(_) => {
            super::refresh_feeds(&app.options.config);
            back_to(&id)
        }
        Err(error) => error_page(status_of(&error), &error.to_string()),
    }
}

async fn edit(
    State(app): State<Arc<App>>,
    Path(id): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let Some(form) = authorised(&app, &headers, &body) else {
        return forbidden();
    };
    let changes = Edit {
        title: form.title,
        description: form.description,
        body: form.body,
    };
    match super::edit(&app.store, &id, &changes) {
        Ok(_) => {
            super::refresh_feeds(&app.options.config);
            back_to(&id)
        }
        Err(error) => error_page(status_of(&error), &error.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_diff_highlights_words_and_anchors_quotations() {
        let before = "# Policy\n\nWe collect your email.\n\nWe keep it.\n";
        let after = "# Policy\n\nWe collect your email and your AI chats.\n\nWe keep it.\n";
        let rows = diff_rows(before, after, &["your AI chats".to_string()]);
        let changed = rows.iter().find(|r| r.kind == "changed").unwrap();
        let new = changed.new.as_ref().unwrap();
        assert!(
            new.segments
                .iter()
                .any(|s| s.changed && s.text.contains("AI"))
        );
        assert_eq!(changed.anchors, ["q0"]);
    }

    #[test]
    fn markdown_html_never_runs_html_from_the_memo() {
        let html = markdown_html("It added “<script>alert(1)</script>”.");
        assert!(!html.contains("<script>"), "{html}");
    }
}
