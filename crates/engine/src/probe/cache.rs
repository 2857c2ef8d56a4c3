//! The probe's cache rows against a real Redis: where it comes from (a URL, or a private
//! `redis-server` started on a free port and stopped afterwards) and timed GET / SET EX calls.

use redis::AsyncCommands;
use std::process::Stdio;
use std::time::{Duration, Instant};

/// A Redis to measure, and the private server behind it when the probe started one.
pub struct RedisTarget {
    pub url: String,
    /// Killed on drop.
    _server: Option<tokio::process::Child>,
}

/// Finds a Redis: `url` if given; else starts `redis-server` when it is installed; else the
/// reason the cache rows are skipped.
pub async fn find(url: Option<String>) -> Result<RedisTarget, String> {
    if let Some(url) = url {
        return Ok(RedisTarget { url, _server: None });
    }
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map_err(|e| format!("no free port for a private redis-server: {e}"))?
        .port();
    let child = tokio::process::Command::new("redis-server")
        .args(["--port", &port.to_string(), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .map_err(|e| {
            format!("no --redis-url or REDIS_URL given, and redis-server could not be started ({e}); install it with apt-get install redis-server")
        })?;
    let url = format!("redis://127.0.0.1:{port}/");
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        if let Ok(client) = redis::Client::open(url.as_str()) {
            if let Ok(mut c) = client.get_multiplexed_async_connection().await {
                if redis::cmd("PING")
                    .query_async::<String>(&mut c)
                    .await
                    .is_ok()
                {
                    break;
                }
            }
        }
        if Instant::now() > deadline {
            return Err("a private redis-server did not answer PING within 5 s".into());
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    println!("Cache: started a private redis-server at {url} (stopped when the probe ends)");
    Ok(RedisTarget {
        url,
        _server: Some(child),
    })
}

/// A connection for timing, with every command bounded by a timeout.
pub async fn connect(url: &str) -> Result<redis::aio::MultiplexedConnection, String> {
    let client = redis::Client::open(url).map_err(|e| format!("--redis-url {url}: {e}"))?;
    tokio::time::timeout(
        Duration::from_secs(5),
        client.get_multiplexed_async_connection(),
    )
    .await
    .map_err(|_| format!("cannot connect to Redis at {url}: no answer within 5 s"))?
    .map_err(|e| format!("cannot connect to Redis at {url}: {e}"))
}

/// One timed SET key value EX ttl.
pub async fn timed_write(
    c: &mut redis::aio::MultiplexedConnection,
    key: &str,
    value: &str,
) -> Result<Duration, String> {
    let start = Instant::now();
    tokio::time::timeout(
        Duration::from_secs(2),
        c.set_ex::<_, _, ()>(key, value, 300),
    )
    .await
    .map_err(|_| "SET timed out after 2 s".to_string())?
    .map_err(|e| format!("SET failed: {e}"))?;
    Ok(start.elapsed())
}

/// One timed GET key, which must return what was written.
pub async fn timed_read(
    c: &mut redis::aio::MultiplexedConnection,
    key: &str,
    expect_len: usize,
) -> Result<Duration, String> {
    let start = Instant::now();
    let v: Option<String> = tokio::time::timeout(Duration::from_secs(2), c.get(key))
        .await
        .map_err(|_| "GET timed out after 2 s".to_string())?
        .map_err(|e| format!("GET failed: {e}"))?;
    let took = start.elapsed();
    match v {
        Some(s) if s.len() == expect_len => Ok(took),
        Some(s) => Err(format!(
            "GET returned {} bytes, {expect_len} were written",
            s.len()
        )),
        None => Err("GET found no value for a key just written".into()),
    }
}

/// What the cache rows of a probe measured, or why they were skipped.
pub enum CacheOutcome {
    Measured,
    Skipped(String),
}

/// The cache rows: `samples` timed SET EX and GET of a realistic cached reply (about 3 KB),
/// after `warmup` unmeasured writes, against `redis_url` or a private redis-server.
pub async fn probe(
    p: &mut super::Prober,
    redis_url: Option<String>,
    warmup: u64,
    samples: u64,
    progress: impl Fn(u64),
) -> CacheOutcome {
    use voiceswarm_model::vocab::{counter::REQUESTS, metric, Component};
    let target = match find(redis_url).await {
        Ok(t) => t,
        Err(why) => return CacheOutcome::Skipped(why),
    };
    let mut conn = match connect(&target.url).await {
        Ok(c) => c,
        Err(e) => {
            p.recorder.count(0, REQUESTS, 1);
            p.note_error(Component::Cache, e);
            return CacheOutcome::Measured;
        }
    };
    let value: String = "The assistant's cached reply. ".repeat(100);
    let pid = std::process::id();
    for i in 0..warmup {
        let _ = timed_write(&mut conn, &format!("voiceswarm:probe:{pid}:w{i}"), &value).await;
    }
    for i in 0..samples {
        let key = format!("voiceswarm:probe:{pid}:{i}");
        p.recorder.count(0, REQUESTS, 2);
        match timed_write(&mut conn, &key, &value).await {
            Ok(t) => p.recorder.record(0, metric::CACHE_WRITE, t),
            Err(e) => p.note_error(Component::Cache, e),
        }
        match timed_read(&mut conn, &key, value.len()).await {
            Ok(t) => p.recorder.record(0, metric::CACHE_READ, t),
            Err(e) => p.note_error(Component::Cache, e),
        }
        progress(i + 1);
    }
    CacheOutcome::Measured
}
