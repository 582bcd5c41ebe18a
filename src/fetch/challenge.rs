//! Recognising pages that stand in for the document: anti-bot challenges, block pages, captcha
//! walls and login walls. Such a page must never be recorded as a version, even when it happens
//! to contain the element a declaration selects (a site template around a block message).
//!
//! [`challenge`] looks at the whole page as served (or as rendered by the browser), before any
//! selection, for markers of each vendor: the addresses of their challenge scripts and frames
//! (in the head, in scripts, in iframes), their script globals, and the words of their block
//! messages. Markers are chosen so that a policy that merely *names* a vendor — a cookie table
//! listing `datadome` or `visid_incap_` cookies, a sentence saying "we use Cloudflare" — is not
//! taken for a challenge: an address counts only inside an attribute or a script, and a vendor's
//! name alone only on an error status.
//!
//! ```
//! use policydiff::fetch::challenge::challenge;
//!
//! let block = b"<html><body><main><iframe src=\"/_Incapsula_Resource?SWUDNSAI=31\"></iframe>
//!     Request unsuccessful. Incapsula incident ID: 123</main></body></html>";
//! assert_eq!(challenge(200, block, "https://a/p", "https://a/p"), Some("an Imperva Incapsula block page"));
//! let policy = b"<main><p>Our cookies: datadome, visid_incap_123 (Imperva).</p></main>";
//! assert_eq!(challenge(200, policy, "https://a/p", "https://a/p"), None);
//! ```

/// Whether `text` (lower case) holds `needle` inside a quoted value: an attribute
/// (`src="…needle`, `href='…needle`) or a string in a script — not in running text, where a
/// policy may name the same address.
fn referenced(text: &str, needle: &str) -> bool {
    text.match_indices(needle).any(|(at, _)| {
        // Walk back over the URL's characters to what opens it.
        let before = &text[..at];
        let start = before
            .rfind(|c: char| c.is_whitespace() || matches!(c, '"' | '\'' | '(' | '`' | '<' | '>'))
            .map(|i| i + 1)
            .unwrap_or(0);
        let opener = before[..start].chars().next_back();
        matches!(opener, Some('"' | '\'' | '`'))
    })
}

/// Visible words of a page, roughly: the text outside tags, scripts and styles, to tell a
/// captcha wall (little else on it) from a long page that embeds a captcha in a form.
fn visible_text_len(text: &str) -> usize {
    let mut visible = 0;
    let mut rest = text;
    while let Some(open) = rest.find('<') {
        visible += rest[..open].trim().len();
        rest = &rest[open..];
        let skip_to = if rest.starts_with("<script") {
            "</script>"
        } else if rest.starts_with("<style") {
            "</style>"
        } else {
            ">"
        };
        match rest.find(skip_to) {
            Some(end) => rest = &rest[end + skip_to.len()..],
            None => return visible,
        }
    }
    visible + rest.trim().len()
}

/// Every marker the checks below look for: found in one pass over the page (a page is read
/// once, not once per marker — this runs for every page fetched).
const MARKERS: &[&str] = &[
    "window._cf_chl_opt",
    "cf-browser-verification",
    "<title>just a moment...</title>",
    "cloudflare",
    "attention required! | cloudflare",
    "sorry, you have been blocked",
    "cloudflare ray id",
    "incapsula incident id",
    "request unsuccessful. incapsula",
    "var dd={",
    "'cid'",
    "datadome",
    "id=\"px-captcha\"",
    "_pxcaptcha",
    "window._pxappid",
    "perimeterx",
    "px-captcha",
    "window.kpsdk",
    "kpsdk.scriptstart",
    "x-kpsdk-ct",
    "awswafintegration",
    "window.gokuprops",
    "aws-waf-token",
    "bm-verify",
    "errors.edgesuite.net",
    "<title>access denied</title>",
    "you don't have permission to access",
    "reference&#32;&#35;",
    "reference #",
    "the requested url was rejected",
    "your support id is",
    "sucuri_cloudproxy_js",
    "sucuri website firewall",
    "cloudproxy@sucuri.net",
    "class=\"g-recaptcha\"",
    "class=\"h-captcha\"",
    "/cdn-cgi/challenge-platform/",
    "/_incapsula_resource",
    "captcha-delivery.com",
    "px-cloud.net",
    "px-cdn.net",
    ".awswaf.com/",
    "/_sec/cp_challenge/",
    "hcaptcha.com/1/api.js",
    "google.com/recaptcha/api.js",
    "recaptcha.net/recaptcha/api.js",
];

/// Whether a page (in ASCII lower case) holds any marker at all: a leftmost search, which can
/// skip ahead with a vectorised prefilter.
static ANY_MARKER: std::sync::LazyLock<aho_corasick::AhoCorasick> =
    std::sync::LazyLock::new(|| {
        aho_corasick::AhoCorasick::builder()
            .match_kind(aho_corasick::MatchKind::LeftmostFirst)
            .build(MARKERS)
            .expect("the markers are plain strings")
    });

