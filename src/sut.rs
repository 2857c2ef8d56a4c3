//! The system under test: the host a flag gives, or the reference backend started in this
//! process; either way checked reachable before any user starts (one clear line instead of a
//! wall of per-request connection errors).

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

/// The host a command loads, and the backend this process started for it, if any.
pub struct SystemUnderTest {
    pub url: String,
    backend: Option<voiceswarm_backend::BackendHandle>,
}

impl SystemUnderTest {
    /// `host` when given, else the reference backend started in this process on a free loopback
    /// port (said in one line, with what is `doing` to it). Either way checked reachable first.
    pub async fn reach(
        host: Option<&str>,
        backend_config: &voiceswarm_backend::BackendConfig,
        doing: &str,
    ) -> anyhow::Result<Self> {
        let (url, backend) = match host {
            Some(h) => (h.to_string(), None),
            None => {
                let b = voiceswarm_backend::spawn(backend_config, "127.0.0.1:0").await?;
                println!(
                    "No --host given: {doing} the built-in reference backend at {}",
                    b.url()
                );
                (b.url(), Some(b))
            }
        };
        check_reachable(&url).await.map_err(anyhow::Error::msg)?;
        Ok(Self { url, backend })
    }

    /// Stops the built-in backend, if this process started one.
    pub async fn stop(self) {
        if let Some(b) = self.backend {
            b.stop().await;
        }
    }
}
