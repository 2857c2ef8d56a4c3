//! The shared vocabulary, defined once: the components of a voice backend, the metric and counter
//! names every part records and judges, and the `Server-Timing` stages. The backend, the probe,
//! the measurements and the summariser all name things from here.

use std::borrow::Cow;

/// A part of a voice-assistant backend that voiceswarm measures.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, clap::ValueEnum)]
pub enum Component {
    Stt,
    Llm,
    Tts,
    Company,
    Search,
    /// The whole voice turn (STT → LLM → TTS) through one endpoint.
    Pipeline,
    /// The reply cache (Redis).
    Cache,
}

impl Component {
    /// The backend's services, each with a worker pool of its own (in this order).
    pub const SERVICES: [Component; 5] = [
        Component::Stt,
        Component::Llm,
        Component::Tts,
        Component::Company,
        Component::Search,
    ];

    /// Every component the probe can measure, in the order it measures them.
    pub const ALL: [Component; 7] = [
        Component::Stt,
        Component::Llm,
        Component::Tts,
        Component::Company,
        Component::Search,
        Component::Pipeline,
        Component::Cache,
    ];

    /// The component's name: the prefix of its metrics and its Server-Timing stage.
    pub fn name(self) -> &'static str {
        match self {
            Component::Stt => "stt",
            Component::Llm => "llm",
            Component::Tts => "tts",
            Component::Company => "company",
            Component::Search => "search",
            Component::Pipeline => "pipeline",
            Component::Cache => "cache",
        }
    }

    /// One of the backend's services, by name.
    pub fn service(name: &str) -> Option<Component> {
        Self::SERVICES.into_iter().find(|c| c.name() == name)
    }
}

/// Metric names (`component:action`); targets, summaries and reports key on these.
pub mod metric {
    pub const STT_TRANSCRIBE: &str = "stt:transcribe";
    pub const LLM_COMPLETE: &str = "llm:complete";
    pub const LLM_FIRST_TOKEN: &str = "llm:first_token";
    pub const LLM_STREAM: &str = "llm:stream";
    pub const TTS_SYNTHESIZE: &str = "tts:synthesize";
    pub const TTS_FIRST_AUDIO: &str = "tts:first_audio";
    pub const COMPANY_LOOKUP: &str = "company:lookup";
    pub const SEARCH_QUERY: &str = "search:query";
    /// Audio sent → first audio byte back (the end-to-end turn).
    pub const PIPELINE_VOICE_TURN: &str = "pipeline:voice_turn";
    /// The whole voice turn, reply audio included.
    pub const PIPELINE_VOICE: &str = "pipeline:voice";
    pub const CACHE_READ: &str = "cache:read";
    pub const CACHE_WRITE: &str = "cache:write";
    /// A call's WebSocket handshake (TCP connect and upgrade).
    pub const CALL_CONNECT: &str = "call:connect";
    /// The caller's last speech frame sent → the bot's first speech frame received, per turn.
    pub const CALL_VOICE_TO_VOICE: &str = "call:voice_to_voice";
    /// The caller's last key pressed (DTMF) → the bot's first speech frame received, per turn.
    pub const CALL_DTMF_TO_VOICE: &str = "call:dtmf_to_voice";
    /// The caller's last speech frame sent → the bot's own end of speech (OpenAI Realtime's
    /// `speech_stopped`), per turn, where the protocol says it.
    pub const CALL_ENDPOINTING: &str = "call:endpointing";
    /// How long each of the bot's replies plays.
    pub const CALL_REPLY_AUDIO: &str = "call:reply_audio";
    /// The caller starts speaking over the bot → the bot clears or stops its audio.
    pub const CALL_BARGE_IN: &str = "call:barge_in";
    /// How late each caller frame left against its schedule (the generator's own pacing).
    pub const CALL_FRAME_LATENESS: &str = "call:frame_lateness";
    /// How long each of the bot's messages waited in the caller's socket, from the kernel's
    /// receive time to the generator's read (the generator's own reading; WebSocket calls).
    pub const CALL_READ_LAG: &str = "call:read_lag";
    /// A WebRTC call's RFC 3550 interarrival jitter of the bot's RTP stream, sampled each second.
    pub const CALL_JITTER: &str = "call:jitter";

