//! Realistic pages and memory readings for the benchmarks; servers and workspaces are the
//! tests' own (`tests/common`), shared through `benches/common.rs`.
#![allow(dead_code)]

/// A page shaped like a large platform's privacy policy: navigation and scripts around a
/// main element of sections with headings, paragraphs with links, lists and tables.
pub(crate) fn policy_page(target_bytes: usize) -> String {
    seeded_policy_page(target_bytes, 0)
}

/// The same shape, with text that depends on `seed`.
pub(crate) fn seeded_policy_page(target_bytes: usize, seed: u32) -> String {
    let words = [
        "we",
        "collect",
        "information",
        "about",
        "your",
        "activity",
        "on",
        "our",
        "Products",
        "including",
        "content",
        "you",
        "create",
        "interactions",
        "with",
        "AI",
        "features",
        "partners",
        "advertising",
        "personalise",
        "retention",
        "legal",
        "requests",
        "transfer",
    ];
    let mut state = 0x9E37_79B9_u32 ^ seed;
    let mut next = move || {
        state ^= state << 13;
        state ^= state >> 17;
        state ^= state << 5;
        state as usize
    };
    let sentence = |n: usize, next: &mut dyn FnMut() -> usize| {
        (0..n)
            .map(|_| words[next() % words.len()])
            .collect::<Vec<_>>()
            .join(" ")
    };
    let mut page = String::from(
        "<!DOCTYPE html><html><head><meta charset=\"utf-8\"><title>Privacy Policy</title>\
         <style>body{font:16px sans-serif}</style><script>window.dataLayer=[];</script></head><body>\
         <nav><ul><li><a href=\"/\">Home</a></li><li><a href=\"/help\">Help</a></li></ul></nav>\
         <div class=\"cookie-banner\">We use cookies <button>OK</button></div><main>",
    );
    let mut section = 0;
    while page.len() < target_bytes {
        section += 1;
        page.push_str(&format!(
            "<section id=\"s{section}\"><h2>{section}. {}</h2>",
            sentence(5, &mut next)
        ));
        for _ in 0..4 {
            page.push_str(&format!(
                "<p>{} <a href=\"/policies/{}?utm_source=policy\">{}</a> {}.</p>\n",
                sentence(25, &mut next),
                next() % 1000,
                sentence(3, &mut next),
                sentence(20, &mut next)
            ));
        }
        page.push_str("<ul>");
        for _ in 0..5 {
            page.push_str(&format!(
                "<li><strong>{}</strong>: {}</li>",
                sentence(2, &mut next),
                sentence(12, &mut next)
            ));
        }
        page.push_str("</ul><table><thead><tr><th>Data</th><th>Purpose</th><th>Retention</th></tr></thead><tbody>");
        for _ in 0..3 {
            page.push_str(&format!(
                "<tr><td>{}</td><td>{}</td><td>{} days</td></tr>",
                sentence(2, &mut next),
                sentence(6, &mut next),
                next() % 365
            ));
        }
        page.push_str("</tbody></table></section>\n");
    }
    page.push_str("</main><footer>© Example</footer><script>track()</script></body></html>");
    page
}

/// Resident memory of a process, in kB (0 when it is gone).
#[allow(dead_code)]
pub(crate) fn rss_kb(pid: u32) -> u64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .unwrap_or_default()
        .lines()
        .find_map(|l| {
            l.strip_prefix("VmRSS:")
                .map(|v| v.trim().trim_end_matches(" kB").parse().unwrap_or(0))
        })
        .unwrap_or(0)
}

/// The page as a policy edit leaves it: one sentence added to a section, one word changed in
/// another, a list item added — the shape of most recorded changes, unlike a rewrite.
pub(crate) fn edited_policy_page(page: &str, seed: u32) -> String {
    let mut edited = page.replacen(
        "</h2>",
        &format!(
            "</h2><p>We may use your interactions with AI features to personalise ads and content (change {seed}).</p>"
        ),
        1,
    );
    if let Some(at) = edited.match_indices("<p>").nth(6).map(|(at, _)| at + 3) {
        edited.insert_str(at, "Where the law allows, ");
    }
    edited.replacen(
        "<ul>",
        &format!(
            "<ul><li><strong>Retention</strong>: we keep chats for {} days</li>",
            30 + seed % 60
        ),
        1,
    )
}
