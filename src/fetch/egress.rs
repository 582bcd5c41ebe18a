//! The browser's only way out: a forward proxy on 127.0.0.1 that applies the address policy
//! to every request a rendered page makes.
//!
//! Chromium resolves names and connects by itself, out of reach of the checks in
//! [`super::safety`]: a page allowed on its own could still load an image, a frame, a script's
//! `fetch()` or a redirect from a private address (a router's admin page, cloud metadata at
//! 169.254.169.254). So each document's browser context sends everything through an
//! [`EgressProxy`] of its own. For every request (`CONNECT host:port` for HTTPS and WebSockets,
//! an absolute URL for plain HTTP) the proxy resolves the name itself, keeps the addresses the
//! [`AddressPolicy`] permits and connects to one of those — the address checked is the address
//! connected, so a name cannot rebind between check and use. Refused requests get `403` and are
//! kept as [`Refusal`]s, so the caller can tell a refused page (an error) from a refused image
//! (a warning). With `fetch.proxy` set, permitted requests go on through that [`Upstream`]
//! proxy, which then resolves names itself (only addresses written in URLs are checked here, as
//! for plain fetching through a proxy). The proxy lives as long as its value: dropping it closes
//! every connection.
//!
//! ```no_run
//! # async fn example() -> std::io::Result<()> {
//! use policydiff::fetch::egress::EgressProxy;
//! use policydiff::fetch::safety::AddressPolicy;
//! use std::time::Duration;
//!
//! let proxy = EgressProxy::start(AddressPolicy::PublicOnly, Duration::from_secs(10), None).await?;
//! // Hand proxy.url() to the browser context, render, then:
//! for refusal in proxy.refusals() {
//!     println!("refused {}: {}", refusal.target, refusal.reason);
//! }
//! # Ok(()) }
//! ```

use std::convert::Infallible;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use bytes::Bytes;
use http_body_util::combinators::BoxBody;
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper::{Method, Request, Response, StatusCode};
use hyper_util::rt::TokioIo;
use tokio::net::{TcpListener, TcpStream};

use super::safety::{AddressPolicy, Refused, resolve_permitted};

/// A request the proxy refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refusal {
    /// What was asked: a URL for plain HTTP, `https://host:port` for a tunnel.
    pub target: String,
    /// `host:port`, to compare with a page's own address.
    pub authority: String,
    /// Why it was refused.
    pub reason: String,
}

/// The proxy of `fetch.proxy`, through which permitted requests go on (`http://` proxies, with
/// an optional `user:password@`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Upstream {
    host: String,
    port: u16,
    /// `Proxy-Authorization` value, from the URL's user and password.
    authorization: Option<String>,
}

impl Upstream {
    /// Reads `http://[user:password@]host[:port]`.
    pub fn parse(proxy_url: &str) -> Result<Upstream, String> {
        let url = url::Url::parse(proxy_url)
            .map_err(|e| format!("fetch.proxy '{proxy_url}' is not a URL: {e}"))?;
        if url.scheme() != "http" {
            return Err(format!(
                "fetch.proxy '{proxy_url}': the browser can use http:// proxies only"
            ));
        }
        let host = url
            .host_str()
            .ok_or_else(|| format!("fetch.proxy '{proxy_url}' has no host"))?
            .trim_start_matches('[')
            .trim_end_matches(']')
            .to_string();
        let decode = |part: &str| {
            percent_encoding::percent_decode_str(part)
                .decode_utf8_lossy()
                .into_owned()
        };
        let authorization = (!url.username().is_empty()).then(|| {
            use base64::Engine;
            let credentials = format!(
                "{}:{}",
                decode(url.username()),
                decode(url.password().unwrap_or(""))
            );
            format!(
                "Basic {}",
                base64::engine::general_purpose::STANDARD.encode(credentials)
            )
        });
        Ok(Upstream {
            host,
            port: url.port_or_known_default().unwrap_or(80),
            authorization,
        })
    }
}

/// What a connection is opened for.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Purpose {
    /// A tunnel to `host:port` (the stream carries the browser's bytes as they are).
    Tunnel,
    /// A plain-HTTP request to pass on.
    Forward,
}

/// A running proxy; see the module overview.
pub struct EgressProxy {
    address: SocketAddr,
    shared: Arc<Shared>,
    accept: tokio::task::JoinHandle<()>,
}

