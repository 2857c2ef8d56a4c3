//! The backend's LLM reply cache: in-process by default, a real Redis (GET / SET EX) when given a
//! URL; counts hits and misses for `/api/v1/stats`.

use redis::AsyncCommands;
use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};
use tokio::sync::Mutex;

/// Most replies the in-process cache holds.
const MEMORY_CAP: usize = 50_000;

enum Store {
    Memory(Mutex<HashMap<String, (String, Instant)>>),
    Redis(redis::aio::ConnectionManager),
}

pub struct ReplyCache {
    store: Store,
    ttl: Duration,
    hits: AtomicU64,
    misses: AtomicU64,
    errors: AtomicU64,
}

/// The cache key of a prompt: lower case, punctuation dropped, white space folded; scoped to the
/// conversation when one is given (a reply depends on the conversation so far).
pub fn cache_key(session_id: Option<&str>, prompt: &str) -> String {
    let words: Vec<String> = prompt
        .split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .map(|w| w.to_lowercase())
        .collect();
    format!("vs:llm:{}:{}", session_id.unwrap_or("-"), words.join(" "))
}

impl ReplyCache {
    pub fn memory(ttl: Duration) -> Self {
        Self::with_store(Store::Memory(Mutex::new(HashMap::new())), ttl)
    }

    /// Connects to Redis at `url` (fails now, not on the first request, when it is unreachable).
    pub async fn redis(url: &str, ttl: Duration) -> Result<Self, redis::RedisError> {
        let client = redis::Client::open(url)?;
        let manager = redis::aio::ConnectionManager::new(client).await?;
        Ok(Self::with_store(Store::Redis(manager), ttl))
    }

    fn with_store(store: Store, ttl: Duration) -> Self {
        Self {
            store,
            ttl,
            hits: AtomicU64::new(0),
            misses: AtomicU64::new(0),
            errors: AtomicU64::new(0),
        }
    }

    pub fn kind(&self) -> &'static str {
        match self.store {
            Store::Memory(_) => "memory",
            Store::Redis(_) => "redis",
        }
    }

    /// The cached reply, counting a hit or a miss. A Redis error counts as a miss (and an error):
    /// a cache outage slows the assistant down, it does not break it.
    pub async fn get(&self, key: &str) -> Option<String> {
        let found = match &self.store {
            Store::Memory(map) => {
                let map = map.lock().await;
                map.get(key)
                    .filter(|(_, expires)| *expires > Instant::now())
                    .map(|(v, _)| v.clone())
            }
            Store::Redis(conn) => {
                let mut conn = conn.clone();
                match conn.get::<_, Option<String>>(key).await {
                    Ok(v) => v,
                    Err(_) => {
                        self.errors.fetch_add(1, Ordering::Relaxed);
                        None
                    }
                }
            }
        };
        let counter = if found.is_some() {
            &self.hits
        } else {
            &self.misses
        };
        counter.fetch_add(1, Ordering::Relaxed);
        found
    }

    pub async fn put(&self, key: &str, value: &str) {
        match &self.store {
            Store::Memory(map) => {
                let mut map = map.lock().await;
                // Bound memory: drop expired entries when the map grows large, and everything
                // when that is not enough (a crude eviction, fine for a reference backend).
                if map.len() >= MEMORY_CAP {
                    let now = Instant::now();
                    map.retain(|_, (_, e)| *e > now);
                    if map.len() >= MEMORY_CAP {
                        map.clear();
                    }
                }
                map.insert(
                    key.to_string(),
                    (value.to_string(), Instant::now() + self.ttl),
                );
            }
            Store::Redis(conn) => {
                let mut conn = conn.clone();
                let ttl = self.ttl.as_secs().max(1);
                if conn.set_ex::<_, _, ()>(key, value, ttl).await.is_err() {
                    self.errors.fetch_add(1, Ordering::Relaxed);
                }
            }
        }
    }

    pub fn stats(&self) -> serde_json::Value {
        let hits = self.hits.load(Ordering::Relaxed);
        let misses = self.misses.load(Ordering::Relaxed);
        let total = hits + misses;
        serde_json::json!({
            "kind": self.kind(),
            "hits": hits,
            "misses": misses,
            "errors": self.errors.load(Ordering::Relaxed),
            "hit_ratio": if total == 0 { 0.0 } else { hits as f64 / total as f64 },
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn key_normalises_prompt() {
        assert_eq!(
            cache_key(None, "  What are your OPENING hours?? "),
            cache_key(None, "what are your opening hours")
        );
        assert_ne!(cache_key(Some("a"), "hi"), cache_key(Some("b"), "hi"));
    }

    #[tokio::test]
    async fn memory_hit_after_put_and_expiry() {
        let c = ReplyCache::memory(Duration::from_millis(50));
        assert_eq!(c.get("k").await, None);
        c.put("k", "v").await;
        assert_eq!(c.get("k").await.as_deref(), Some("v"));
        tokio::time::sleep(Duration::from_millis(60)).await;
        assert_eq!(c.get("k").await, None);
        assert_eq!(c.stats()["hits"], 1);
        assert_eq!(c.stats()["misses"], 2);
    }
}
