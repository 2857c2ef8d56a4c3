//! Running one scenario step as a Goose request and measuring it into the recorder. This is the
//! per-request hot path: no allocation beyond the request itself when a step has no templates.

use super::server_timing;
use crate::scenario::load::{CompiledBody, CompiledStep};
use crate::scenario::template::UserVars;
use crate::stats::recorder::Shard;
use crate::stats::summary::{FAILURES, REQUESTS};
use crate::stats::Recorder;
use goose::prelude::*;
use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// What every step of a run shares.
pub struct StepContext {
    pub recorder: Arc<Recorder>,
    pub data: Arc<BTreeMap<String, Vec<String>>>,
    /// Headers added to every request (e.g. `Authorization` from `--header`); never logged.
    pub extra_headers: reqwest::header::HeaderMap,
    /// Multiplies every think time, listening included (0: none, for throughput tests).
    pub think_scale: f64,
}

/// A transport failure's kind: the client gave up waiting (`timeout`), or the connection could
/// not be made or broke before the response was whole (`connection`).
fn classify(e: &reqwest::Error) -> &'static str {
    if e.is_timeout() {
        "timeout"
    } else {
        "connection"
    }
}

/// Records a failure of `kind` (a request was already counted).
fn count_failure(shard: &mut Shard, kind: &str) {
    shard.count(FAILURES, 1);
    shard.count(kind, 1);
}

fn failure_counter(kind: &str) -> String {
    format!("errors:{kind}")
}

