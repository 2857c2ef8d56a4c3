//! Paced response bodies: chunks released on a schedule (first chunk early, the rest spread over
//! the stage's time), like streaming TTS audio or LLM tokens; plus the broken bodies faults use.

use axum::body::Body;
use bytes::Bytes;
use std::time::Duration;
use tokio::sync::OwnedSemaphorePermit;
use tokio::time::Instant;

/// A body that sends `chunks[0]` at `first_at` and the rest evenly until `total`. The worker
/// `permit` is held until the last chunk is sent: the component is busy while it streams.
pub fn paced(
    chunks: Vec<Bytes>,
    first_at: Duration,
    total: Duration,
    permit: Option<OwnedSemaphorePermit>,
) -> Body {
    let start = Instant::now();
    let n = chunks.len().max(1);
    let rest = total.saturating_sub(first_at);
    let step = if n > 1 {
        rest / (n as u32 - 1)
    } else {
        Duration::ZERO
    };
    let stream = futures::stream::unfold(
        (chunks.into_iter().enumerate(), permit),
        move |(mut it, permit)| async move {
            let (i, chunk) = it.next()?;
            let due = start + first_at + step * i as u32;
            // Chunks due within a millisecond go now: the timer's 1 ms granularity would
            // otherwise add up over many small chunks.
            if due > Instant::now() + Duration::from_millis(1) {
                tokio::time::sleep_until(due).await;
            }
            Some((Ok::<_, std::io::Error>(chunk), (it, permit)))
        },
    );
    Body::from_stream(stream)
}

/// A body that fails at once: the client sees its connection cut mid-response.
pub fn dropped() -> Body {
    Body::from_stream(futures::stream::once(async {
        Err::<Bytes, _>(std::io::Error::new(
            std::io::ErrorKind::ConnectionAborted,
            "injected dropped connection",
        ))
    }))
}

/// A body that sends `first` and then never finishes (until the client gives up).
pub fn hanging(first: Bytes) -> Body {
    let stream = futures::stream::unfold(Some(first), |state| async move {
        match state {
            Some(b) => Some((Ok::<_, std::io::Error>(b), None)),
            None => {
                futures::future::pending::<()>().await;
                None
            }
        }
    });
    Body::from_stream(stream)
}