struct Shared {
    policy: AddressPolicy,
    upstream: Option<Upstream>,
    connect_timeout: Duration,
    refusals: Mutex<Vec<Refusal>>,
    /// Tunnels and upstream connections, which outlive the request that opened them: ended
    /// with the proxy, so that a server that never closes cannot keep one alive.
    streams: Mutex<Vec<tokio::task::AbortHandle>>,
}

type ProxyBody = BoxBody<Bytes, hyper::Error>;

/// Headers that concern one hop only and are not passed on.
const HOP_BY_HOP: &[&str] = &[
    "connection",
    "keep-alive",
    "proxy-connection",
    "proxy-authorization",
    "proxy-authenticate",
    "te",
    "trailer",
    "upgrade",
];

impl EgressProxy {
    /// Starts a proxy on an ephemeral port of 127.0.0.1.
    pub async fn start(
        policy: AddressPolicy,
        connect_timeout: Duration,
        upstream: Option<Upstream>,
    ) -> std::io::Result<EgressProxy> {
        let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).await?;
        let address = listener.local_addr()?;
        let shared = Arc::new(Shared {
            policy,
            upstream,
            connect_timeout,
            refusals: Mutex::new(Vec::new()),
            streams: Mutex::new(Vec::new()),
        });
        let accept = tokio::spawn(accept_loop(listener, shared.clone()));
        Ok(EgressProxy {
            address,
            shared,
            accept,
        })
    }

    /// The proxy's address, as the browser wants it (`http://127.0.0.1:port`).
    pub fn url(&self) -> String {
        format!("http://{}", self.address)
    }

    /// The requests refused so far, in order.
    pub fn refusals(&self) -> Vec<Refusal> {
        self.shared
            .refusals
            .lock()
            .map(|r| r.clone())
            .unwrap_or_default()
    }
}

impl Drop for EgressProxy {
    fn drop(&mut self) {
        // Aborting the accept loop drops its set of connections, which ends them all.
        self.accept.abort();
        if let Ok(streams) = self.shared.streams.lock() {
            for stream in streams.iter() {
                stream.abort();
            }
        }
    }
}

async fn accept_loop(listener: TcpListener, shared: Arc<Shared>) {
    let mut connections = tokio::task::JoinSet::new();
    loop {
        tokio::select! {
            accepted = listener.accept() => {
                let Ok((stream, _)) = accepted else {
                    // Out of file descriptors, most likely: let connections end first.
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                };
                let shared = shared.clone();
                connections.spawn(async move {
                    let service = hyper::service::service_fn(move |request| {
                        let shared = shared.clone();
                        async move { Ok::<_, Infallible>(shared.handle(request).await) }
                    });
                    let _ = hyper::server::conn::http1::Builder::new()
                        .serve_connection(TokioIo::new(stream), service)
                        .with_upgrades()
                        .await;
                });
            }
            Some(_) = connections.join_next(), if !connections.is_empty() => {}
        }
    }
}

fn text_response(status: StatusCode, text: String) -> Response<ProxyBody> {
    let mut response = Response::new(
        Full::new(Bytes::from(text))
            .map_err(|never| match never {})
            .boxed(),
    );
    *response.status_mut() = status;
    response
}

impl Shared {
    async fn handle(&self, request: Request<Incoming>) -> Response<ProxyBody> {
        if request.method() == Method::CONNECT {
            self.tunnel(request).await
        } else {
            self.forward(request).await
        }
    }

    /// `CONNECT host:port`: checks, connects, answers 200 and then copies bytes both ways.
    async fn tunnel(&self, request: Request<Incoming>) -> Response<ProxyBody> {
        let Some(authority) = request.uri().authority().cloned() else {
            return text_response(StatusCode::BAD_REQUEST, "CONNECT needs host:port".into());
        };
        let port = authority.port_u16().unwrap_or(443);
        let target = format!("https://{authority}");
        let mut upstream = match self
            .connect(authority.host(), port, &target, Purpose::Tunnel)
            .await
        {
            Ok(stream) => stream,
            Err(response) => return response,
        };
        self.keep(tokio::spawn(async move {
            if let Ok(upgraded) = hyper::upgrade::on(request).await {
                let mut client = TokioIo::new(upgraded);
                let _ = tokio::io::copy_bidirectional(&mut client, &mut upstream).await;
            }
        }));
        Response::new(
            Full::new(Bytes::new())
                .map_err(|never| match never {})
                .boxed(),
        )
    }