    /// An arrival's due time → a user starting it (the dispatcher's lateness, and any queueing).
    pub const ARRIVAL_START_DELAY: &str = "arrival:start_delay";
    /// The time between one arrival's dispatch and the next (how the arrivals were spread).
    pub const ARRIVAL_GAP: &str = "arrival:gap";
    /// An arrival's due time → its journey's end: the caller's whole wait, coordinated-omission
    /// free (the clock starts when the caller arrives, not when a user was free).
    pub const ARRIVAL_JOURNEY: &str = "arrival:journey";

    /// What every call records.
    pub const CALL: &[&str] = &[
        CALL_CONNECT,
        CALL_VOICE_TO_VOICE,
        CALL_REPLY_AUDIO,
        CALL_BARGE_IN,
        CALL_FRAME_LATENESS,
    ];

    /// Names every run accepts targets for, whatever its journeys record.
    pub const CONVENTIONAL: &[&str] = &[
        STT_TRANSCRIBE,
        LLM_COMPLETE,
        LLM_FIRST_TOKEN,
        TTS_SYNTHESIZE,
        TTS_FIRST_AUDIO,
        COMPANY_LOOKUP,
        SEARCH_QUERY,
        PIPELINE_VOICE_TURN,
        CACHE_READ,
        CACHE_WRITE,
        CALL_CONNECT,
        CALL_VOICE_TO_VOICE,
        CALL_BARGE_IN,
    ];

    /// Names the component probe records.
    pub const PROBED: &[&str] = &[
        STT_TRANSCRIBE,
        LLM_COMPLETE,
        LLM_FIRST_TOKEN,
        LLM_STREAM,
        TTS_FIRST_AUDIO,
        TTS_SYNTHESIZE,
        COMPANY_LOOKUP,
        SEARCH_QUERY,
        PIPELINE_VOICE_TURN,
        PIPELINE_VOICE,
        CACHE_READ,
        CACHE_WRITE,
    ];
}

/// Counter names: every request-making part counts requests and failures, so error rate and
/// throughput come from the recording alone (and add up across workers).
pub mod counter {
    pub const REQUESTS: &str = "requests:total";
    pub const FAILURES: &str = "requests:failed";
    /// Prefix of the failure counters by kind: `errors:status_503`, `errors:timeout`, …
    pub const ERRORS_PREFIX: &str = "errors:";
    pub const CACHE_HIT: &str = "cache:hit";
    pub const CACHE_MISS: &str = "cache:miss";
    pub const ERROR_TIMEOUT: &str = "errors:timeout";
    pub const ERROR_CONNECTION: &str = "errors:connection";
    pub const ERROR_CHECK: &str = "errors:check";

    /// The failure counter of a response status, e.g. `errors:status_503`.
    pub fn status_error(status: u16) -> String {
        format!("{ERRORS_PREFIX}status_{status}")
    }

    pub const CALLS_STARTED: &str = "calls:started";
    pub const CALLS_COMPLETED: &str = "calls:completed";
    pub const CALLS_FAILED: &str = "calls:failed";
    /// Calls hung up because the run ended (neither completed nor failed).
    pub const CALLS_CUT_SHORT: &str = "calls:cut_short";
    /// The completed calls' durations added up, in ms: how long a call takes, for the note that
    /// suggests a run time when the end of the run cuts calls short.
    pub const CALLS_COMPLETED_MS: &str = "calls:completed_ms";
    /// Gaps of more than 100 ms in the bot's audio while it was speaking.
    pub const CALL_STUTTERS: &str = "calls:stutters";
    /// Barge-ins the bot never answered (neither cleared nor stopped its audio).
    pub const CALL_BARGE_IN_IGNORED: &str = "calls:barge_in_ignored";
    /// Calls made again after a failed call, once the redial pause was over.
    pub const CALL_REDIALS: &str = "calls:redials";
    /// WebRTC calls: the bot's RTP packets expected (first to highest sequence number) and lost.
    pub const CALL_RTP_EXPECTED: &str = "calls:rtp_expected";
    pub const CALL_RTP_LOST: &str = "calls:rtp_lost";

    /// Open arrivals: due, started by a user, dropped (no user free), queued (waited for one).
    pub const ARRIVALS_SCHEDULED: &str = "arrivals:scheduled";
    pub const ARRIVALS_STARTED: &str = "arrivals:started";
    pub const ARRIVALS_DROPPED: &str = "arrivals:dropped";
    pub const ARRIVALS_QUEUED: &str = "arrivals:queued";

