//! A declared source document's bytes, by whichever way gives them: plain HTTP, or the headless
//! browser for pages that need scripts. Choosing the way is fetching's own decision, made here
//! by the declaration and by the class of the failure, never by the words of an error message.

#[cfg(feature = "browser")]
use chrono::Utc;

#[cfg(feature = "browser")]
use super::browser::{BrowserPool, Rendered};
use super::{BrowserConfig, FetchConfig, Fetched, Fetcher};
use crate::declaration::SourceDocument;
use crate::{Error, FailureClass, Result};

/// Plain HTTP and the browser of a round: the browser is started only if a document needs it.
pub struct SourceFetcher {
    http: Fetcher,
    #[cfg(feature = "browser")]
    browsers: BrowserPool,
}

impl SourceFetcher {
    /// The HTTP client and the (not yet started) browser the settings give.
    pub fn new(fetch: &FetchConfig, browser: &BrowserConfig) -> Result<SourceFetcher> {
        #[cfg(not(feature = "browser"))]
        let _ = browser;
        Ok(SourceFetcher {
            http: Fetcher::new(fetch)?,
            #[cfg(feature = "browser")]
            browsers: BrowserPool::new(browser, fetch),
        })
    }

    /// A source document's bytes: in the browser when declared with `executeClientScripts:
    /// true`; over plain HTTP otherwise, tried once more in the browser when undeclared and the
    /// server answered with a challenge page (`blocked`). A host that does not answer (`connect`,
    /// `timeout`, `dns`, …) would not answer the browser either: its failure stands.
    pub async fn fetch(&self, source: &SourceDocument) -> Result<Fetched> {
        match source.execute_client_scripts {
            Some(true) => self.render(source).await,
            Some(false) => self.http.fetch(&source.fetch).await,
            None => match self.http.fetch(&source.fetch).await {
                Err(error) if worth_a_browser(&error) && self.browser_available() => {
                    tracing::info!(url = %source.fetch, "plain HTTP failed ({error}); trying the browser");
                    // When the browser fails too, the HTTP failure is the one worth reporting.
                    self.render(source).await.map_err(|browser_error| {
                        tracing::info!(url = %source.fetch, "the browser failed too: {browser_error}");
                        error
                    })
                }
                other => other,
            },
        }
    }

    /// Whether the browser was started in this round.
    pub fn browser_started(&self) -> bool {
        #[cfg(feature = "browser")]
        return self.browsers.was_started();
        #[cfg(not(feature = "browser"))]
        false
    }

    /// Closes the browser, if it was started.
    pub async fn close(&self) {
        #[cfg(feature = "browser")]
        self.browsers.close().await;
    }

    fn browser_available(&self) -> bool {
        #[cfg(feature = "browser")]
        return self.browsers.is_available();
        #[cfg(not(feature = "browser"))]
        false
    }

    /// A build without the browser cannot render: the document says so, and how to mend it.
    #[cfg(not(feature = "browser"))]
    async fn render(&self, source: &SourceDocument) -> Result<Fetched> {
        Err(crate::Error::NeedsBrowser {
            url: source.fetch.clone(),
            reason: "this policydiff was built without the `browser` feature (rebuild with default features)".into(),
        })
    }

    #[cfg(feature = "browser")]
    async fn render(&self, source: &SourceDocument) -> Result<Fetched> {
        match self.browsers.render(source).await? {
            Rendered::Html { html, final_url } => Ok(Fetched {
                bytes: html.into_bytes(),
                content_type: Some("text/html; charset=utf-8".into()),
                final_url,
                fetched_at: Utc::now(),
                deflated: None,
            }),
            // PDFs are recorded as the bytes served, not as the browser's viewer page.
            Rendered::Pdf { final_url } => self.http.fetch(&final_url).await,
        }
    }
}

/// Only a page that answered, with a challenge a browser may pass, is worth a browser.
fn worth_a_browser(error: &Error) -> bool {
    error.class() == FailureClass::Blocked
}