    /// A plain-HTTP request in absolute form: checks, connects, and passes it on.
    async fn forward(&self, request: Request<Incoming>) -> Response<ProxyBody> {
        let uri = request.uri().clone();
        let (Some("http"), Some(authority)) = (uri.scheme_str(), uri.authority().cloned()) else {
            return text_response(
                StatusCode::BAD_REQUEST,
                format!("policydiff's proxy passes on http:// URLs only, not {uri}"),
            );
        };
        let port = authority.port_u16().unwrap_or(80);
        let upstream = match self
            .connect(authority.host(), port, &uri.to_string(), Purpose::Forward)
            .await
        {
            Ok(stream) => stream,
            Err(response) => return response,
        };
        let (mut sender, connection) = match hyper::client::conn::http1::handshake::<_, Incoming>(
            TokioIo::new(upstream),
        )
        .await
        {
            Ok(pair) => pair,
            Err(error) => return bad_gateway(&uri.to_string(), &error.to_string()),
        };
        self.keep(tokio::spawn(async move {
            let _ = connection.await;
        }));
        let (mut parts, body) = request.into_parts();
        for name in HOP_BY_HOP {
            parts.headers.remove(*name);
        }
        match &self.upstream {
            // A proxy takes the absolute URL, and perhaps credentials.
            Some(upstream) => {
                if let Some(value) = upstream
                    .authorization
                    .as_deref()
                    .and_then(|v| v.parse().ok())
                {
                    parts
                        .headers
                        .insert(hyper::header::PROXY_AUTHORIZATION, value);
                }
            }
            None => {
                parts.uri = uri
                    .path_and_query()
                    .map(hyper::http::uri::PathAndQuery::as_str)
                    .unwrap_or("/")
                    .parse()
                    .unwrap_or_default();
            }
        }
        if !parts.headers.contains_key(hyper::header::HOST)
            && let Ok(host) = authority.as_str().parse()
        {
            parts.headers.insert(hyper::header::HOST, host);
        }
        match sender.send_request(Request::from_parts(parts, body)).await {
            Ok(response) => {
                let (mut parts, body) = response.into_parts();
                for name in HOP_BY_HOP {
                    parts.headers.remove(*name);
                }
                Response::from_parts(parts, body.boxed())
            }
            Err(error) => bad_gateway(&uri.to_string(), &error.to_string()),
        }
    }

    /// Connects to `host:port` if the policy permits, trying each permitted address in turn
    /// (or through the upstream proxy); otherwise the response to send back.
    async fn connect(
        &self,
        host: &str,
        port: u16,
        target: &str,
        purpose: Purpose,
    ) -> Result<TcpStream, Response<ProxyBody>> {
        let literal = host
            .trim_start_matches('[')
            .trim_end_matches(']')
            .parse::<IpAddr>();
        if let Some(upstream) = &self.upstream {
            if let Ok(ip) = literal
                && !self.policy.permits(ip, Some(port))
            {
                return Err(self.refuse(
                    target,
                    host,
                    port,
                    format!(
                        "{ip} is not a public address, and fetch.allow_private_addresses does not allow it"
                    ),
                ));
            }
            return self
                .through_upstream(upstream, &format!("{host}:{port}"), target, purpose)
                .await;
        }
        let addresses = match literal {
            Ok(ip) if self.policy.permits(ip, Some(port)) => vec![SocketAddr::new(ip, port)],
            Ok(ip) => {
                return Err(self.refuse(
                    target,
                    host,
                    port,
                    format!(
                        "{ip} is not a public address, and fetch.allow_private_addresses does not allow it"
                    ),
                ));
            }
            Err(_) => match resolve_permitted(host, port, &self.policy).await {
                Ok(addresses) => addresses,
                Err(error) if error.is::<Refused>() => {
                    return Err(self.refuse(target, host, port, error.to_string()));
                }
                Err(error) => return Err(bad_gateway(target, &error.to_string())),
            },
        };
        let mut last_error = String::from("no address");
        for address in addresses {
            match tokio::time::timeout(self.connect_timeout, TcpStream::connect(address)).await {
                Ok(Ok(stream)) => return Ok(stream),
                Ok(Err(error)) => last_error = format!("{address}: {error}"),
                Err(_) => last_error = format!("{address}: no answer in time"),
            }
        }
        Err(bad_gateway(target, &last_error))
    }