/// Finds every marker in the page's bytes as served, overlapping ones included, ignoring ASCII
/// case (the markers are ASCII).
static MARKER_FINDER: std::sync::LazyLock<aho_corasick::AhoCorasick> =
    std::sync::LazyLock::new(|| {
        aho_corasick::AhoCorasick::builder()
            .ascii_case_insensitive(true)
            .kind(Some(aho_corasick::AhoCorasickKind::DFA))
            .build(MARKERS)
            .expect("the markers are plain strings")
    });

/// Whether the page holds any marker, in any ASCII case. Most pages hold none, and are passed
/// over in a sixth of the time a search for every marker takes. The page is lower-cased a
/// chunk at a time (no copy of a large PDF), the chunks overlapping by a marker's length less
/// one, so that a marker across two chunks is seen whole in one.
fn holds_any_marker(body: &[u8]) -> bool {
    const CHUNK: usize = 64 * 1024;
    let overlap = MARKERS.iter().map(|m| m.len()).max().unwrap_or(1) - 1;
    let mut chunk = Vec::with_capacity(CHUNK.min(body.len()) + overlap);
    let mut start = 0;
    while start < body.len() {
        let end = (start + CHUNK + overlap).min(body.len());
        chunk.clear();
        chunk.extend(body[start..end].iter().map(u8::to_ascii_lowercase));
        if ANY_MARKER.is_match(&chunk) {
            return true;
        }
        start += CHUNK;
    }
    false
}

