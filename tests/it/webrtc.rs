//! Callers over WebRTC end to end on real loopback sockets: four-turn calls with a barge-in,
//! signalled by WHIP, by Pipecat's SmallWebRTC JSON offer and as OpenAI Realtime's calls
//! endpoint (with its events channel), against independent WebRTC peers —
//! the aiortc tone bot of tests/fixtures/webrtc_bot, and a Pipecat pipeline on Pipecat's own
//! SmallWebRTC transport (tests/fixtures/pipecat_webrtc_bot) — whose ground truth is taken at the
//! packets (the last speech RTP packet's arrival, the first reply packet's departure); every
//! turn's voice-to-voice must agree with it within 5 ms. And the same calls against the reference
//! backend, whose bot answers WebRTC too.

use crate::support::{read_json, repo, text, tmp, voiceswarm};
use std::collections::BTreeMap;
use std::io::BufRead;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// How far a turn's voice-to-voice may be from the bot's packet-level gap, on every turn. Both
/// sides stamp at the kernel edge of their UDP sockets (voiceswarm-net; the fixtures'
/// kernel_edge.py), so neither process's scheduling is in the difference.
const AGREEMENT_MS: f64 = 5.0;

/// One WebRTC bot run at a time: a Python bot on a busy 2-core machine may miss its packets'
/// pacing, and that would be the fixture's failure, not voiceswarm's.
static ONE: std::sync::Mutex<()> = std::sync::Mutex::new(());

/// The project's Python with aiortc (scripts/install-python-fixtures.sh: at once when made).
fn python() -> String {
    let o = Command::new(repo().join("scripts/install-python-fixtures.sh"))
        .current_dir(repo())
        .output()
        .expect("scripts/install-python-fixtures.sh runs");
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let out = String::from_utf8_lossy(&o.stdout);
    out.lines().last().expect("the venv's python").trim().into()
}

/// The aiortc tone bot.
const AIORTC_BOT: &str = "tests/fixtures/webrtc_bot/bot.py";
/// The tone bot on Pipecat's SmallWebRTC transport (aiortc underneath).
const PIPECAT_BOT: &str = "tests/fixtures/pipecat_webrtc_bot/bot.py";

/// A WebRTC bot on aiortc (one of the scripts above), killed when dropped.
struct AiortcBot {
    child: Child,
    host: String,
    log: PathBuf,
}

impl AiortcBot {
    /// Starts `script` (`--port 0 --log FILE`) and reads where it listens from its first line.
    fn start(dir: &Path, script: &str) -> Self {
        let log = dir.join("bot-turns.jsonl");
        let mut child = Command::new(python())
            .arg(repo().join(script))
            .args(["--port", "0", "--log"])
            .arg(&log)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .unwrap_or_else(|e| panic!("{script} starts: {e}"));
        let mut line = String::new();
        let stdout = child.stdout.take().expect("piped");
        std::io::BufReader::new(stdout)
            .read_line(&mut line)
            .expect("the bot says where it listens");
        let host = line
            .trim()
            .strip_prefix("listening ")
            .unwrap_or_else(|| panic!("the bot's first line: {line:?}"))
            .to_string();
        AiortcBot { child, host, log }
    }
}

