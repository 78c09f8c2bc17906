//! One request to one backend, with one retry on another backend when that fails.

use healthcheck::sink::Picker;
use http_body_util::combinators::BoxBody;
use http_body_util::{BodyExt, Empty, Full};
use hyper::body::{Body as _, Bytes, Incoming};
use hyper::client::conn::http1;
use hyper::header::{self, HeaderMap, HeaderName, HeaderValue};
use hyper::http::request::Parts;
use hyper::{Method, Request, Response, StatusCode, Uri};
use hyper_util::rt::TokioIo;
use std::net::SocketAddr;
use std::time::Duration;
use tokio::net::TcpStream;
use tokio::time::timeout;

/// The body of every response the proxy sends.
pub type Body = BoxBody<Bytes, hyper::Error>;

/// Headers that describe one connection, not the message (RFC 9110 §7.6.1).
const HOP_BY_HOP: [&str; 8] = [
    "connection",
    "keep-alive",
    "proxy-connection",
    "proxy-authenticate",
    "proxy-authorization",
    "te",
    "trailer",
    "upgrade",
];

/// Whether a request may be sent twice (RFC 9110 §9.2.2).
pub fn is_idempotent(method: &Method) -> bool {
    matches!(
        *method,
        Method::GET | Method::HEAD | Method::PUT | Method::DELETE | Method::OPTIONS | Method::TRACE
    )
}

/// Sends `request` from `client` to a healthy backend of `pool` and returns its response,
/// or a 502 / 503 of our own.
///
/// An idempotent request is tried once more on another backend when connecting fails
/// (within `connect_timeout`: nothing was sent yet), and, if it has no body to replay,
/// also when the exchange fails before a response header came back (a backend that died
/// with the request in flight), as nginx's `proxy_next_upstream error` does.
pub async fn forward(
    request: Request<Incoming>,
    pool: &Picker,
    client: SocketAddr,
    connect_timeout: Duration,
) -> Response<Body> {
    let (mut parts, body) = request.into_parts();
    prepare(&mut parts, client);
    let idempotent = is_idempotent(&parts.method);
    let replayable = idempotent && body.is_end_stream();
    let mut body = Some(body.boxed());
    let mut failed = None;
    for _ in 0..2 {
        let Some(backend) = pool.pick(fastrand::u64(..), failed) else {
            break;
        };
        failed = Some(backend);
        let Some(this) = body.take().or_else(|| replayable.then(empty)) else {
            break;
        };
        let stream = match timeout(connect_timeout, TcpStream::connect(backend)).await {
            Ok(Ok(stream)) => stream,
            _ => {
                body = Some(this);
                if idempotent {
                    continue;
                }
                break;
            }
        };
        let _ = stream.set_nodelay(true);
        match exchange(stream, head(&parts).map(|()| this)).await {
            Ok(response) => return response,
            Err(_) if replayable => continue,
            Err(_) => break,
        }
    }
    match failed {
        Some(_) => status(StatusCode::BAD_GATEWAY),
        None => status(StatusCode::SERVICE_UNAVAILABLE),
    }
}

async fn exchange(
    stream: TcpStream,
    request: Request<Body>,
) -> Result<Response<Body>, hyper::Error> {
    let (mut sender, conn) = http1::handshake::<_, Body>(TokioIo::new(stream)).await?;
    // The connection task lives until the response body has been read out.
    tokio::spawn(conn);
    let mut response = sender.send_request(request).await?;
    strip_hop_by_hop(response.headers_mut());
    Ok(response.map(BodyExt::boxed))
}

/// A copy of the request head, for each attempt.
fn head(parts: &Parts) -> Request<()> {
    let mut request = Request::new(());
    *request.method_mut() = parts.method.clone();
    *request.uri_mut() = parts.uri.clone();
    *request.version_mut() = parts.version;
    *request.headers_mut() = parts.headers.clone();
    request
}

fn empty() -> Body {
    Empty::new().map_err(|never| match never {}).boxed()
}

/// Origin-form target, no hop-by-hop headers, `X-Forwarded-For` added.
fn prepare(parts: &mut Parts, client: SocketAddr) {
    if let Some(target) = parts.uri.path_and_query().cloned() {
        parts.uri = Uri::from(target);
    }
    strip_hop_by_hop(&mut parts.headers);
    if let Ok(value) = HeaderValue::from_str(&client.ip().to_string()) {
        parts
            .headers
            .append(HeaderName::from_static("x-forwarded-for"), value);
    }
}

fn strip_hop_by_hop(headers: &mut HeaderMap) {
    // Headers named in Connection are hop-by-hop too.
    let named: Vec<HeaderName> = headers
        .get_all(header::CONNECTION)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .filter_map(|n| HeaderName::from_bytes(n.trim().as_bytes()).ok())
        .collect();
    for name in named.iter().map(HeaderName::as_str).chain(HOP_BY_HOP) {
        headers.remove(name);
    }
}

