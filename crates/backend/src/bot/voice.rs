//! The bot's voice: thinking of a reply to an utterance with the same stages, worker pools,
//! latency model and cache as the HTTP API (STT, then the LLM through the cache, then TTS's
//! first chunk), and how long it speaks.

use super::recognise::transcribe;
use crate::pipeline::reply_through_cache;
use crate::state::{AppState, Reject};
use crate::timing::ServerTiming;
use std::sync::Arc;
use std::time::{Duration, Instant};
use voiceswarm_model::audio::speech::{Format, FRAME};
use voiceswarm_model::vocab::Component;

/// Milliseconds of speech per character of the reply (about 15 characters a second).
const SPEECH_MS_PER_CHAR: u64 = 65;

/// A reply ready to be spoken.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Reply {
    /// When its first frame is ready (TTS streams: its first chunk comes early).
    pub first_at: Instant,
    /// How many 20 ms frames it lasts.
    pub frames: usize,
}

/// Thinks of the reply to `audio` heard on call `call_sid`.
pub async fn think(
    s: Arc<AppState>,
    format: Format,
    call_sid: String,
    audio: Vec<u8>,
) -> Result<Reply, Reject> {
    let mut timing = ServerTiming::start();
    s.run_stage(Component::Stt, &mut timing).await?;
    let transcript = transcribe(format, &audio);
    answer(s, call_sid, transcript, timing).await
}

/// Thinks of the reply to a key pressed on call `call_sid`, as an IVR menu does: no speech to
/// recognise, the LLM and TTS stages as for words.
pub async fn press(s: Arc<AppState>, call_sid: String, key: String) -> Result<Reply, Reject> {
    let transcript = format!("the caller pressed {key} in the menu");
    answer(s, call_sid, transcript, ServerTiming::start()).await
}

/// The reply to `transcript`: the LLM through the cache, then TTS's first chunk.
async fn answer(
    s: Arc<AppState>,
    call_sid: String,
    transcript: String,
    mut timing: ServerTiming,
) -> Result<Reply, Reject> {
    let (reply, _, _) =
        reply_through_cache(&s, Some(&call_sid), &transcript, &mut timing, false).await?;
    s.check_failing(Component::Tts)?;
    let permit = s.acquire(Component::Tts).await;
    let service = s.sampler.sample(&s.model.tts);
    let first_at = Instant::now() + service.mul_f64(s.model.tts_first_chunk_fraction);
    // The TTS worker is busy for its whole service time, while the audio streams.
    tokio::spawn(async move {
        tokio::time::sleep(service).await;
        drop(permit);
    });
    let longest = s.config.call_reply_max_ms.max(FRAME.as_millis() as u64);
    let speech_ms = (reply.chars().count() as u64 * SPEECH_MS_PER_CHAR)
        .clamp(FRAME.as_millis() as u64, longest);
    Ok(Reply {
        first_at,
        frames: (Duration::from_millis(speech_ms).as_millis() / FRAME.as_millis()) as usize,
    })
}