impl Drop for AiortcBot {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn lines(path: &Path) -> Vec<serde_json::Value> {
    std::fs::read_to_string(path)
        .unwrap_or_default()
        .lines()
        .filter_map(|l| serde_json::from_str(l).ok())
        .collect()
}

/// A turn: voice-to-voice (ms), our end of speech sent and first reply received (wall ns).
type Turn = (f64, u64, u64);

/// The run's turns by (call id, turn).
fn our_turns(run: &Path) -> BTreeMap<(String, u64), Turn> {
    lines(&run.join("calls.jsonl"))
        .into_iter()
        .filter(|l| l["event"] == "turn")
        .map(|l| {
            let ns = |f: &str| l[f].as_u64().unwrap_or(0);
            let key = (l["call_id"].as_str().unwrap_or("").to_string(), ns("turn"));
            let v2v = l["voice_to_voice_ms"].as_f64().unwrap_or(f64::NAN);
            let turn = (
                v2v,
                ns("last_speech_sent_ns"),
                ns("first_reply_received_ns"),
            );
            (key, turn)
        })
        .collect()
}

/// The bot's turns by (call, turn): gap, last speech in, first reply out.
fn bot_turns(log: &Path) -> BTreeMap<(String, u64), Turn> {
    lines(log)
        .into_iter()
        .filter(|l| l["event"] == "turn")
        .map(|l| {
            let ns = |f: &str| l[f].as_u64().unwrap_or(0);
            let key = (l["call"].as_str().unwrap_or("").to_string(), ns("turn"));
            let turn = (
                l["gap_ms"].as_f64().unwrap_or(f64::NAN),
                ns("last_speech_in_ns"),
                ns("first_reply_out_ns"),
            );
            (key, turn)
        })
        .collect()
}

/// A scenario of one WebRTC call journey per `(name, call JSON)`, and targets that judge only
/// the error, call-failure and packet-loss rates (loss within 5 %: an impaired line's 2 %
/// passes).
fn files(dir: &Path, journeys: &[(&str, String)]) -> (String, String) {
    std::fs::create_dir_all(dir.join("audio")).unwrap();
    for f in voiceswarm_model::fixtures::AUDIO {
        std::fs::write(dir.join(format!("audio/{}.wav", f.name)), f.wav).unwrap();
    }
    let list: Vec<String> = voiceswarm_model::fixtures::AUDIO
        .iter()
        .map(|f| format!("\"audio/{}.wav\"", f.name))
        .collect();
    let scenarios: Vec<String> = journeys
        .iter()
        .map(|(name, call)| {
            let step = name.replace('-', "_");
            format!(r#"{{"name": "{name}", "steps": [{{"name": "call:{step}", "call": {call}}}]}}"#)
        })
        .collect();
    let scenario = dir.join("calls.json");
    let body = format!(
        r#"{{"audio": {{"speech": [{}]}}, "scenarios": [{}]}}"#,
        list.join(", "),
        scenarios.join(", ")
    );
    std::fs::write(&scenario, body).unwrap();
    let targets = dir.join("targets.json");
    let judged =
        r#"{"error_rate": "0%", "calls_failed": "0%", "packet_loss": "5%", "metrics": {}}"#;
    std::fs::write(&targets, judged).unwrap();
    (
        scenario.display().to_string(),
        targets.display().to_string(),
    )
}

/// Four turns, the first barged in on 300 ms into its reply.
fn call_json(signalling: &str, codec: &str, extra: &str) -> String {
    format!(
        r#"{{"transport": "webrtc", "signalling": "{signalling}", "codec": "{codec}", {extra}"turns": [{{"say": "speech", "barge_in_after": "300ms"}}, {{"say": "speech"}}, {{"say": "speech"}}, {{"say": "speech"}}], "pause": ["100ms", "100ms"]}}"#
    )
}

/// Runs the scenario with `users` callers for `time` against `host` (and `extra` arguments):
/// the summary and the run.
fn run(
    dir: &Path,
    host: &str,
    files: (String, String),
    users: usize,
    time: &str,
    extra: &[&str],
) -> (serde_json::Value, PathBuf) {
    let out = dir.join("run");
    let users = users.to_string();
    let started = Instant::now();
    let mut args = vec![
        "run",
        "-H",
        host,
        "--scenario-file",
        &files.0,
        "--targets",
        &files.1,
        "-u",
        &users,
        "-r",
        &users,
        "-t",
        time,
        "--out",
        out.to_str().unwrap(),
    ];
    args.extend_from_slice(extra);
    let o = voiceswarm(&args, Duration::from_secs(120));
    let all = text(&o);
    assert_eq!(o.status.code(), Some(0), "{all}");
    assert!(!all.contains("panicked"), "{all}");
    eprintln!("run of {time} took {:?}", started.elapsed());
    (read_json(&out.join("summary.json")), out)
}

/// Per-turn differences (ours − the bot's), sorted, and those beyond the agreement with the
/// wire's lag in (our last speech sent → the bot's stamp) and out (its first reply → ours).
fn differences(
    ours: &BTreeMap<(String, u64), Turn>,
    theirs: &BTreeMap<(String, u64), Turn>,
) -> (Vec<f64>, Vec<String>) {
    let mut d = Vec::new();
    let mut beyond = Vec::new();
    for (k, (v, sent, received)) in ours {
        let Some((gap, bot_in, bot_out)) = theirs.get(k) else {
            continue;
        };
        let diff = v - gap;
        if diff.abs() > AGREEMENT_MS {
            let ms = |a: u64, b: u64| (a as f64 - b as f64) / 1e6;
            let (lag_in, lag_out) = (ms(*bot_in, *sent), ms(*received, *bot_out));
            beyond.push(format!(
                "{} turn {}: {diff:.2} ms (lag in {lag_in:.2}, out {lag_out:.2})",
                k.0, k.1
            ));
        }
        d.push(diff);
    }
    d.sort_by(f64::total_cmp);
    (d, beyond)
}

/// Every call of the run ended well: none failed, and at least `calls` completed, barged in
/// (the bot's audio stopped) and connected.
fn assert_calls_completed(s: &serde_json::Value, calls: u64) {
    let totals = &s["totals"]["calls"];
    assert_eq!(totals["failed"], 0, "{totals}");
    assert!(totals["completed"].as_u64().unwrap() >= calls, "{totals}");
    for metric in ["call:barge_in", "call:connect"] {
        assert!(
            crate::support::count(s, metric) >= calls,
            "{metric}: {}",
            s["metrics"]
        );
    }
}

/// Every turn of the run (`run`) agrees with the bot's packet-level truth (its `log`): at least
/// 16 matched, the median within 1.5 ms and none beyond [`AGREEMENT_MS`] (those beyond are
/// printed with where the time went); the differences are printed as `bot`'s.
fn assert_turns_agree(bot: &str, run: &Path, log: &Path) {
    let ours = our_turns(run);
    let theirs = bot_turns(log);
    let (d, beyond) = differences(&ours, &theirs);
    assert!(
        !d.is_empty(),
        "no turn matched: ours {ours:?}, the bot's {theirs:?}"
    );
    let (min, median, max) = (d[0], d[d.len() / 2], d[d.len() - 1]);
    eprintln!(
        "WebRTC vs {bot}: {} turns matched of {} ours / {} the bot's; ours − bot's: min {min:.2} ms, median {median:.2} ms, max {max:.2} ms",
        d.len(), ours.len(), theirs.len()
    );
    assert!(
        d.len() >= 16 && d.len() + 2 >= ours.len(),
        "{} turns matched of {}",
        d.len(),
        ours.len()
    );
    assert!(
        beyond.is_empty(),
        "{} turns beyond {AGREEMENT_MS} ms: {beyond:?}",
        beyond.len()
    );
    assert!(median.abs() <= 1.5, "median {median:.2} ms: {d:?}");
}

/// How many of the bot's log lines are `event`.
fn events(log: &[serde_json::Value], event: &str) -> usize {
    log.iter().filter(|l| l["event"] == event).count()
}

/// Two callers on `journeys` for 45 s (a four-turn call takes ~15 s: two whole calls each)
/// against the fixture bot `script`, with `extra` arguments, one test at a time: at least four
/// calls completed and the bot stopped at least two replies for a barge-in. The folder (keep
/// it), the run folder and the bot's log.
fn four_turn_calls(
    script: &str,
    journeys: &[(&str, String)],
    extra: &[&str],
) -> (tempfile::TempDir, PathBuf, PathBuf) {
    let _one = ONE.lock().unwrap_or_else(|e| e.into_inner());
    let dir = tmp();
    let bot = AiortcBot::start(dir.path(), script);
    let files = files(dir.path(), journeys);
    let (s, out) = run(dir.path(), &bot.host, files, 2, "45s", extra);
    assert_calls_completed(&s, 4);
    let clears = events(&lines(&bot.log), "clear");
    assert!(clears >= 2, "the bot stopped {clears} replies");
    let log = bot.log.clone();
    (dir, out, log)
}

/// WHIP and Pipecat-signalled calls (Opus and PCMU) against the aiortc bot: every call completes
/// with its barge-in answered (the bot's audio stops), the bot received our RTCP receiver
/// reports, and every turn agrees with the bot's packet-level truth.
#[test]
fn four_turn_calls_over_webrtc_match_the_aiortc_bots_packets() {
    let journeys = [
        ("whip-opus", call_json("whip", "opus", "")),
        ("pipecat-pcmu", call_json("pipecat", "pcmu", "")),
    ];
    let (_dir, out, bot_log) = four_turn_calls(AIORTC_BOT, &journeys, &[]);
    let log = lines(&bot_log);
    let signalled: Vec<&str> = log
        .iter()
        .filter(|l| l["event"] == "call_start")
        .filter_map(|l| l["signalling"].as_str())
        .collect();
    assert!(
        signalled.contains(&"whip") && signalled.contains(&"pipecat"),
        "{signalled:?}"
    );
    let codecs: Vec<&str> = log.iter().filter_map(|l| l["codec"].as_str()).collect();
    assert!(
        codecs.contains(&"opus") && codecs.contains(&"pcmu"),
        "{codecs:?}"
    );
    let reports = events(&log, "rtcp");
    assert!(reports >= 8, "the bot saw {reports} RTCP receiver reports");
    assert_turns_agree("aiortc", &out, &bot_log);
}

/// Opus calls signalled by Pipecat's offer against a bot on Pipecat's own SmallWebRTC transport
/// (its request handler answers, a Pipecat pipeline — energy VAD, tone replier — runs each
/// call): every call completes with its barge-in answered (an InterruptionFrame stops the
/// reply), and every turn agrees with the packet-level truth taken under Pipecat, at aiortc.
#[test]
fn four_turn_calls_over_webrtc_against_pipecats_smallwebrtc() {
    let journeys = [("pipecat-opus", call_json("pipecat", "opus", ""))];
    let (_dir, out, bot_log) = four_turn_calls(PIPECAT_BOT, &journeys, &[]);
    let log = lines(&bot_log);
    let started: Vec<(&str, &str)> = log
        .iter()
        .filter(|l| l["event"] == "call_start")
        .map(|l| {
            let field = |f: &str| l[f].as_str().unwrap_or("");
            (field("signalling"), field("codec"))
        })
        .collect();
    assert!(
        !started.is_empty() && started.iter().all(|c| *c == ("pipecat", "opus")),
        "{started:?}"
    );
    assert_turns_agree("Pipecat's SmallWebRTC", &out, &bot_log);
}

/// Opus calls signalled as OpenAI Realtime's WebRTC endpoint (a bearer key, 201 with the call's
/// Location) against the aiortc bot's OpenAI mode: the caller opens the `oai-events` channel and
/// configures the session (the bot logs the `session.update`, named with the call's id); each
/// turn's endpointing is the bot's `speech_stopped`, within 5 ms of the bot's own VAD stop; every
/// turn agrees with the packets; every call is hung up with OpenAI's hangup request.
#[test]
fn four_turn_calls_over_webrtc_with_openai_s_events_channel() {
    let journeys = [("openai-opus", call_json("openai", "opus", ""))];
    let key = ["--header", "Authorization: Bearer sk-test"];
    let (_dir, out, bot_log) = four_turn_calls(AIORTC_BOT, &journeys, &key);
    let log = lines(&bot_log);
    let calls: Vec<&str> = log
        .iter()
        .filter(|l| l["event"] == "call_start" && l["signalling"] == "openai")
        .filter_map(|l| l["call"].as_str())
        .collect();
    let named = |event: &str, field: &str| -> Vec<&str> {
        let lines = log.iter().filter(|l| l["event"] == event);
        lines.filter_map(|l| l[field].as_str()).collect()
    };
    assert!(calls.len() >= 4, "{calls:?}");
    assert_eq!(
        named("session_update", "event_id"),
        named("session_update", "call")
    );
    let (updated, hung_up) = (named("session_update", "call"), named("hangup", "call"));
    let ended: Vec<&&str> = calls.iter().filter(|c| hung_up.contains(c)).collect();
    assert!(
        updated.len() >= calls.len() - 2 && ended.len() >= 4,
        "{calls:?} {updated:?} {hung_up:?}"
    );
    assert_endpointing_agrees(&out, &bot_log);
    assert_turns_agree("aiortc (OpenAI signalling)", &out, &bot_log);
}

/// Every turn's `endpointing_ms` (our last speech sent → the server's `speech_stopped` heard) is
/// within [`AGREEMENT_MS`] of the bot's (its last speech packet in → its VAD stop).
fn assert_endpointing_agrees(run: &Path, bot_log: &Path) {
    let ours: BTreeMap<(String, u64), f64> = lines(&run.join("calls.jsonl"))
        .into_iter()
        .filter(|l| l["event"] == "turn")
        .filter_map(|l| {
            let key = (l["call_id"].as_str()?.to_string(), l["turn"].as_u64()?);
            Some((key, l["endpointing_ms"].as_f64()?))
        })
        .collect();
    let theirs: BTreeMap<(String, u64), f64> = lines(bot_log)
        .into_iter()
        .filter(|l| l["event"] == "turn")
        .filter_map(|l| {
            let key = (l["call"].as_str()?.to_string(), l["turn"].as_u64()?);
            let stop = l["vad_stop_ns"].as_u64()? as f64 - l["last_speech_in_ns"].as_u64()? as f64;
            Some((key, stop / 1e6))
        })
        .collect();
    let d: Vec<f64> = ours
        .iter()
        .filter_map(|(k, e)| Some(e - theirs.get(k)?))
        .collect();
    eprintln!("endpointing, ours − the bot's VAD stop (ms): {d:.2?}");
    assert!(d.len() >= 16, "{} of {} turns matched", d.len(), ours.len());
    assert!(d.iter().all(|x| x.abs() <= AGREEMENT_MS), "{d:?}");
}

/// The reference backend with fixed stages (20 ms each) and 200 ms endpointing, its WebRTC bot
/// among its answers.
async fn reference_bot() -> voiceswarm_backend::BackendHandle {
    crate::support::backend(voiceswarm_backend::BackendConfig {
        fixed_latency_ms: Some(20.0),
        endpoint_ms: 200,
        cache_ttl: 0,
        call_reply_max_ms: 800,
        ..Default::default()
    })
    .await
}

/// The same calls against the reference backend's WebRTC bot (WHIP with Opus, Pipecat's offer
/// with PCMU): every call completes with its barge-in answered, and each turn's voice-to-voice
/// is the bot's fixed latency — 200 ms endpointing + 20 (STT) + 20 (LLM) + 10 (TTS's first
/// half) = 250 ms — plus the wait for its next 20 ms packet slot (a WebRTC bot's stream runs on
/// its own clock: 0–20 ms) and its timers' overhead.
#[test]
fn four_turn_calls_over_webrtc_against_the_reference_bot() {
    let _one = ONE.lock().unwrap_or_else(|e| e.into_inner());
    let rt = tokio::runtime::Runtime::new().unwrap();
    let b = rt.block_on(reference_bot());
    let dir = tmp();
    let journeys = [
        ("whip-opus", call_json("whip", "opus", "")),
        ("pipecat-pcmu", call_json("pipecat", "pcmu", "")),
    ];
    let (s, out) = run(
        dir.path(),
        &b.url(),
        files(dir.path(), &journeys),
        2,
        "20s",
        &[],
    );
    assert_calls_completed(&s, 2);
    let ours = our_turns(&out);
    assert!(ours.len() >= 8, "{ours:?}");
    let v2v: Vec<f64> = ours.values().map(|t| t.0).collect();
    eprintln!("WebRTC vs the reference bot: voice-to-voice {v2v:?}");
    assert!(v2v.iter().all(|v| (249.0..=290.0).contains(v)), "{v2v:?}");
}

/// A bad network on purpose against the reference bot. Clean, the bot's stream arrives with
/// under 2 ms of RFC 3550 jitter. With `impair: {loss: 2%, jitter: 30ms, latency: 80ms}` on five
/// callers for 30 s (over 5,000 of the bot's packets): the measured loss reads 2 ± 0.5 %; the
/// jitter reads about 10 ms — each packet's added delay is uniform on 0–30 ms, and J averages
/// the change in delay between consecutive arrivals, |U₁ − U₂|, whose mean is a third of the
/// range; and voice-to-voice gains the latency both ways, 160 ms (plus the jitter's mean, 15 ms,
/// each way).
#[test]
fn impairment_reads_back_as_loss_jitter_and_latency() {
    let _one = ONE.lock().unwrap_or_else(|e| e.into_inner());
    let rt = tokio::runtime::Runtime::new().unwrap();
    let b = rt.block_on(reference_bot());
    let metric = |s: &serde_json::Value, p: &str| {
        crate::support::metric(s, "call:jitter")[p]
            .as_f64()
            .unwrap()
    };
    let clean = tmp();
    let journeys = [("clean", call_json("whip", "opus", ""))];
    let (s, _) = run(
        clean.path(),
        &b.url(),
        files(clean.path(), &journeys),
        2,
        "12s",
        &[],
    );
    let calm = metric(&s, "median_ms");
    let bad = tmp();
    let knobs =
        r#""impair": {"loss": "2%", "jitter": "30ms", "latency": "80ms"}, "turn_timeout": "5s", "#;
    let journeys = [("impaired", call_json("whip", "opus", knobs))];
    let (s, out) = run(
        bad.path(),
        &b.url(),
        files(bad.path(), &journeys),
        5,
        "30s",
        &[],
    );
    let calls = &s["totals"]["calls"];
    let expected = calls["rtp_packets_expected"].as_u64().unwrap();
    let lost = calls["rtp_packets_lost"].as_u64().unwrap();
    let loss = 100.0 * lost as f64 / expected as f64;
    let jittery = metric(&s, "median_ms");
    let v2v: Vec<f64> = our_turns(&out).values().map(|t| t.0).collect();
    let mut sorted = v2v.clone();
    sorted.sort_by(f64::total_cmp);
    let median = sorted.get(sorted.len() / 2).copied().unwrap_or(f64::NAN);
    eprintln!(
        "impaired: {lost} of {expected} packets lost ({loss:.2} %); jitter P50 {calm:.2} ms clean → {jittery:.2} ms; voice-to-voice median {median:.1} ms"
    );
    assert!(expected >= 5_000, "{calls}");
    // The run judges the same figure against the targets' `packet_loss`.
    let verdicts = s["verdicts"].as_array().unwrap();
    let judged = verdicts.iter().find(|v| v["name"] == "packet_loss");
    let judged = judged.unwrap_or_else(|| panic!("no packet_loss verdict: {verdicts:?}"));
    assert_eq!(judged["status"], "met", "{judged}");
    let observed = judged["observed_percent"].as_f64().unwrap();
    assert!(
        (observed - loss).abs() < 0.01,
        "{judged} against {loss:.2} %"
    );
    // One standard deviation of the rate over ~6,900 packets is 0.17 %. (A systematic +0.4 %
    // once came from str0m's one-packet hold: two datagrams released in one tick lost the first.)
    assert!((1.5..=2.5).contains(&loss), "{loss:.2} % lost: {calls}");
    assert!(calm < 3.0, "clean jitter P50 {calm} ms");
    assert!((7.0..=13.0).contains(&jittery), "jitter P50 {jittery} ms");
    assert!(median >= 250.0 + 160.0, "voice-to-voice {sorted:?}");
}
