//! Webhooks: a round's notice posted as JSON, with a bearer token when one is configured, and
//! retried.

use std::time::Duration;

/// Posts `body` to `url`, three attempts with a growing pause; says why the last one failed.
pub(super) async fn post(
    url: &str,
    token: Option<String>,
    body: &serde_json::Value,
) -> std::result::Result<(), String> {
    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(10))
        .build()
        .map_err(|e| e.to_string())?;
    let mut last_error = String::new();
    for attempt in 0..3u32 {
        if attempt > 0 {
            tokio::time::sleep(Duration::from_millis(500 * 2u64.pow(attempt))).await;
        }
        let mut request = client
            .post(url)
            .header("Content-Type", "application/json")
            .body(body.to_string());
        if let Some(token) = &token {
            request = request.bearer_auth(token);
        }
        match request.send().await {
            Ok(response) if response.status().is_success() => return Ok(()),
            Ok(response) => last_error = format!("HTTP {}", response.status().as_u16()),
            Err(error) => last_error = error.to_string(),
        }
    }
    Err(last_error)
}