    /// Opens a connection to the upstream proxy; for a tunnel, asks it for one to `authority`.
    async fn through_upstream(
        &self,
        upstream: &Upstream,
        authority: &str,
        target: &str,
        purpose: Purpose,
    ) -> Result<TcpStream, Response<ProxyBody>> {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        let proxy = format!("{}:{}", upstream.host, upstream.port);
        let unreachable = |error: String| bad_gateway(target, &format!("proxy {proxy}: {error}"));
        let connecting = TcpStream::connect((upstream.host.as_str(), upstream.port));
        let mut stream = match tokio::time::timeout(self.connect_timeout, connecting).await {
            Ok(Ok(stream)) => stream,
            Ok(Err(error)) => return Err(unreachable(error.to_string())),
            Err(_) => return Err(unreachable("no answer in time".into())),
        };
        if purpose == Purpose::Forward {
            return Ok(stream);
        }
        let mut ask = format!("CONNECT {authority} HTTP/1.1\r\nHost: {authority}\r\n");
        if let Some(authorization) = &upstream.authorization {
            ask.push_str(&format!("Proxy-Authorization: {authorization}\r\n"));
        }
        ask.push_str("\r\n");
        let answer = async {
            stream.write_all(ask.as_bytes()).await?;
            // Byte by byte up to the blank line, so that nothing of the tunnel is read here.
            let mut head = Vec::new();
            while !head.ends_with(b"\r\n\r\n") && head.len() < 16 * 1024 {
                head.push(stream.read_u8().await?);
            }
            Ok::<_, std::io::Error>(head)
        };
        let head = match tokio::time::timeout(self.connect_timeout, answer).await {
            Ok(Ok(head)) => head,
            Ok(Err(error)) => return Err(unreachable(error.to_string())),
            Err(_) => return Err(unreachable("no answer in time".into())),
        };
        let status_line = String::from_utf8_lossy(&head)
            .lines()
            .next()
            .unwrap_or_default()
            .to_string();
        if status_line.split_whitespace().nth(1) == Some("200") {
            Ok(stream)
        } else {
            Err(unreachable(format!("it answered {status_line:?}")))
        }
    }

    fn keep(&self, task: tokio::task::JoinHandle<()>) {
        if let Ok(mut streams) = self.streams.lock() {
            streams.retain(|stream| !stream.is_finished());
            streams.push(task.abort_handle());
        }
    }

    fn refuse(&self, target: &str, host: &str, port: u16, reason: String) -> Response<ProxyBody> {
        tracing::debug!(target, reason, "the browser's request was refused");
        if let Ok(mut refusals) = self.refusals.lock() {
            refusals.push(Refusal {
                target: target.to_string(),
                authority: format!("{host}:{port}"),
                reason: reason.clone(),
            });
        }
        text_response(
            StatusCode::FORBIDDEN,
            format!("policydiff refused {target}: {reason}"),
        )
    }
}

