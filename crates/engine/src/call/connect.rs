//! Opening a call's WebSocket: the bot's URL from the host (`http` → `ws`, `https` → `wss`), the
//! upgrade request with the run's headers (API keys), small buffers (thousands of calls share a
//! machine), no Nagle delay, one TLS configuration shared by every call, and a socket stamped at
//! the kernel edge (`voiceswarm_net`): when each read's bytes arrived, when each write left.

use reqwest::header::HeaderMap;
use std::sync::Arc;
use std::time::Duration;
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::protocol::WebSocketConfig;
use tokio_tungstenite::{Connector, MaybeTlsStream, WebSocketStream};
use voiceswarm_net::{StampedStream, Stamps};

pub type Socket = WebSocketStream<MaybeTlsStream<StampedStream>>;

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

/// Frames are a few hundred bytes: 4 KiB read buffers instead of 128 KiB, writes sent at once.
fn config() -> WebSocketConfig {
    WebSocketConfig::default()
        .read_buffer_size(4096)
        .write_buffer_size(0)
        .max_message_size(Some(1 << 20))
        .max_frame_size(Some(1 << 20))
}

/// The process's TLS configuration (the system's roots, read once for every call).
fn tls() -> Result<Connector, String> {
    crate::tls::client_config().map(Connector::Rustls)
}

/// Connects and upgrades, within `limit`; errors say what failed (refused, 401, timeout, …).
/// The stamps are the socket's: read them after taking a message from it or sending one.
pub async fn open(
    url: &reqwest::Url,
    headers: &HeaderMap,
    limit: Duration,
) -> Result<(Socket, Arc<Stamps>), String> {
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
    let connect = async {
        let tcp = TcpStream::connect((host.trim_matches(['[', ']']), port))
            .await
            .map_err(|e| format!("cannot connect to {url}: {e}"))?;
        let _ = tcp.set_nodelay(true);
        let tcp = StampedStream::new(tcp);
        let stamps = tcp.stamps();
        tokio_tungstenite::client_async_tls_with_config(
            request,
            tcp,
            Some(config()),
            Some(connector),
        )
        .await
        .map(|(ws, _)| (ws, stamps))
        .map_err(|e| format!("WebSocket upgrade refused by {url}: {e}"))
    };
    tokio::time::timeout(limit, connect)
        .await
        .map_err(|_| format!("{url}: no WebSocket within {limit:?}"))?
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
