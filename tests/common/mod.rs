//! A small HTTP server on 127.0.0.1 for tests, whose pages and misbehaviours the test sets.
#![allow(dead_code)]

use std::collections::HashMap;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// What the server does for one path.
#[derive(Clone, Debug)]
pub(crate) enum Behaviour {
    /// Answer with this status, headers and body.
    Respond {
        status: u16,
        headers: Vec<(String, String)>,
        body: Vec<u8>,
    },
    /// Answer these in turn (the last one repeats).
    Sequence(Vec<Behaviour>),
    /// Accept and never answer.
    Hang,
    /// Close the connection without answering.
    Reset,
    /// Wait this many milliseconds, then behave as the inner behaviour.
    Delayed(u64, Box<Behaviour>),
    /// Write these bytes as they are (status line and headers included), then close.
    Raw(Vec<u8>),
    /// Write these bytes, then reset the connection (RST, not a clean close).
    RawThenReset(Vec<u8>),
    /// Write these bytes one at a time, this many milliseconds apart.
    Trickle(Vec<u8>, u64),
}

impl Behaviour {
    pub(crate) fn html(body: &str) -> Behaviour {
        Behaviour::Respond {
            status: 200,
            headers: vec![("Content-Type".into(), "text/html; charset=utf-8".into())],
            body: body.as_bytes().to_vec(),
        }
    }

    /// An HTML page sent gzip-compressed as `gzip` (its bytes, however made), as most web
    /// servers send pages.
    pub(crate) fn gzip_html(gzip: Vec<u8>) -> Behaviour {
        Behaviour::Respond {
            status: 200,
            headers: vec![
                ("Content-Type".into(), "text/html; charset=utf-8".into()),
                ("Content-Encoding".into(), "gzip".into()),
            ],
            body: gzip,
        }
    }

    pub(crate) fn status(status: u16, body: &str) -> Behaviour {
        Behaviour::Respond {
            status,
            headers: vec![("Content-Type".into(), "text/html".into())],
            body: body.as_bytes().to_vec(),
        }
    }

    pub(crate) fn redirect(to: &str) -> Behaviour {
        Behaviour::Respond {
            status: 302,
            headers: vec![("Location".into(), to.into())],
            body: Vec::new(),
        }
    }
}

#[derive(Default)]
struct State {
    routes: HashMap<String, Behaviour>,
    hits: HashMap<String, usize>,
    in_flight: usize,
    max_in_flight: usize,
    starts: Vec<(String, Instant)>,
    /// The header lines of the last request for each path.
    headers: HashMap<String, Vec<String>>,
}

/// The server; it stops with the test process.
#[derive(Clone)]
pub(crate) struct Server {
    pub port: u16,
    state: Arc<Mutex<State>>,
    served: Arc<AtomicUsize>,
}

impl Server {
    pub(crate) fn start() -> Server {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind 127.0.0.1");
        let port = listener.local_addr().unwrap().port();
        let server = Server {
            port,
            state: Arc::new(Mutex::new(State::default())),
            served: Arc::new(AtomicUsize::new(0)),
        };
        let handle = server.clone();
        std::thread::spawn(move || {
            for stream in listener.incoming().flatten() {
                let handle = handle.clone();
                std::thread::spawn(move || handle.serve(stream));
            }
        });
        server
    }

    pub(crate) fn url(&self, path: &str) -> String {
        format!("http://127.0.0.1:{}{path}", self.port)
    }

    pub(crate) fn set(&self, path: &str, behaviour: Behaviour) {
        self.state
            .lock()
            .unwrap()
            .routes
            .insert(path.to_string(), behaviour);
    }

    pub(crate) fn hits(&self, path: &str) -> usize {
        self.state
            .lock()
            .unwrap()
            .hits
            .get(path)
            .copied()
            .unwrap_or(0)
    }

    pub(crate) fn max_in_flight(&self) -> usize {
        self.state.lock().unwrap().max_in_flight
    }