    /// Prefix of the counters of steps started, by step: `steps:company:lookup`. A journey
    /// whose steps all failed still shows it ran.
    pub const STEPS_PREFIX: &str = "steps:";

    /// The counter of the step `name` started.
    pub fn step_started(name: &str) -> String {
        format!("{STEPS_PREFIX}{name}")
    }
}

/// Why a call failed; each kind is counted as `errors:call_<kind>`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CallFailure {
    /// The connection or the WebSocket upgrade was refused.
    Connect,
    /// The bot closed the socket before the caller hung up.
    ClosedEarly,
    /// No reply audio within the turn timeout.
    NoReply,
    /// A message that is not the protocol's (invalid JSON, binary garbage, unknown event).
    Protocol,
    /// Audio far faster than real time (more than 30 s queued for playback).
    Flood,
    /// The call outlasted its `max_duration`.
    MaxDuration,
    /// A message over 1 MiB (no frame of a call is near that).
    Oversized,
}

impl CallFailure {
    pub fn name(self) -> &'static str {
        match self {
            CallFailure::Connect => "call_connect",
            CallFailure::ClosedEarly => "call_closed_early",
            CallFailure::NoReply => "call_no_reply",
            CallFailure::Protocol => "call_protocol",
            CallFailure::Flood => "call_flood",
            CallFailure::MaxDuration => "call_max_duration",
            CallFailure::Oversized => "call_oversized",
        }
    }

    /// `errors:call_no_reply`, …
    pub fn counter(self) -> String {
        format!("{}{}", counter::ERRORS_PREFIX, self.name())
    }
}

/// The W3C `Server-Timing` stages the reference backend sends, and how each is recorded.
pub mod stage {
    /// The stage a cached reply is served from (`cache;desc=hit|miss`).
    pub const CACHE: &str = "cache";
    /// The whole server-side time of a request.
    pub const TOTAL: &str = "total";
    /// Prefix of the recorded name: stage `stt` is recorded as `server:stt`.
    pub const METRIC_PREFIX: &str = "server:";

    /// The metric names of the stages the reference backend sends.
    pub const METRICS: &[&str] = &[
        "server:stt",
        "server:llm",
        "server:tts",
        "server:company",
        "server:search",
        "server:cache",
        "server:total",
    ];
}

/// The recorded name of a Server-Timing stage: `stt` → `server:stt`. Unknown stages are kept
/// only when they look like a metric component (≤ 24 lower-case letters, digits, `_`), so a
/// hostile backend cannot invent unbounded metric names. Known names cost no allocation.
pub fn server_stage_metric(stage: &str) -> Option<Cow<'static, str>> {
    if let Some(known) = stage::METRICS
        .iter()
        .find(|m| &m[stage::METRIC_PREFIX.len()..] == stage)
    {
        return Some(Cow::Borrowed(known));
    }
    let plausible = stage.len() <= 24 && is_name_part(stage);
    plausible.then(|| Cow::Owned(format!("{}{stage}", stage::METRIC_PREFIX)))
}

fn is_name_part(s: &str) -> bool {
    !s.is_empty()
        && s.bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
}

/// Whether `name` is a metric name: `component:action`, lower-case letters, digits and `_`.
pub fn is_metric_name(name: &str) -> bool {
    matches!(name.split_once(':'), Some((c, a)) if is_name_part(c) && is_name_part(a))
}

/// What a metric name that is not valid should look like, for error messages.
pub const METRIC_NAME_HELP: &str = "write component:action in lower case, e.g. stt:transcribe";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_checked_and_stages_mapped() {
        assert!(is_metric_name("stt:transcribe"));
        for bad in ["STT:x", "stt", ":x", "a:", "a:b:c", "a b:c"] {
            assert!(!is_metric_name(bad), "{bad}");
        }
        assert_eq!(server_stage_metric("stt").as_deref(), Some("server:stt"));
        assert!(matches!(server_stage_metric("llm"), Some(Cow::Borrowed(_))));
        assert_eq!(server_stage_metric("db").as_deref(), Some("server:db"));
        assert_eq!(server_stage_metric("Evil-Name"), None);
        for c in Component::SERVICES {
            assert_eq!(Component::service(c.name()), Some(c));
            assert!(stage::METRICS.contains(&format!("server:{}", c.name()).as_str()));
        }
        for m in metric::CONVENTIONAL.iter().chain(metric::PROBED) {
            assert!(is_metric_name(m), "{m}");
        }
    }
}