fn status(code: StatusCode) -> Response<Body> {
    let reason = code.canonical_reason().unwrap_or("error").to_lowercase();
    let body = Full::new(Bytes::from(format!("{reason}\n")))
        .map_err(|never| match never {})
        .boxed();
    let mut response = Response::new(body);
    *response.status_mut() = code;
    response
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use healthcheck::sink::Backend;
    use hyper::service::service_fn;
    use std::sync::Arc;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    use tokio::net::TcpListener;

    /// A backend that reads the request head and closes without answering (it died with
    /// the request in flight), and one that answers `200 good`.
    async fn backends() -> (SocketAddr, SocketAddr) {
        let dying = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let good = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addrs = (dying.local_addr().unwrap(), good.local_addr().unwrap());
        for (listener, answer) in [(dying, None), (good, Some("good"))] {
            tokio::spawn(async move {
                while let Ok((mut stream, _)) = listener.accept().await {
                    let mut head = Vec::new();
                    let mut buf = [0u8; 512];
                    while !head.windows(4).any(|w| w == b"\r\n\r\n") {
                        match stream.read(&mut buf).await {
                            Ok(0) | Err(_) => break,
                            Ok(n) => head.extend_from_slice(&buf[..n]),
                        }
                    }
                    if let Some(body) = answer {
                        let reply = format!(
                            "HTTP/1.1 200 OK\r\ncontent-length: {}\r\n\r\n{body}",
                            body.len()
                        );
                        let _ = stream.write_all(reply.as_bytes()).await;
                    }
                }
            });
        }
        addrs
    }

    /// A proxy on loopback in front of `pool`; returns its address.
    async fn proxy(pool: Arc<Picker>) -> SocketAddr {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move {
            while let Ok((stream, client)) = listener.accept().await {
                let pool = pool.clone();
                let service = service_fn(move |request| {
                    let pool = pool.clone();
                    async move {
                        let timeout = Duration::from_secs(1);
                        let response = forward(request, &pool, client, timeout).await;
                        Ok::<_, std::convert::Infallible>(response)
                    }
                });
                tokio::spawn(
                    hyper::server::conn::http1::Builder::new()
                        .serve_connection(TokioIo::new(stream), service),
                );
            }
        });
        addr
    }

    async fn send(proxy: SocketAddr, request: &str) -> String {
        let mut stream = TcpStream::connect(proxy).await.unwrap();
        stream.write_all(request.as_bytes()).await.unwrap();
        let mut answer = String::new();
        stream.read_to_string(&mut answer).await.unwrap();
        answer
    }

    #[tokio::test]
    async fn a_get_is_retried_on_another_backend_when_the_first_dies_mid_request() {
        let (dying, good) = backends().await;
        let pool = Arc::new(Picker::default());
        // The dying backend is nearly always picked first; a retry never picks it again.
        pool.replace(Arc::from(vec![
            Backend {
                name: Arc::from("dying"),
                addr: dying,
                weight: 1_000_000,
            },
            Backend {
                name: Arc::from("good"),
                addr: good,
                weight: 1,
            },
        ]));
        let proxy = proxy(pool).await;
        let get = send(
            proxy,
            "GET / HTTP/1.1\r\nhost: a\r\nconnection: close\r\n\r\n",
        )
        .await;
        assert!(get.starts_with("HTTP/1.1 200"), "{get}");
        assert!(get.ends_with("good"), "{get}");
        // A POST is not idempotent: the failure is the client's to see.
        let post = "POST / HTTP/1.1\r\nhost: a\r\nconnection: close\r\ncontent-length: 1\r\n\r\nx";
        let post = send(proxy, post).await;
        assert!(post.starts_with("HTTP/1.1 502"), "{post}");
    }

    #[tokio::test]
    async fn no_healthy_backend_is_a_503() {
        let proxy = proxy(Arc::new(Picker::default())).await;
        let get = send(
            proxy,
            "GET / HTTP/1.1\r\nhost: a\r\nconnection: close\r\n\r\n",
        )
        .await;
        assert!(get.starts_with("HTTP/1.1 503"), "{get}");
    }

    #[test]
    fn idempotent_methods() {
        assert!(is_idempotent(&Method::GET));
        assert!(is_idempotent(&Method::PUT));
        assert!(!is_idempotent(&Method::POST));
        assert!(!is_idempotent(&Method::PATCH));
    }

    #[test]
    fn hop_by_hop_headers_go_also_those_named_in_connection() {
        let mut h = HeaderMap::new();
        h.insert("connection", HeaderValue::from_static("close, x-trace"));
        h.insert("x-trace", HeaderValue::from_static("1"));
        h.insert("keep-alive", HeaderValue::from_static("timeout=5"));
        h.insert("content-type", HeaderValue::from_static("text/plain"));
        strip_hop_by_hop(&mut h);
        assert_eq!(h.len(), 1);
        assert!(h.contains_key("content-type"));
    }
}
