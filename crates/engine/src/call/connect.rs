//! Opening a call's socket: the bot's URL from the host (`http` → `ws`, `https` → `wss`), the
//! TCP connection (no Nagle delay), and the WebSocket upgrade's request with the run's headers
//! (API keys) and TLS (one configuration shared by every call). The frame engine performs the
//! upgrade on its own thread, on the socket stamped at the kernel edge (`voiceswarm_net`).

use reqwest::header::HeaderMap;
use std::time::Duration;
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::handshake::client::Request;
use tokio_tungstenite::tungstenite::Connector;

/// The bot's WebSocket URL: `base` (an http(s) host) with its scheme swapped and `path` joined.
pub fn ws_url(base: &reqwest::Url, path: &str) -> Result<reqwest::Url, String> {
    let mut url = base.join(path).map_err(|e| format!("{base}{path}: {e}"))?;
    let scheme = match url.scheme() {
        "http" | "ws" => "ws",
        "https" | "wss" => "wss",
        other => return Err(format!("{url}: a call needs http(s) or ws(s), not {other}")),
    };
    url.set_scheme(scheme)
        .map_err(|()| format!("{url}: cannot use {scheme}"))?;
    Ok(url)
}

/// The process's TLS configuration (the system's roots, read once for every call).
fn tls() -> Result<Connector, String> {
    crate::tls::client_config().map(Connector::Rustls)
}

/// Connects to the bot within `limit` and prepares the upgrade: the socket, the upgrade's
/// request (with `headers`) and its TLS. Errors say what failed (refused, timeout, …).
pub async fn tcp(
    url: &reqwest::Url,
    headers: &HeaderMap,
    limit: Duration,
) -> Result<(std::net::TcpStream, Request, Connector), String> {
    let host = url.host_str().ok_or_else(|| format!("{url}: no host"))?;
    let port = url.port_or_known_default().unwrap_or(80);
    let mut request = url
        .as_str()
        .into_client_request()
        .map_err(|e| format!("{url}: {e}"))?;
    for (name, value) in headers {
        request.headers_mut().insert(name.clone(), value.clone());
    }
    let connector = if url.scheme() == "wss" {
        tls()?
    } else {
        Connector::Plain
    };
    let connect = TcpStream::connect((host.trim_matches(['[', ']']), port));
    let tcp = tokio::time::timeout(limit, connect)
        .await
        .map_err(|_| format!("{url}: no connection within {limit:?}"))?
        .map_err(|e| format!("cannot connect to {url}: {e}"))?;
    let _ = tcp.set_nodelay(true);
    let tcp = tcp
        .into_std()
        .map_err(|e| format!("cannot connect to {url}: {e}"))?;
    Ok((tcp, request, connector))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_swap_http_for_ws() {
        let base = reqwest::Url::parse("http://127.0.0.1:8000").unwrap();
        assert_eq!(
            ws_url(&base, "/ws/twilio").unwrap().as_str(),
            "ws://127.0.0.1:8000/ws/twilio"
        );
        let base = reqwest::Url::parse("https://bot.example.com/").unwrap();
        assert_eq!(
            ws_url(&base, "/stream").unwrap().as_str(),
            "wss://bot.example.com/stream"
        );
    }
}
