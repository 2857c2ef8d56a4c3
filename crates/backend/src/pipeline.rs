//! The stages a voice turn runs through, shared by the HTTP API and the call bot: the LLM's reply
//! through the cache (a hit costs the cache's time, a miss the model's), composed from the
//! document search.

use super::cache::cache_key;
use super::state::{AppState, Reject};
use super::timing::ServerTiming;
use std::time::Duration;
use voiceswarm_model::vocab::{stage, Component};

/// The assistant's reply to a message: the best matching document, or a polite fallback.
pub fn compose_reply(s: &AppState, message: &str) -> String {
    match s.search.search(message, 1).first() {
        Some(hit) => format!("Here is what I found. {}", hit.text),
        None => "I'm sorry, I can help with orders, billing, companies and opening hours. \
                 Could you say that another way?"
            .to_string(),
    }
}

/// A reply through the cache: a hit costs the cache's time, a miss the LLM's.
/// Returns (reply, cached, the LLM's planned service time for streaming).
pub async fn reply_through_cache(
    s: &AppState,
    session_id: Option<&str>,
    message: &str,
    timing: &mut ServerTiming,
    stream_llm: bool,
) -> Result<(String, bool, Duration), Reject> {
    let key = cache_key(session_id, message);
    let began = tokio::time::Instant::now();
    if let Some(reply) = s.cache.get(&key).await {
        let cost = s.sampler.sample(&s.model.cache);
        tokio::time::sleep(cost).await;
        timing.stage(stage::CACHE, began.elapsed());
        timing.describe(stage::CACHE, "hit");
        return Ok((reply, true, Duration::ZERO));
    }
    timing.describe(stage::CACHE, "miss");
    let planned = if stream_llm {
        s.check_failing(Component::Llm)?;
        s.sampler.sample(&s.model.llm)
    } else {
        s.run_stage(Component::Llm, timing).await?;
        Duration::ZERO
    };
    let reply = compose_reply(s, message);
    s.cache.put(&key, &reply).await;
    Ok((reply, false, planned))
}