/// Recognises a page standing in for the document; returns what it is, for the `blocked`
/// failure's message. `status` is the HTTP status (200 for a rendered page).
pub fn challenge(
    status: u16,
    body: &[u8],
    requested: &str,
    final_url: &str,
) -> Option<&'static str> {
    let mut present = vec![false; MARKERS.len()];
    if holds_any_marker(body) {
        for found in MARKER_FINDER.find_overlapping_iter(body) {
            present[found.pattern().as_usize()] = true;
        }
    }
    // The page in lower case, made only when a check needs more than a marker's presence.
    let lower = std::cell::OnceCell::new();
    let text =
        || -> &str { lower.get_or_init(|| String::from_utf8_lossy(body).to_ascii_lowercase()) };
    let has = |marker: &str| match MARKERS.iter().position(|m| *m == marker) {
        Some(index) => present[index],
        None => text().contains(marker),
    };
    // A URL is looked for where it occurs only if it occurs at all.
    let references = |needle: &str| has(needle) && referenced(text(), needle);
    let error = status >= 400;

    // Cloudflare: the challenge platform's scripts, its options global, its interstitial, and
    // the block page of its firewall ("Sorry, you have been blocked").
    if references("/cdn-cgi/challenge-platform/")
        || has("window._cf_chl_opt")
        || has("cf-browser-verification")
        || (has("<title>just a moment...</title>") && has("cloudflare"))
        || ((has("attention required! | cloudflare") || has("sorry, you have been blocked"))
            && (error || has("cloudflare ray id")))
    {
        return Some("a Cloudflare challenge or block page");
    }
    // Imperva Incapsula: its resource endpoint in a script or frame, its incident message.
    if references("/_incapsula_resource")
        || has("incapsula incident id")
        || has("request unsuccessful. incapsula")
    {
        return Some("an Imperva Incapsula block page");
    }
    // DataDome: its captcha host in a frame or script, its `dd` global.
    if references("captcha-delivery.com")
        || (has("var dd={") && has("'cid'"))
        || (error && has("datadome"))
    {
        return Some("a DataDome captcha page");
    }
    // PerimeterX / HUMAN: its captcha element and globals.
    if has("id=\"px-captcha\"")
        || has("_pxcaptcha")
        || has("window._pxappid")
        || references("px-cloud.net")
        || references("px-cdn.net")
        || (error && (has("perimeterx") || has("px-captcha")))
    {
        return Some("a PerimeterX (HUMAN) captcha page");
    }
    // Kasada: its SDK global and headers, its `ips.js` challenge.
    if has("window.kpsdk") || has("kpsdk.scriptstart") || has("x-kpsdk-ct") {
        return Some("a Kasada challenge page");
    }
    // AWS WAF: the challenge integration and its token.
    if has("awswafintegration")
        || references(".awswaf.com/")
        || has("window.gokuprops")
        || (error && has("aws-waf-token"))
    {
        return Some("an AWS WAF challenge page");
    }
    // Akamai: the Bot Manager challenge, and the edge's access-denied page.
    if references("/_sec/cp_challenge/")
        || has("bm-verify")
        || (error && has("errors.edgesuite.net"))
        || (has("<title>access denied</title>")
            && has("you don't have permission to access")
            // As served (entities), or as a browser renders it.
            && (has("reference&#32;&#35;") || has("reference #")))
    {
        return Some("an Akamai block page");
    }
    // F5 BIG-IP ASM (and Shape, behind it): the rejection message with a support ID.
    if has("the requested url was rejected") && has("your support id is") {
        return Some("an F5 BIG-IP block page");
    }
    // Sucuri: the firewall's block page and its JavaScript challenge.
    if has("sucuri_cloudproxy_js") || has("sucuri website firewall") || has("cloudproxy@sucuri.net")
    {
        return Some("a Sucuri firewall page");
    }
    // A captcha wall: a captcha widget and little else, or on an error status.
    let captcha = has("class=\"g-recaptcha\"")
        || has("class=\"h-captcha\"")
        || references("hcaptcha.com/1/api.js")
        || references("google.com/recaptcha/api.js")
        || references("recaptcha.net/recaptcha/api.js");
    if captcha && (error || visible_text_len(text()) < 1500) {
        return Some("a captcha page");
    }
    let login = |url: &str| {
        let lower = url.to_ascii_lowercase();
        ["/login", "/signin", "/sign-in", "/accounts/login", "/auth/"]
            .iter()
            .any(|p| lower.contains(p))
    };
    if login(final_url) && !login(requested) {
        return Some("a login wall");
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn recognises_challenges_but_not_policies_that_name_vendors() {
        let cloudflare = b"<html><head><title>Just a moment...</title></head><body><script src=\"/cdn-cgi/challenge-platform/h/b/orchestrate\"></script></body></html>";
        assert_eq!(
            challenge(403, cloudflare, "https://a/p", "https://a/p"),
            Some("a Cloudflare challenge or block page")
        );
        let policy = b"<p>We use DataDome and Cloudflare to protect our services against bots. \
            Cookies: datadome (DataDome), __cf_bm (Cloudflare), visid_incap_1234 and \
            incap_ses_1234 (Imperva), _px3 (HUMAN). Requests may pass through \
            captcha-delivery.com and /cdn-cgi/challenge-platform/ endpoints.</p>";
        assert_eq!(challenge(200, policy, "https://a/p", "https://a/p"), None);
        assert_eq!(
            challenge(
                200,
                b"<p>x</p>",
                "https://a/privacy",
                "https://a/login?next=/privacy"
            ),
            Some("a login wall")
        );
    }

    #[test]
    fn a_long_page_with_a_captcha_in_its_contact_form_is_not_a_wall() {
        let mut page = String::from("<main>");
        for _ in 0..40 {
            page.push_str(
                "<p>We process your personal data to provide the service and keep it safe.</p>",
            );
        }
        page.push_str("<form><div class=\"g-recaptcha\" data-sitekey=\"x\"></div></form></main>");
        assert_eq!(
            challenge(200, page.as_bytes(), "https://a/p", "https://a/p"),
            None
        );
        let wall = "<html><body><h1>One more step</h1><form><div class=\"g-recaptcha\" data-sitekey=\"x\"></div></form></body></html>";
        assert_eq!(
            challenge(200, wall.as_bytes(), "https://a/p", "https://a/p"),
            Some("a captcha page")
        );
    }

    #[test]
    fn markers_are_lower_case_and_found_in_any_case() {
        // A page is first searched in ASCII lower case: a marker with a capital would never
        // match.
        for marker in MARKERS {
            assert_eq!(marker.to_ascii_lowercase(), *marker);
        }
        let block = b"<HTML><Script>WINDOW._CF_CHL_OPT={}</Script></HTML>";
        assert_eq!(
            challenge(200, block, "https://a/p", "https://a/p"),
            Some("a Cloudflare challenge or block page")
        );
        // A marker across the quick search's chunks (64 KiB) is seen whole.
        for at in [65_536 - 10, 65_536 - 1, 65_536, 2 * 65_536 - 5] {
            let mut page = vec![b'x'; 3 * 65_536];
            let marker = b"Window._CF_chl_opt";
            page[at..at + marker.len()].copy_from_slice(marker);
            assert_eq!(
                challenge(200, &page, "https://a/p", "https://a/p"),
                Some("a Cloudflare challenge or block page"),
                "marker at {at}"
            );
        }
    }

    #[test]
    fn references_are_told_from_mentions() {
        assert!(referenced(
            "<script src=\"/_incapsula_resource?x=1\">",
            "/_incapsula_resource"
        ));
        assert!(referenced(
            "<iframe src='https://geo.captcha-delivery.com/captcha/'>",
            "captcha-delivery.com"
        ));
        assert!(referenced(
            "fetch(\"https://x.token.awswaf.com/c.js\")",
            ".awswaf.com/"
        ));
        assert!(!referenced(
            "<td>captcha-delivery.com</td>",
            "captcha-delivery.com"
        ));
        assert!(!referenced(
            "cookies set by captcha-delivery.com",
            "captcha-delivery.com"
        ));
    }
}
