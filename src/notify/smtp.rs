//! The e-mail digest of a round: its text, and its delivery over SMTP (STARTTLS, TLS, or none
//! for a local relay), the password from an environment variable or a file.

#[cfg(feature = "smtp")]
use std::time::Duration;

use super::RoundNotice;

/// The text of the e-mail digest: memos most significant first, then failures.
pub fn digest_text(notice: &RoundNotice) -> (String, String) {
    let mut memos = notice.memos.clone();
    memos.sort_by(|a, b| b.significance.total_cmp(&a.significance));
    let persistent = notice
        .failures
        .iter()
        .filter(|f| f.event == "persistent")
        .count();
    let subject = format!(
        "policydiff: {} change{} to review, {} persistent failure{}",
        memos.len(),
        if memos.len() == 1 { "" } else { "s" },
        persistent,
        if persistent == 1 { "" } else { "s" }
    );
    let mut body = String::new();
    if !memos.is_empty() {
        body.push_str("Changes (most significant first):\n\n");
        for memo in &memos {
            body.push_str(&format!(
                "- {} [{:.2}; {}]\n  {}\n",
                memo.title,
                memo.significance,
                if memo.topics.is_empty() {
                    "no topic".to_string()
                } else {
                    memo.topics.join(", ")
                },
                memo.link.as_deref().unwrap_or(&memo.path)
            ));
        }
        body.push('\n');
    }
    if !notice.facts.is_empty() {
        body.push_str("Policy facts that changed:\n\n");
        for change in &notice.facts {
            body.push_str(&format!(
                "- {}: {} now {} (was {})\n",
                change.document.service, change.question, change.to, change.from
            ));
            for evidence in &change.evidence {
                body.push_str(&format!(
                    "  “{}” ({}, {})\n",
                    evidence.quote, evidence.terms_type, evidence.date
                ));
            }
        }
        body.push('\n');
    }
    if !notice.failures.is_empty() {
        body.push_str("Documents:\n\n");
        for failure in &notice.failures {
            match failure.event.as_str() {
                "persistent" => body.push_str(&format!(
                    "- {} / {} has failed {} rounds in a row ({}): {}\n",
                    failure.document.service,
                    failure.document.terms_type,
                    failure.streak,
                    failure
                        .error_class
                        .map(crate::FailureClass::as_str)
                        .unwrap_or("?"),
                    failure.error.as_deref().unwrap_or("")
                )),
                _ => body.push_str(&format!(
                    "- {} / {} works again\n",
                    failure.document.service, failure.document.terms_type
                )),
            }
        }
    }
    (subject, body)
}

#[cfg(feature = "smtp")]
async fn send(
    email: &crate::config::EmailConfig,
    notice: &RoundNotice,
) -> std::result::Result<(), String> {
    use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};
    let (subject, body) = digest_text(notice);
    let mut message = Message::builder()
        .from(email.from.parse().map_err(|e| format!("from: {e}"))?)
        .subject(subject);
    for to in &email.to {
        message = message.to(to.parse().map_err(|e| format!("to {to}: {e}"))?);
    }
    let message = message.body(body).map_err(|e| e.to_string())?;
    let mut transport = match email.security.as_str() {
        "tls" => {
            AsyncSmtpTransport::<Tokio1Executor>::relay(&email.host).map_err(|e| e.to_string())?
        }
        "none" => AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(&email.host),
        _ => AsyncSmtpTransport::<Tokio1Executor>::starttls_relay(&email.host)
            .map_err(|e| e.to_string())?,
    };
    if let Some(port) = email.port {
        transport = transport.port(port);
    }
    let password = match (&email.password_env, &email.password_file) {
        (Some(name), _) => std::env::var(name).ok(),
        (None, Some(path)) => std::fs::read_to_string(path)
            .ok()
            .map(|p| p.trim().to_string()),
        _ => None,
    };
    if let (Some(user), Some(password)) = (&email.username, password) {
        transport = transport.credentials(
            lettre::transport::smtp::authentication::Credentials::new(user.clone(), password),
        );
    }
    transport
        .timeout(Some(Duration::from_secs(30)))
        .build()
        .send(message)
        .await
        .map(|_| ())
        .map_err(|e| e.to_string())
}

/// Sends the digest, in a build with the `smtp` feature; says why not otherwise.
pub(super) async fn send_if_built(
    email: &crate::config::EmailConfig,
    notice: &RoundNotice,
) -> std::result::Result<(), String> {
    #[cfg(feature = "smtp")]
    return send(email, notice).await;
    #[cfg(not(feature = "smtp"))]
    {
        let _ = (email, notice);
        Err("this policydiff was built without the `smtp` feature".into())
    }
}