    pub(crate) fn request_starts(&self) -> Vec<(String, Instant)> {
        self.state.lock().unwrap().starts.clone()
    }

    /// The value of a header (name in any case) in the last request for `path`.
    pub(crate) fn request_header(&self, path: &str, name: &str) -> Option<String> {
        self.state
            .lock()
            .unwrap()
            .headers
            .get(path)?
            .iter()
            .find_map(|line| {
                let (key, value) = line.split_once(':')?;
                key.trim()
                    .eq_ignore_ascii_case(name)
                    .then(|| value.trim().to_string())
            })
    }

    fn serve(&self, mut stream: TcpStream) {
        stream.set_read_timeout(Some(Duration::from_secs(10))).ok();
        let mut reader = BufReader::new(stream.try_clone().unwrap());
        let mut request_line = String::new();
        if reader.read_line(&mut request_line).is_err() {
            return;
        }
        let mut header_lines = Vec::new();
        loop {
            let mut line = String::new();
            if reader.read_line(&mut line).unwrap_or(0) == 0 || line == "\r\n" {
                break;
            }
            header_lines.push(line.trim_end().to_string());
        }
        let path = request_line
            .split_whitespace()
            .nth(1)
            .unwrap_or("/")
            .to_string();
        let behaviour = {
            let mut state = self.state.lock().unwrap();
            let hit = {
                let hits = state.hits.entry(path.clone()).or_default();
                *hits += 1;
                *hits
            };
            state.in_flight += 1;
            state.max_in_flight = state.max_in_flight.max(state.in_flight);
            state.starts.push((path.clone(), Instant::now()));
            state.headers.insert(path.clone(), header_lines);
            let behaviour = state
                .routes
                .get(&path)
                .cloned()
                .unwrap_or(Behaviour::status(404, "not found"));
            match behaviour {
                Behaviour::Sequence(steps) => steps[(hit - 1).min(steps.len() - 1)].clone(),
                other => other,
            }
        };
        // Hold the request a little so that concurrent requests overlap visibly.
        std::thread::sleep(Duration::from_millis(20));
        let behaviour = match behaviour {
            Behaviour::Delayed(ms, inner) => {
                std::thread::sleep(Duration::from_millis(ms));
                *inner
            }
            other => other,
        };
        // A response is counted out of flight before it is written: the client may read it
        // whole and send its next request before this thread gets to run again.
        let mut answered = false;
        match behaviour {
            Behaviour::Respond {
                status,
                headers,
                body,
            } => {
                self.state.lock().unwrap().in_flight -= 1;
                answered = true;
                let mut head = format!(
                    "HTTP/1.1 {status} X\r\nContent-Length: {}\r\nConnection: close\r\n",
                    body.len()
                );
                for (name, value) in headers {
                    head.push_str(&format!("{name}: {value}\r\n"));
                }
                head.push_str("\r\n");
                let _ = stream.write_all(head.as_bytes());
                let _ = stream.write_all(&body);
            }
            Behaviour::Hang => std::thread::sleep(Duration::from_secs(30)),
            Behaviour::Raw(bytes) => {
                let _ = stream.write_all(&bytes);
            }
            Behaviour::RawThenReset(bytes) => {
                let _ = stream.write_all(&bytes);
                let _ = stream.flush();
                // A zero linger time turns the close into a reset.
                let _ = socket2_free_linger_zero(&stream);
                self.state.lock().unwrap().in_flight -= 1;
                return;
            }
            Behaviour::Trickle(bytes, pause) => {
                for byte in bytes {
                    if stream.write_all(&[byte]).is_err() {
                        break;
                    }
                    let _ = stream.flush();
                    std::thread::sleep(Duration::from_millis(pause));
                }
            }
            Behaviour::Reset | Behaviour::Sequence(_) | Behaviour::Delayed(..) => {}
        }
        let _ = stream.flush();
        if !answered {
            self.state.lock().unwrap().in_flight -= 1;
        }
        self.served.fetch_add(1, Ordering::SeqCst);
        let _ = stream.shutdown(std::net::Shutdown::Both);
        let mut rest = Vec::new();
        let _ = reader.read_to_end(&mut rest);
    }
}

