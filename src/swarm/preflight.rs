//! Before any user starts: can the host be reached at all? One clear line instead of a wall of
//! per-request connection errors.

use std::time::Duration;

/// Connects to the host's address (TCP only); errors name the host and the cause.
pub async fn check_reachable(host: &str) -> Result<(), String> {
    let url = reqwest::Url::parse(host).map_err(|e| format!("--host {host}: not a URL ({e})"))?;
    let name = url
        .host_str()
        .ok_or_else(|| format!("--host {host}: the URL has no host name"))?
        .trim_start_matches('[')
        .trim_end_matches(']')
        .to_string();
    let port = url
        .port_or_known_default()
        .ok_or_else(|| format!("--host {host}: no port and no known default for the scheme"))?;
    let connect = tokio::net::TcpStream::connect((name.as_str(), port));
    match tokio::time::timeout(Duration::from_secs(5), connect).await {
        Ok(Ok(_)) => Ok(()),
        Ok(Err(e)) => Err(format!("cannot reach {host}: {e}")),
        Err(_) => Err(format!("cannot reach {host}: no answer within 5 s")),
    }
}
