//! One request to one backend, with one retry on another backend when connecting fails.

use super::Pool;
use http_body_util::combinators::BoxBody;
use http_body_util::{BodyExt, Full};
use hyper::body::{Bytes, Incoming};
use hyper::client::conn::http1;
use hyper::header::{self, HeaderMap, HeaderName, HeaderValue};
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
/// or a 502 / 503 of our own. When connecting fails (within `connect_timeout`) nothing was
/// sent yet, so an idempotent request is tried once more on another backend.
pub async fn forward(
    mut request: Request<Incoming>,
    pool: &Pool,
    client: SocketAddr,
    connect_timeout: Duration,
) -> Response<Body> {
    prepare(&mut request, client);
    let retries = if is_idempotent(request.method()) {
        1
    } else {
        0
    };
    let mut failed = None;
    for _ in 0..=retries {
        let Some(backend) = pool.pick(fastrand::u64(..), failed) else {
            break;
        };
        let stream = match timeout(connect_timeout, TcpStream::connect(backend)).await {
            Ok(Ok(stream)) => stream,
            _ => {
                failed = Some(backend);
                continue;
            }
        };
        let _ = stream.set_nodelay(true);
        return match exchange(stream, request).await {
            Ok(response) => response,
            Err(_) => status(StatusCode::BAD_GATEWAY),
        };
    }
    match failed {
        Some(_) => status(StatusCode::BAD_GATEWAY),
        None => status(StatusCode::SERVICE_UNAVAILABLE),
    }
}

async fn exchange(
    stream: TcpStream,
    request: Request<Incoming>,
) -> Result<Response<Body>, hyper::Error> {
    let (mut sender, conn) = http1::handshake::<_, Incoming>(TokioIo::new(stream)).await?;
    // The connection task lives until the response body has been read out.
    tokio::spawn(conn);
    let mut response = sender.send_request(request).await?;
    strip_hop_by_hop(response.headers_mut());
    Ok(response.map(BodyExt::boxed))
}

/// Origin-form target, no hop-by-hop headers, `X-Forwarded-For` added.
fn prepare(request: &mut Request<Incoming>, client: SocketAddr) {
    if let Some(target) = request.uri().path_and_query().cloned() {
        *request.uri_mut() = Uri::from(target);
    }
    let headers = request.headers_mut();
    strip_hop_by_hop(headers);
    if let Ok(value) = HeaderValue::from_str(&client.ip().to_string()) {
        headers.append(HeaderName::from_static("x-forwarded-for"), value);
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
mod tests {
    use super::*;

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