/// Sets SO_LINGER to zero so that dropping the stream sends a reset.
fn socket2_free_linger_zero(stream: &std::net::TcpStream) -> std::io::Result<()> {
    use std::os::fd::AsRawFd;
    let linger = libc::linger {
        l_onoff: 1,
        l_linger: 0,
    };
    // SAFETY: setsockopt on a socket this function borrows, with a correctly sized value.
    let result = unsafe {
        libc::setsockopt(
            stream.as_raw_fd(),
            libc::SOL_SOCKET,
            libc::SO_LINGER,
            &linger as *const libc::linger as *const libc::c_void,
            std::mem::size_of::<libc::linger>() as libc::socklen_t,
        )
    };
    if result == 0 {
        Ok(())
    } else {
        Err(std::io::Error::last_os_error())
    }
}

/// Serves pages computed per request on 127.0.0.1 from background threads, without any of
/// [`Server`]'s pauses (for benchmarks and soak runs): `page(path)` gives the HTML body.
/// Returns the port.
pub(crate) fn serve_fn(page: impl Fn(&str) -> String + Send + Sync + 'static) -> u16 {
    serve_pages(move |path| ServedPage {
        html: Arc::new(page(path)),
        gzip: None,
    })
}

/// A page [`serve_pages`] sends: its HTML, and the same HTML gzip-compressed ahead, if it was
/// (sent to clients that accept gzip, as web servers send pages).
#[derive(Clone)]
pub(crate) struct ServedPage {
    pub html: Arc<String>,
    pub gzip: Option<Arc<Vec<u8>>>,
}

impl ServedPage {
    /// The page, with its gzip form made now (zlib's default level, as web servers use).
    pub(crate) fn gzipped(html: String) -> ServedPage {
        let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
        encoder.write_all(html.as_bytes()).unwrap();
        ServedPage {
            html: Arc::new(html),
            gzip: Some(Arc::new(encoder.finish().unwrap())),
        }
    }
}

/// [`serve_fn`] for pages that may be sent gzip-compressed: to a request that accepts gzip,
/// a page that has a gzip form is sent in it (`Content-Encoding: gzip`).
pub(crate) fn serve_pages(page: impl Fn(&str) -> ServedPage + Send + Sync + 'static) -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind 127.0.0.1");
    let port = listener.local_addr().expect("local address").port();
    let page = Arc::new(page);
    std::thread::spawn(move || {
        for stream in listener.incoming().flatten() {
            let page = page.clone();
            std::thread::spawn(move || {
                let Ok(read_half) = stream.try_clone() else {
                    return;
                };
                let mut reader = BufReader::new(read_half);
                let mut line = String::new();
                let _ = reader.read_line(&mut line);
                let mut accepts_gzip = false;
                loop {
                    let mut header = String::new();
                    if reader.read_line(&mut header).unwrap_or(0) == 0 || header == "\r\n" {
                        break;
                    }
                    let header = header.to_ascii_lowercase();
                    accepts_gzip |=
                        header.starts_with("accept-encoding:") && header.contains("gzip");
                }
                let served = page(line.split_whitespace().nth(1).unwrap_or("/"));
                let (body, encoding) = match &served.gzip {
                    Some(gzip) if accepts_gzip => (gzip.as_slice(), "Content-Encoding: gzip\r\n"),
                    _ => (served.html.as_bytes(), ""),
                };
                let mut stream = stream;
                let _ = write!(
                    stream,
                    "HTTP/1.1 200 OK\r\nContent-Type: text/html; charset=utf-8\r\n{encoding}Content-Length: {}\r\nConnection: close\r\n\r\n",
                    body.len()
                );
                let _ = stream.write_all(body);
            });
        }
    });
    port
}

