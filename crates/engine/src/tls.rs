//! One TLS client configuration for the whole process: the system's root certificates read and
//! parsed once, shared (behind `Arc`s) by every caller's HTTP client and every call's WebSocket.
//! Built per client, the roots alone cost each caller ~100 KiB and start-up milliseconds.

use std::sync::{Arc, OnceLock};

/// The shared configuration (ALPN `http/1.1`: voiceswarm's clients speak HTTP/1.1), or why
/// there is none.
pub fn client_config() -> Result<Arc<rustls::ClientConfig>, String> {
    static TLS: OnceLock<Result<Arc<rustls::ClientConfig>, String>> = OnceLock::new();
    TLS.get_or_init(|| {
        let mut roots = rustls::RootCertStore::empty();
        for cert in rustls_native_certs::load_native_certs().certs {
            let _ = roots.add(cert);
        }
        if roots.is_empty() {
            return Err("no TLS root certificates found on this machine".to_string());
        }
        let mut config = rustls::ClientConfig::builder()
            .with_root_certificates(roots)
            .with_no_client_auth();
        config.alpn_protocols = vec![b"http/1.1".to_vec()];
        Ok(Arc::new(config))
    })
    .clone()
}
