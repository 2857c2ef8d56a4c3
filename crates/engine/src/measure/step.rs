//! Running one scenario step as a Goose request and measuring it into the recorder. This is the
//! per-request hot path: no allocation beyond the request itself when a step has no templates.

use super::body::{self, BodyRead, KEEP_LIMIT};
use super::clients::ClientFactory;
use super::server_timing;
use super::session::{self, CallerState};
use goose::goose::GooseMethod;
use goose::prelude::*;
use std::collections::BTreeMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};
use voiceswarm_model::scenario::journeys::Method;
use voiceswarm_model::scenario::{CompiledBody, HttpStep};
use voiceswarm_model::stats::recorder::Shard;
use voiceswarm_model::stats::Recorder;
use voiceswarm_model::vocab::counter;

/// What every step of a run shares.
pub struct StepContext {
    pub recorder: Arc<Recorder>,
    pub data: Arc<BTreeMap<String, Vec<String>>>,
    /// Headers added to every request (e.g. `Authorization` from `--header`); never logged.
    pub extra_headers: reqwest::header::HeaderMap,
    /// Multiplies every think time, listening included (0: none, for throughput tests).
    pub think_scale: f64,
    /// How many users have made a request: the highest user index seen, plus one.
    pub users_seen: Arc<AtomicUsize>,
    /// When the run is planned to end (set as it starts; for arrivals, the end of their grace):
    /// a caller stops listening then, as Goose cuts its own think times short, and starts no
    /// step after it, so a run ends on time.
    pub deadline: std::sync::OnceLock<std::time::Instant>,
    /// Per-user clients: each caller's own, built at its first request (None: Goose's shared
    /// client serves every caller).
    pub clients: Option<Arc<ClientFactory>>,
    /// Where each call and turn is written (the run folder's `calls.jsonl`), when anywhere.
    pub turn_log: Option<Arc<dyn voiceswarm_model::turns::TurnLog>>,
}

impl StepContext {
    /// The run's planned end has passed: Goose is stopping the users, and no step starts now.
    /// (Every caller still listening is released at that moment; their next requests would be
    /// one burst, recorded against the backend.)
    pub fn past_deadline(&self) -> bool {
        self.deadline
            .get()
            .is_some_and(|end| Instant::now() >= *end)
    }

    /// Waits `think` (scaled by the think scale), cut short at the run's planned end.
    pub async fn think(&self, think: Duration) {
        let mut until = Instant::now() + think.mul_f64(self.think_scale);
        if let Some(end) = self.deadline.get() {
            until = until.min(*end);
        }
        tokio::time::sleep_until(until.into()).await;
    }

    /// A context with the journeys' data and nothing else decided: no extra headers, think
    /// times as written, Goose's shared client (for listing the journeys, and for tests).
    pub fn plain(data: Arc<BTreeMap<String, Vec<String>>>) -> Self {
        StepContext {
            recorder: Arc::new(Recorder::new(1)),
            data,
            extra_headers: Default::default(),
            think_scale: 1.0,
            users_seen: Default::default(),
            deadline: Default::default(),
            clients: None,
            turn_log: None,
        }
    }
}

/// A transport failure's counter: the client gave up waiting (`timeout`), or the connection
/// could not be made or broke before the response was whole (`connection`).
fn transport_error(e: &reqwest::Error) -> &'static str {
    if e.is_timeout() {
        counter::ERROR_TIMEOUT
    } else {
        counter::ERROR_CONNECTION
    }
}

/// Records a failure under its kind's counter (the request was already counted).
fn count_failure(shard: &mut Shard, kind: &str) {
    shard.count(counter::FAILURES, 1);
    shard.count(kind, 1);
}

/// The step's request to `path`: headers and body rendered for this user.
fn build_request<'a>(
    user: &GooseUser,
    name: &'a str,
    step: &'a HttpStep,
    ctx: &StepContext,
    path: &'a str,
) -> Result<GooseRequest<'a>, Box<TransactionError>> {
    let vars = session::vars(user);
    let mut builder = user.get_request_builder(&goose_method(step.method), path)?;
    for (name, value) in &step.headers {
        builder = builder.header(name, value.render(vars, &ctx.data).into_owned());
    }
    if !ctx.extra_headers.is_empty() {
        builder = builder.headers(ctx.extra_headers.clone());
    }
    use reqwest::header::CONTENT_TYPE;
    builder = match &step.body {
        CompiledBody::None => builder,
        CompiledBody::Static(bytes, content_type) => builder
            .header(CONTENT_TYPE, *content_type)
            .body(bytes.clone()),
        CompiledBody::Json(v) => builder
            .header(CONTENT_TYPE, "application/json")
            .body(v.render(vars, &ctx.data).to_string()),
        CompiledBody::Text(t) => builder
            .header(CONTENT_TYPE, "text/plain; charset=utf-8")
            .body(t.render(vars, &ctx.data).into_owned()),
        CompiledBody::Audio(files) => {
            let i = rand::random_range(0..files.len());
            builder
                .header(CONTENT_TYPE, "audio/wav")
                .body(files[i].clone())
        }
    };
    let mut request = GooseRequest::builder()
        .method(goose_method(step.method))
        .path(path)
        .name(name)
        .set_request_builder(builder);
    if let Some(code) = step.expect_status {
        request = request.expect_status_code(code);
    }
    Ok(request.build())
}