/// A small xorshift generator: reproducible from its seed (never 0), enough to pick mutations
/// and kill times.
pub(crate) struct Random(pub u64);

impl Random {
    pub(crate) fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    pub(crate) fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
}

/// A workspace: declarations, config and repository in a temporary folder.
pub(crate) struct Workspace {
    pub dir: tempfile::TempDir,
}

impl Workspace {
    /// A workspace declaring service "Example" with two documents served by `server`: its
    /// Privacy Policy (`privacy_page` at /privacy) and its Terms of Service (at /terms).
    #[allow(dead_code)]
    pub(crate) fn privacy_and_terms(server: &Server, privacy_page: &str) -> Workspace {
        server.set("/privacy", Behaviour::html(privacy_page));
        server.set("/terms", Behaviour::html("<main><p>Be nice.</p></main>"));
        let ws = Workspace::new("");
        ws.declare(
            "Example",
            serde_json::json!({"Privacy Policy": {"fetch": server.url("/privacy"), "select": "main"},
                   "Terms of Service": {"fetch": server.url("/terms"), "select": "main"}}),
        );
        ws
    }

    pub(crate) fn new(config_extra: &str) -> Workspace {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(dir.path().join("declarations")).unwrap();
        // Fetch settings for tests; lines of `config_extra` replace those with the same key.
        let mut fetch: Vec<String> = [
            "  allow_private_addresses: true",
            "  per_host_delay: 0s",
            "  timeout: 5s",
        ]
        .iter()
        .map(std::string::ToString::to_string)
        .collect();
        for line in config_extra.lines().filter(|l| !l.trim().is_empty()) {
            let key = line.split(':').next().unwrap_or("").to_string();
            fetch.retain(|existing| !existing.starts_with(&format!("{key}:")));
            fetch.push(line.to_string());
        }
        let config = format!(
            "author:\n  name: Test Bot\n  email: bot@example.com\nfetch:\n{}\n",
            fetch.join("\n")
        );
        std::fs::write(dir.path().join("config.yaml"), config).unwrap();
        Workspace { dir }
    }

    /// A workspace whose config.yaml is exactly `config_yaml`.
    pub(crate) fn with_config(config_yaml: &str) -> Workspace {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(dir.path().join("declarations")).unwrap();
        std::fs::write(dir.path().join("config.yaml"), config_yaml).unwrap();
        Workspace { dir }
    }

    pub(crate) fn path(&self) -> &Path {
        self.dir.path()
    }

    /// Writes a whole declaration, in the file named by its `name`.
    pub(crate) fn declare_value(&self, declaration: &serde_json::Value) {
        let name = declaration["name"]
            .as_str()
            .expect("a declaration has a name");
        std::fs::write(
            self.path()
                .join("declarations")
                .join(format!("{name}.json")),
            declaration.to_string(),
        )
        .unwrap();
    }

    /// Adds top-level sections to config.yaml.
    pub(crate) fn append_config(&self, yaml: &str) {
        let path = self.path().join("config.yaml");
        let config = std::fs::read_to_string(&path).unwrap();
        std::fs::write(path, format!("{config}{yaml}")).unwrap();
    }

    pub(crate) fn declare(&self, service: &str, terms: serde_json::Value) {
        let json = serde_json::json!({"name": service, "terms": terms});
        std::fs::write(
            self.path()
                .join("declarations")
                .join(format!("{service}.json")),
            json.to_string(),
        )
        .unwrap();
    }

    pub(crate) fn repo(&self) -> PathBuf {
        self.path().join("snapshots")
    }

    pub(crate) fn track(&self, args: &[&str]) -> Output {
        Command::new(env!("CARGO_BIN_EXE_policydiff"))
            .current_dir(self.path())
            .arg("track")
            .args(args)
            .output()
            .unwrap()
    }