/// Evaluates the step's JSON checks; the first failure's description.
fn check_body(step: &CompiledStep, body: &[u8]) -> Result<Option<serde_json::Value>, String> {
    if !step.keeps_body() {
        return Ok(None);
    }
    let json: serde_json::Value =
        serde_json::from_slice(body).map_err(|e| format!("response is not JSON ({e})"))?;
    for (pointer, equals) in &step.checks {
        let ptr = pointer.as_str();
        let found = pointer.resolve(&json);
        match (found, equals) {
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

/// Runs `step` for `user`: sends it, reads the body chunk by chunk (timing the first), records
/// every measurement, checks and captures. Returns how long to listen to the audio it returned.
pub async fn measure(
    user: &mut GooseUser,
    step: &CompiledStep,
    ctx: &StepContext,
) -> Result<Duration, Box<TransactionError>> {
    let hint = user.weighted_users_index;
    let vars = user.get_session_data::<UserVars>();
    let path = step.path.render(vars, &ctx.data);
    let mut builder = user.get_request_builder(&step.method, &path)?;
    for (name, value) in &step.headers {
        builder = builder.header(name, value.render(vars, &ctx.data).into_owned());
    }
    if !ctx.extra_headers.is_empty() {
        builder = builder.headers(ctx.extra_headers.clone());
    }
    builder = match &step.body {
        CompiledBody::None => builder,
        CompiledBody::Static(bytes, content_type) => builder
            .header(reqwest::header::CONTENT_TYPE, *content_type)
            .body(bytes.clone()),
        CompiledBody::Json(v) => builder
            .header(reqwest::header::CONTENT_TYPE, "application/json")
            .body(v.render(vars, &ctx.data).to_string()),
        CompiledBody::Text(t) => builder
            .header(reqwest::header::CONTENT_TYPE, "text/plain; charset=utf-8")
            .body(t.render(vars, &ctx.data).into_owned()),
        CompiledBody::Audio(files) => {
            let i = rand::random_range(0..files.len());
            builder
                .header(reqwest::header::CONTENT_TYPE, "audio/wav")
                .body(files[i].clone())
        }
    };
    let mut request = GooseRequest::builder()
        .method(step.method)
        .path(&*path)
        .name(&*step.name)
        .set_request_builder(builder);
    if let Some(code) = step.expect_status {
        request = request.expect_status_code(code);
    }
    let started = Instant::now();
    let goose = user.request(request.build()).await?;
    let mut metric = goose.request;
    let mut response = match goose.response {
        Ok(r) => r,
        Err(e) => {
            ctx.recorder.with_shard(hint, |s| {
                s.count(REQUESTS, 1);
                count_failure(s, &failure_counter(classify(&e)));
            });
            return Ok(Duration::ZERO);
        }
    };
    // Everything the headers tell, under one lock.
    let timing = response
        .headers()
        .get("server-timing")
        .and_then(|v| v.to_str().ok());
    ctx.recorder.with_shard(hint, |s| {
        s.count(REQUESTS, 1);
        if let Some(header) = timing {
            server_timing::record(s, header);
        }
        if !metric.success {
            count_failure(
                s,
                &failure_counter(&format!("status_{}", metric.status_code)),
            );
        }
    });
    if !metric.success {
        return Ok(Duration::ZERO);
    }
    let keep = step.keeps_body();
    let mut kept: Vec<u8> = Vec::new();
    let mut head = [0u8; 64];
    let mut head_len = 0usize;
    let mut total = 0usize;
    let mut first_byte: Option<Duration> = None;
    loop {
        match response.chunk().await {
            Ok(Some(chunk)) => {
                if first_byte.is_none() {
                    first_byte = Some(started.elapsed());
                }
                if head_len < head.len() {
                    let n = (head.len() - head_len).min(chunk.len());
                    head[head_len..head_len + n].copy_from_slice(&chunk[..n]);
                    head_len += n;
                }
                total += chunk.len();
                if keep && kept.len() < 1 << 20 {
                    kept.extend_from_slice(&chunk);
                }
            }
            Ok(None) => break,
            Err(e) => {
                let kind = classify(&e);
                ctx.recorder
                    .with_shard(hint, |s| count_failure(s, &failure_counter(kind)));
                let reason = format!("{}: response body {kind} error: {e}", step.name);
                return user
                    .set_failure(&reason, &mut metric, None, None)
                    .map(|()| Duration::ZERO);
            }
        }
    }
    let full = started.elapsed();
    ctx.recorder.with_shard(hint, |s| {
        s.record(&step.name, full);
        if let (Some(name), Some(t)) = (&step.first_byte, first_byte) {
            s.record(name, t);
        }
    });
    match check_body(step, &kept) {
        Err(why) => {
            ctx.recorder
                .with_shard(hint, |s| count_failure(s, "errors:check"));
            let reason = format!("{}: {why}", step.name);
            return user
                .set_failure(&reason, &mut metric, None, None)
                .map(|()| Duration::ZERO);
        }
        Ok(Some(json)) if !step.captures.is_empty() => {
            let mut vars = user
                .get_session_data::<UserVars>()
                .cloned()
                .unwrap_or_default();
            for (var, ptr) in &step.captures {
                if let Some(v) = ptr.resolve(&json) {
                    let text = v.as_str().map_or_else(|| v.to_string(), str::to_string);
                    vars.0.insert(var.clone(), text);
                }
            }
            user.set_session_data(vars);
        }
        Ok(_) => {}
    }
    if step.listen && ctx.think_scale > 0.0 {
        // A caller cannot speak while the assistant talks: wait for the reply's audio.
        if let Ok(info) = crate::audio::parse(&head[..head_len]) {
            let bytes_per_ms = info.sample_rate as f64 * info.channels as f64 * 2.0 / 1000.0;
            let audio_ms = total.saturating_sub(info.data_offset) as f64 / bytes_per_ms;
            return Ok(Duration::from_secs_f64(audio_ms * ctx.think_scale / 1000.0));
        }
    }
    Ok(Duration::ZERO)
}

/// Runs `step` as [`measure`] does, then listens: the wait happens after the request's state
/// (response, buffers, Goose's request record) is dropped, so a listening caller holds little.
pub async fn execute(
    user: &mut GooseUser,
    step: &CompiledStep,
    ctx: &StepContext,
) -> TransactionResult {
    let listen = measure(user, step, ctx).await?;
    if !listen.is_zero() {
        tokio::time::sleep(listen).await;
    }
    Ok(())
}