/// Everything the response headers tell, recorded under one lock: the request, its
/// Server-Timing stages, a failed status.
fn record_headers(ctx: &StepContext, hint: usize, response: &reqwest::Response, ok: bool) {
    let timing = response
        .headers()
        .get("server-timing")
        .and_then(|v| v.to_str().ok());
    ctx.recorder.with_shard(hint, |s| {
        s.count(counter::REQUESTS, 1);
        if let Some(header) = timing {
            server_timing::record(s, header);
        }
        if !ok {
            count_failure(s, &counter::status_error(response.status().as_u16()));
        }
    });
}

/// Evaluates the step's JSON checks; the first failure's description.
fn check_body(step: &HttpStep, body: &[u8]) -> Result<Option<serde_json::Value>, String> {
    if !step.keeps_body() {
        return Ok(None);
    }
    let json: serde_json::Value =
        serde_json::from_slice(body).map_err(|e| format!("response is not JSON ({e})"))?;
    for (pointer, equals) in &step.checks {
        let ptr = pointer.as_str();
        match (pointer.resolve(&json), equals) {
            (None, _) => return Err(format!("{ptr} is missing")),
            (Some(v), Some(want)) if v != want => {
                return Err(format!("{ptr} is {v}, expected {want}"))
            }
            (Some(v), None)
                if v.is_null()
                    || v.as_str().is_some_and(str::is_empty)
                    || v.as_array().is_some_and(Vec::is_empty) =>
            {
                return Err(format!("{ptr} is empty"))
            }
            _ => {}
        }
    }
    Ok(Some(json))
}

/// Keeps the step's captured values in the caller's state.
fn capture(user: &mut GooseUser, step: &HttpStep, json: &serde_json::Value) {
    let state: &mut CallerState = session::state(user);
    for (var, ptr) in &step.captures {
        if let Some(v) = ptr.resolve(json) {
            let text = v.as_str().map_or_else(|| v.to_string(), str::to_string);
            state.vars.0.insert(var.clone(), text);
        }
    }
}

/// Runs the HTTP step `name` for `user`: sends it, reads the body (timing its first byte), records every
/// measurement, checks and captures. Returns how long the audio it returned plays (zero when
/// it returned none or failed).
pub async fn measure(
    user: &mut GooseUser,
    name: &str,
    step: &HttpStep,
    ctx: &StepContext,
) -> Result<Duration, Box<TransactionError>> {
    let hint = user.weighted_users_index;
    ctx.users_seen.fetch_max(hint + 1, Ordering::Relaxed);
    if let Some(factory) = &ctx.clients {
        session::own_client(user, factory)?;
    }
    let path = step.path.render(session::vars(user), &ctx.data);
    let request = build_request(user, name, step, ctx, &path)?;
    let started = Instant::now();
    let goose = user.request(request).await?;
    let mut metric = goose.request;
    let mut response = match goose.response {
        Ok(r) => r,
        Err(e) => {
            ctx.recorder.with_shard(hint, |s| {
                s.count(counter::REQUESTS, 1);
                count_failure(s, transport_error(&e));
            });
            return Ok(Duration::ZERO);
        }
    };
    record_headers(ctx, hint, &response, metric.success);
    if !metric.success {
        return Ok(Duration::ZERO);
    }
    let keep = if step.keeps_body() { KEEP_LIMIT } else { 0 };
    let read: BodyRead = match body::read(&mut response, started, keep).await {
        Ok(read) => read,
        Err(e) => {
            let kind = transport_error(&e);
            ctx.recorder.with_shard(hint, |s| count_failure(s, kind));
            let reason = format!("{name}: response body {kind} error: {e}");
            return user
                .set_failure(&reason, &mut metric, None, None)
                .map(|()| Duration::ZERO);
        }
    };
    ctx.recorder.with_shard(hint, |s| {
        s.record(name, read.full);
        if let (Some(name), Some(t)) = (&step.first_byte, read.first_byte) {
            s.record(name, t);
        }
    });
    match check_body(step, &read.kept) {
        Err(why) => {
            ctx.recorder
                .with_shard(hint, |s| count_failure(s, counter::ERROR_CHECK));
            let reason = format!("{name}: {why}");
            user.set_failure(&reason, &mut metric, None, None)?;
            return Ok(Duration::ZERO);
        }
        Ok(Some(json)) if !step.captures.is_empty() => capture(user, step, &json),
        Ok(_) => {}
    }
    Ok(body::audio_duration(&read).unwrap_or_default())
}

/// Goose's name for a step's method.
fn goose_method(m: Method) -> GooseMethod {
    match m {
        Method::Get => GooseMethod::Get,
        Method::Post => GooseMethod::Post,
        Method::Put => GooseMethod::Put,
        Method::Patch => GooseMethod::Patch,
        Method::Delete => GooseMethod::Delete,
        Method::Head => GooseMethod::Head,
    }
}