    /// Runs policydiff in the workspace with these arguments.
    pub(crate) fn run(&self, args: &[&str]) -> Output {
        self.run_with_env(args, &[])
    }

    /// Runs policydiff in the workspace with these arguments and environment variables.
    pub(crate) fn run_with_env(&self, args: &[&str], env: &[(&str, &str)]) -> Output {
        Command::new(env!("CARGO_BIN_EXE_policydiff"))
            .current_dir(self.path())
            .args(args)
            .envs(env.iter().copied())
            .output()
            .unwrap()
    }

    pub(crate) fn git(&self, args: &[&str]) -> String {
        let output = Command::new("git")
            // Some tests hand the repository to another user.
            .args(["-c", "safe.directory=*"])
            .arg("-C")
            .arg(self.repo())
            .args(args)
            .output()
            .unwrap();
        assert!(
            output.status.success(),
            "git {args:?}: {}",
            String::from_utf8_lossy(&output.stderr)
        );
        String::from_utf8(output.stdout).unwrap()
    }

    pub(crate) fn commit_count(&self) -> usize {
        if !self.repo().join(".git").exists() {
            return 0;
        }
        let output = Command::new("git")
            .arg("-C")
            .arg(self.repo())
            .args(["rev-list", "--count", "HEAD"])
            .output()
            .unwrap();
        String::from_utf8_lossy(&output.stdout)
            .trim()
            .parse()
            .unwrap_or(0)
    }

    /// Runs `policydiff verify` on the repository and fails the test with its report if it
    /// finds anything.
    #[allow(dead_code)]
    pub(crate) fn assert_verifies(&self) {
        let output = Command::new(env!("CARGO_BIN_EXE_policydiff"))
            .current_dir(self.path())
            .arg("verify")
            .output()
            .unwrap();
        assert!(
            output.status.success(),
            "verify: {}",
            String::from_utf8_lossy(&output.stdout)
        );
    }

    pub(crate) fn file(&self, path: &str) -> Option<Vec<u8>> {
        std::fs::read(self.repo().join(path)).ok()
    }
}

pub(crate) fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

/// The JSON report of a `track --json` run.
pub(crate) fn report(output: &Output) -> serde_json::Value {
    serde_json::from_slice(&output.stdout)
        .unwrap_or_else(|e| panic!("no JSON report ({e}): {}", stderr(output)))
}

/// The report line of one document.
pub(crate) fn document<'a>(
    report: &'a serde_json::Value,
    service: &str,
    terms: &str,
) -> &'a serde_json::Value {
    report["documents"]
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["service"] == service && d["terms_type"] == terms)
        .unwrap_or_else(|| panic!("no report for {service} {terms} in {report}"))
}

/// Every terms type of OTA's ontology as policydiff ships it, in the file's order: names for
/// tests that need many documents of one service.
pub(crate) fn terms_types() -> Vec<String> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("src/declaration/terms_types.json");
    let types: serde_json::Map<String, serde_json::Value> =
        serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    types.keys().cloned().collect()
}

/// The `kind` of each entry of `policydiff log --json` output, newest first.
pub(crate) fn log_kinds(log_json: &[u8]) -> Vec<String> {
    let entries: serde_json::Value = serde_json::from_slice(log_json).unwrap();
    entries
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["kind"].as_str().unwrap().to_string())
        .collect()
}

/// Clones a git bundle of `../shared/corpora` (path relative to it) into `into`.
pub(crate) fn clone_corpus_bundle(bundle: &str, into: &Path) {
    let bundle = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../shared/corpora")
        .join(bundle);
    let status = Command::new("git")
        .args(["-c", "init.defaultBranch=main", "clone", "-q"])
        .arg(&bundle)
        .arg(into)
        .status()
        .unwrap();
    assert!(status.success(), "git clone of {}", bundle.display());
}