fn bad_gateway(target: &str, error: &str) -> Response<ProxyBody> {
    text_response(
        StatusCode::BAD_GATEWAY,
        format!("policydiff could not reach {target}: {error}"),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    /// A server on 127.0.0.1 that answers one plain-HTTP request and counts connections.
    async fn origin() -> (SocketAddr, Arc<std::sync::atomic::AtomicUsize>) {
        let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).await.unwrap();
        let address = listener.local_addr().unwrap();
        let connections = Arc::new(std::sync::atomic::AtomicUsize::new(0));
        let counter = connections.clone();
        tokio::spawn(async move {
            while let Ok((mut stream, _)) = listener.accept().await {
                counter.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                let mut buffer = [0u8; 4096];
                let _ = stream.read(&mut buffer).await;
                let _ = stream
                    .write_all(
                        b"HTTP/1.1 200 OK\r\nContent-Length: 6\r\nConnection: close\r\n\r\norigin",
                    )
                    .await;
            }
        });
        (address, connections)
    }

    async fn ask(proxy: &EgressProxy, request: String) -> String {
        let mut stream = TcpStream::connect(proxy.address).await.unwrap();
        stream.write_all(request.as_bytes()).await.unwrap();
        let mut answer = Vec::new();
        let mut buffer = [0u8; 4096];
        // Enough of the answer to see the status line and a short body.
        while let Ok(Ok(n)) =
            tokio::time::timeout(Duration::from_millis(500), stream.read(&mut buffer)).await
        {
            if n == 0 {
                break;
            }
            answer.extend_from_slice(&buffer[..n]);
        }
        String::from_utf8_lossy(&answer).into_owned()
    }

    /// Asks `proxy` for `http://{origin}/terms`.
    async fn get_terms(proxy: &EgressProxy, origin: impl std::fmt::Display) -> String {
        ask(
            proxy,
            format!("GET http://{origin}/terms HTTP/1.1\r\nHost: {origin}\r\n\r\n"),
        )
        .await
    }

    /// Asks `proxy` for a tunnel to `authority`.
    async fn tunnel_to(proxy: &EgressProxy, authority: impl std::fmt::Display) -> String {
        ask(
            proxy,
            format!("CONNECT {authority} HTTP/1.1\r\nHost: {authority}\r\n\r\n"),
        )
        .await
    }

    #[tokio::test]
    async fn permitted_requests_pass_and_refused_ones_never_connect() {
        let (origin, connections) = origin().await;
        let open = EgressProxy::start(AddressPolicy::Any, Duration::from_secs(2), None)
            .await
            .unwrap();
        let answer = get_terms(&open, origin).await;
        assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
        assert!(answer.ends_with("origin"), "{answer}");
        assert_eq!(connections.load(std::sync::atomic::Ordering::SeqCst), 1);

        // Only another port of the same address is allowed: the origin is refused, in both
        // forms, without a connection.
        let other_port = format!("127.0.0.1:{}", origin.port().wrapping_add(1));
        let strict = EgressProxy::start(
            AddressPolicy::Also(vec![other_port.parse().unwrap()]),
            Duration::from_secs(2),
            None,
        )
        .await
        .unwrap();
        let plain = get_terms(&strict, origin).await;
        assert!(plain.starts_with("HTTP/1.1 403"), "{plain}");
        let tunnel = tunnel_to(&strict, origin).await;
        assert!(tunnel.starts_with("HTTP/1.1 403"), "{tunnel}");
        let by_name = ask(
            &strict,
            format!(
                "CONNECT localhost:{} HTTP/1.1\r\nHost: localhost\r\n\r\n",
                origin.port()
            ),
        )
        .await;
        assert!(by_name.starts_with("HTTP/1.1 403"), "{by_name}");
        assert_eq!(connections.load(std::sync::atomic::Ordering::SeqCst), 1);
        let refusals = strict.refusals();
        assert_eq!(refusals.len(), 3, "{refusals:?}");
        assert_eq!(refusals[0].authority, origin.to_string());
        assert_eq!(refusals[0].target, format!("http://{origin}/terms"));
        assert!(refusals[2].reason.contains("localhost resolves to"));
    }

    #[tokio::test]
    async fn through_an_upstream_proxy_its_answers_come_back() {
        let (origin, connections) = origin().await;
        // The upstream is another egress proxy, one that refuses the origin.
        let refusing = EgressProxy::start(AddressPolicy::PublicOnly, Duration::from_secs(2), None)
            .await
            .unwrap();
        let upstream = Upstream::parse(&refusing.url()).unwrap();
        let chained =
            EgressProxy::start(AddressPolicy::Any, Duration::from_secs(2), Some(upstream))
                .await
                .unwrap();
        let plain = get_terms(&chained, origin).await;
        assert!(plain.starts_with("HTTP/1.1 403"), "{plain}");
        let tunnel = tunnel_to(&chained, origin).await;
        assert!(tunnel.starts_with("HTTP/1.1 502"), "{tunnel}");
        assert!(tunnel.contains("403"), "{tunnel}");
        assert_eq!(
            refusing.refusals().len(),
            2,
            "both went through the upstream"
        );
        assert_eq!(connections.load(std::sync::atomic::Ordering::SeqCst), 0);

        // An upstream that lets it through: the origin answers.
        let open = EgressProxy::start(AddressPolicy::Any, Duration::from_secs(2), None)
            .await
            .unwrap();
        let chained = EgressProxy::start(
            AddressPolicy::Any,
            Duration::from_secs(2),
            Some(Upstream::parse(&open.url()).unwrap()),
        )
        .await
        .unwrap();
        let plain = get_terms(&chained, origin).await;
        assert!(plain.ends_with("origin"), "{plain}");
        assert_eq!(connections.load(std::sync::atomic::Ordering::SeqCst), 1);

        // Addresses written in URLs are still checked before anything leaves.
        let strict = EgressProxy::start(
            AddressPolicy::PublicOnly,
            Duration::from_secs(2),
            Some(Upstream::parse(&open.url()).unwrap()),
        )
        .await
        .unwrap();
        let refused = get_terms(&strict, origin).await;
        assert!(refused.starts_with("HTTP/1.1 403"), "{refused}");
        assert_eq!(strict.refusals().len(), 1);
        assert_eq!(connections.load(std::sync::atomic::Ordering::SeqCst), 1);
    }

    #[tokio::test]
    async fn an_upstream_gets_absolute_urls_and_the_credentials_of_fetch_proxy() {
        let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).await.unwrap();
        let upstream = listener.local_addr().unwrap();
        let (head_tx, head_rx) = tokio::sync::oneshot::channel();
        tokio::spawn(async move {
            let (mut stream, _) = listener.accept().await.unwrap();
            let mut head = Vec::new();
            while !head.ends_with(b"\r\n\r\n") {
                head.push(stream.read_u8().await.unwrap());
            }
            let _ = stream
                .write_all(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok")
                .await;
            let _ = head_tx.send(String::from_utf8(head).unwrap());
        });
        let proxy = EgressProxy::start(
            AddressPolicy::PublicOnly,
            Duration::from_secs(2),
            Some(Upstream::parse(&format!("http://user:p%40ss@{upstream}")).unwrap()),
        )
        .await
        .unwrap();
        let answer = ask(
            &proxy,
            "GET http://policies.example/terms HTTP/1.1\r\nHost: policies.example\r\nProxy-Connection: keep-alive\r\n\r\n".into(),
        )
        .await;
        assert!(answer.ends_with("ok"), "{answer}");
        let head = head_rx.await.unwrap().to_ascii_lowercase();
        assert!(
            head.starts_with("get http://policies.example/terms http/1.1"),
            "{head}"
        );
        assert!(
            head.contains("proxy-authorization: basic dxnlcjpwqhnz"),
            "{head}"
        );
        assert!(!head.contains("proxy-connection"), "{head}");

        assert!(Upstream::parse("https://proxy.example:3128").is_err());
        assert!(Upstream::parse("not a url").is_err());
        assert_eq!(Upstream::parse("http://proxy.example").unwrap().port, 80);
    }

    #[tokio::test]
    async fn dropping_the_proxy_ends_its_tunnels() {
        // A server that never closes a connection, and says when its peer did.
        let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).await.unwrap();
        let silent = listener.local_addr().unwrap();
        let (closed_tx, closed_rx) = tokio::sync::oneshot::channel();
        tokio::spawn(async move {
            let (mut stream, _) = listener.accept().await.unwrap();
            let mut buffer = [0u8; 16];
            while stream
                .read(&mut buffer)
                .await
                .map(|n| n > 0)
                .unwrap_or(false)
            {}
            let _ = closed_tx.send(());
        });
        let proxy = EgressProxy::start(AddressPolicy::Any, Duration::from_secs(2), None)
            .await
            .unwrap();
        let mut client = TcpStream::connect(proxy.address).await.unwrap();
        client
            .write_all(format!("CONNECT {silent} HTTP/1.1\r\nHost: {silent}\r\n\r\n").as_bytes())
            .await
            .unwrap();
        let mut head = [0u8; 12];
        client.read_exact(&mut head).await.unwrap();
        assert_eq!(&head, b"HTTP/1.1 200");
        // The client stays connected too: only the proxy's end can close the tunnel.
        drop(proxy);
        tokio::time::timeout(Duration::from_secs(10), closed_rx)
            .await
            .expect("the tunnel outlived its proxy")
            .unwrap();
        drop(client);
    }

    #[tokio::test]
    async fn a_tunnel_carries_bytes_both_ways() {
        let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).await.unwrap();
        let echo = listener.local_addr().unwrap();
        tokio::spawn(async move {
            let (mut stream, _) = listener.accept().await.unwrap();
            let mut buffer = [0u8; 5];
            stream.read_exact(&mut buffer).await.unwrap();
            stream.write_all(&buffer).await.unwrap();
        });
        let proxy = EgressProxy::start(AddressPolicy::Any, Duration::from_secs(2), None)
            .await
            .unwrap();
        let mut stream = TcpStream::connect(proxy.address).await.unwrap();
        stream
            .write_all(format!("CONNECT {echo} HTTP/1.1\r\nHost: {echo}\r\n\r\n").as_bytes())
            .await
            .unwrap();
        let mut head = Vec::new();
        while !head.ends_with(b"\r\n\r\n") {
            let mut byte = [0u8; 1];
            stream.read_exact(&mut byte).await.unwrap();
            head.push(byte[0]);
        }
        assert!(head.starts_with(b"HTTP/1.1 200"));
        stream.write_all(b"hello").await.unwrap();
        let mut echoed = [0u8; 5];
        stream.read_exact(&mut echoed).await.unwrap();
        assert_eq!(&echoed, b"hello");
    }
}
