//! Realistic pages for the benchmarks.
#![allow(dead_code)]

/// A page shaped like a large platform's privacy policy: navigation and scripts around a
/// main element of sections with headings, paragraphs with links, lists and tables.
pub fn policy_page(target_bytes: usize) -> String {
    seeded_policy_page(target_bytes, 0)
}

/// The same shape, with text that depends on `seed`.
pub fn seeded_policy_page(target_bytes: usize, seed: u32) -> String {
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

/// Serves HTML on 127.0.0.1 from a background thread: `page(path)` gives the body of each
/// request. Returns the port.
pub fn serve_html(page: impl Fn(&str) -> String + Send + Sync + 'static) -> u16 {
    use std::io::{BufRead, BufReader, Write};
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind 127.0.0.1");
    let port = listener.local_addr().expect("local address").port();
    let page = std::sync::Arc::new(page);
    std::thread::spawn(move || {
        for stream in listener.incoming().flatten() {
            let page = page.clone();
            std::thread::spawn(move || {
                let Ok(read_half) = stream.try_clone() else {
                    return;
                };
                let mut line = String::new();
                let _ = BufReader::new(read_half).read_line(&mut line);
                let body = page(line.split_whitespace().nth(1).unwrap_or("/"));
                let mut stream = stream;
                let _ = write!(
                    stream,
                    "HTTP/1.1 200 OK\r\nContent-Type: text/html; charset=utf-8\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                    body.len()
                );
            });
        }
    });
    port
}

/// Resident memory of a process, in kB (0 when it is gone).
#[allow(dead_code)]
pub fn rss_kb(pid: u32) -> u64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .unwrap_or_default()
        .lines()
        .find_map(|l| {
            l.strip_prefix("VmRSS:")
                .map(|v| v.trim().trim_end_matches(" kB").parse().unwrap_or(0))
        })
        .unwrap_or(0)
}

/// A temporary folder holding `declarations/<name>.json` for each declaration (named by its
/// `name`) and `config.yaml`, as `policydiff` run in it expects.
#[allow(dead_code)]
pub fn workspace(declarations: &[serde_json::Value], config_yaml: &str) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(dir.path().join("declarations")).unwrap();
    for declaration in declarations {
        let name = declaration["name"]
            .as_str()
            .expect("a declaration has a name");
        std::fs::write(
            dir.path().join(format!("declarations/{name}.json")),
            declaration.to_string(),
        )
        .unwrap();
    }
    std::fs::write(dir.path().join("config.yaml"), config_yaml).unwrap();
    dir
}
