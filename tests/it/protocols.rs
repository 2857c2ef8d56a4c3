//! Every registered protocol end to end over real loopback sockets: calls on each against the
//! reference bot (`/ws/<name>`), and on twilio, telnyx, plivo, vonage and exotel against
//! Pipecat 1.14's own serializers and transport (tests/fixtures/pipecat_bot), where each turn's
//! voice-to-voice in the run's `calls.jsonl` is matched with the Pipecat bot's own ground truth
//! (its `turns.jsonl`, stamped at its socket) and must agree within 5 ms.

use crate::support::{read_json, repo, text, tmp, voiceswarm};
use std::collections::BTreeMap;
use std::io::BufRead;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// The Pipecat runs share the machine's 2 cores with nothing else of theirs: the ground truth
/// is stamped in Python, and a starved event loop stamps late.
static PIPECAT: std::sync::Mutex<()> = std::sync::Mutex::new(());

/// How far a turn's voice-to-voice may be from the bot's own gap.
const AGREEMENT_MS: f64 = 5.0;

/// On a shared 2-core machine a process can be starved for tens of ms; the stamps on both
/// sides are taken in user space. At most this many turns of a test may be beyond
/// [`AGREEMENT_MS`], each within [`STARVED_MS`] and printed with where the time went (the
/// wire's lag in or out); a systematic error (the old 100 ms) fails every turn.
const STARVED_TURNS: usize = 2;
const STARVED_MS: f64 = 40.0;

/// The reference bot's timers and stages over its configured latency, at most.
const REFERENCE_OVERHEAD_MS: f64 = 15.0;

/// The project's Python with Pipecat (scripts/install-python-fixtures.sh: at once when made).
fn python() -> String {
    let o = Command::new(repo().join("scripts/install-python-fixtures.sh"))
        .current_dir(repo())
        .output()
        .expect("scripts/install-python-fixtures.sh runs");
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let out = String::from_utf8_lossy(&o.stdout);
    out.lines()
        .last()
        .expect("the venv's python")
        .trim()
        .to_string()
}

/// The Pipecat bot of tests/fixtures/pipecat_bot serving one protocol; killed when dropped.
struct PipecatBot {
    child: Child,
    host: String,
    log: PathBuf,
}

impl PipecatBot {
    fn start(protocol: &str, dir: &Path) -> Self {
        let log = dir.join(format!("{protocol}-turns.jsonl"));
        let mut child = Command::new(python())
            .arg(repo().join("tests/fixtures/pipecat_bot/bot.py"))
            .args(["--protocol", protocol, "--port", "0", "--log"])
            .arg(&log)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("the Pipecat bot starts");
        let mut line = String::new();
        let stdout = child.stdout.take().expect("piped");
        std::io::BufReader::new(stdout)
            .read_line(&mut line)
            .expect("the bot says where it listens");
        // "listening ws://127.0.0.1:PORT/ws/P"
        let url = line.trim().strip_prefix("listening ").unwrap_or_else(|| {
            panic!("the bot's first line: {line:?}");
        });
        let port = url.split(':').nth(2).and_then(|p| p.split('/').next());
        let host = format!("http://127.0.0.1:{}", port.expect("a port"));
        PipecatBot { child, host, log }
    }

    /// The bot's ground truth: each turn's (gap ms, last speech in ns, first reply out ns) by
    /// call id and turn, and its clears.
    fn ground_truth(&self) -> (BTreeMap<(String, u64), Turn>, usize) {
        let mut turns = BTreeMap::new();
        let mut clears = 0;
        for l in lines(&self.log) {
            match l["event"].as_str() {
                Some("turn") => {
                    let key = (
                        l["call"].as_str().unwrap_or("").to_string(),
                        l["turn"].as_u64().unwrap_or(0),
                    );
                    if let Some(gap) = l["gap_ms"].as_f64() {
                        let ns = |f: &str| l[f].as_u64().unwrap_or(0);
                        turns.insert(
                            key,
                            (gap, ns("last_speech_in_ns"), ns("first_reply_out_ns")),
                        );
                    }
                }
                Some("clear") => clears += 1,
                Some("call_error") => panic!("the Pipecat bot refused a call: {l}"),
                _ => {}
            }
        }
        (turns, clears)
    }
}

impl Drop for PipecatBot {
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

/// Writes a scenario with one call journey per `(name, host, call JSON)` and targets that judge
/// only the error and call-failure rates; returns (scenario, targets).
fn files(dir: &Path, journeys: &[(&str, Option<&str>, String)]) -> (String, String) {
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
        .map(|(name, host, call)| {
            let host = host.map(|h| format!(r#""host": "{h}", "#)).unwrap_or_default();
            let step = name.replace('-', "_");
            format!(r#"{{"name": "{name}", {host}"steps": [{{"name": "call:{step}", "call": {call}}}]}}"#)
        })
        .collect();
    let scenario = dir.join("calls.json");
    std::fs::write(
        &scenario,
        format!(
            r#"{{"audio": {{"speech": [{}]}}, "scenarios": [{}]}}"#,
            list.join(", "),
            scenarios.join(", ")
        ),
    )
    .unwrap();
    let targets = dir.join("targets.json");
    std::fs::write(
        &targets,
        r#"{"error_rate": "0%", "calls_failed": "0%", "metrics": {}}"#,
    )
    .unwrap();
    (
        scenario.display().to_string(),
        targets.display().to_string(),
    )
}

/// Runs the scenario for `time` with `users` callers against `host`; the summary and the run
/// folder.
fn run(
    dir: &Path,
    host: &str,
    scenario: &str,
    targets: &str,
    users: usize,
    time: &str,
) -> (serde_json::Value, PathBuf) {
    let out = dir.join("run");
    let users = users.to_string();
    let started = Instant::now();
    let o = voiceswarm(
        &[
            "run",
            "-H",
            host,
            "--scenario-file",
            scenario,
            "--targets",
            targets,
            "-u",
            &users,
            "-r",
            &users,
            "-t",
            time,
            "--out",
            out.to_str().unwrap(),
        ],
        Duration::from_secs(120),
    );
    let all = text(&o);
    assert_eq!(o.status.code(), Some(0), "{all}");
    assert!(!all.contains("panicked"), "{all}");
    eprintln!("run of {time} took {:?}", started.elapsed());
    (read_json(&out.join("summary.json")), out)
}

/// A turn: voice-to-voice (ms), end of speech and first reply (wall clock, ns).
type Turn = (f64, u64, u64);

/// The run's turns by (call id, turn).
fn our_turns(run: &Path) -> BTreeMap<(String, u64), Turn> {
    lines(&run.join("calls.jsonl"))
        .into_iter()
        .filter(|l| l["event"] == "turn")
        .map(|l| {
            let key = (
                l["call_id"].as_str().unwrap_or("").to_string(),
                l["turn"].as_u64().unwrap_or(0),
            );
            let ns = |f: &str| l[f].as_u64().unwrap_or(0);
            let v2v = l["voice_to_voice_ms"].as_f64().unwrap_or(f64::NAN);
            (
                key,
                (
                    v2v,
                    ns("last_speech_sent_ns"),
                    ns("first_reply_received_ns"),
                ),
            )
        })
        .collect()
}

/// Per-turn differences (ours − the bot's), sorted; and for each turn beyond the agreement,
/// where the time went: the wire's lag in (our last speech sent → the bot's stamp) and out (the
/// bot's first reply stamp → ours), in ms, on the shared wall clock.
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
            beyond.push(format!(
                "{} turn {}: {diff:.2} ms (lag in {:.2}, out {:.2})",
                k.0,
                k.1,
                ms(*bot_in, *sent),
                ms(*received, *bot_out)
            ));
        }
        d.push(diff);
    }
    d.sort_by(f64::total_cmp);
    (d, beyond)
}

fn call_json(protocol: &str, path: &str) -> String {
    format!(
        r#"{{"path": "{path}", "protocol": "{protocol}", "turns": [{{"say": "speech", "barge_in_after": "300ms"}}, {{"say": "speech"}}, {{"say": "speech"}}, {{"say": "speech"}}], "pause": ["100ms", "100ms"]}}"#
    )
}

/// Calls on `protocol` against the Pipecat bot: every call completes, barge-in is answered with
/// the protocol's clear, no protocol errors, and every turn agrees with the bot's ground truth.
fn against_pipecat(protocol: &str) {
    let _one_at_a_time = PIPECAT.lock().unwrap_or_else(|e| e.into_inner());
    let started = Instant::now();
    let dir = tmp();
    let bot = PipecatBot::start(protocol, dir.path());
    let (scenario, targets) = files(
        dir.path(),
        &[(
            protocol,
            None,
            call_json(protocol, &format!("/ws/{protocol}")),
        )],
    );
    let (s, out) = run(dir.path(), &bot.host, &scenario, &targets, 6, "36s");
    let calls = &s["totals"]["calls"];
    assert_eq!(calls["failed"], 0, "{protocol}: {calls}");
    assert!(
        calls["completed"].as_u64().unwrap() >= 6,
        "{protocol}: {calls}"
    );
    assert!(
        crate::support::count(&s, "call:barge_in") >= 6,
        "{protocol}: {}",
        s["metrics"]
    );
    let (theirs, clears) = bot.ground_truth();
    assert!(clears >= 6, "{protocol}: the bot cleared {clears} times");
    let ours = our_turns(&out);
    let (d, beyond) = differences(&ours, &theirs);
    let (min, median, max) = (d[0], d[d.len() / 2], d[d.len() - 1]);
    eprintln!(
        "{protocol} vs Pipecat: {} turns matched of {} ours / {} the bot's; ours − bot's: min {min:.2} ms, median {median:.2} ms, max {max:.2} ms; {:?}",
        d.len(), ours.len(), theirs.len(), started.elapsed()
    );
    assert!(
        d.len() >= 50 && d.len() + 6 >= ours.len(),
        "{protocol}: {} turns matched of {}",
        d.len(),
        ours.len()
    );
    if !beyond.is_empty() {
        eprintln!("{protocol}: beyond {AGREEMENT_MS} ms: {beyond:?}");
    }
    assert!(
        median.abs() <= 1.0 && d.iter().all(|x| x.abs() <= STARVED_MS),
        "{protocol}: voice-to-voice is off the bot's ground truth: {d:?}"
    );
    assert!(
        beyond.len() <= STARVED_TURNS,
        "{protocol}: {} turns are more than {AGREEMENT_MS} ms from the bot's ground truth: {beyond:?}",
        beyond.len()
    );
}

#[test]
fn twilio_against_pipecat() {
    against_pipecat("twilio");
}

#[test]
fn telnyx_against_pipecat() {
    against_pipecat("telnyx");
}

#[test]
fn plivo_against_pipecat() {
    against_pipecat("plivo");
}

#[test]
fn vonage_against_pipecat() {
    against_pipecat("vonage");
}

#[test]
fn exotel_against_pipecat() {
    against_pipecat("exotel");
}

/// Every registered protocol in one run against the reference bot (one caller each): calls
/// complete with a barge-in each, no protocol errors, and each turn's voice-to-voice is the
/// bot's fixed latency — 200 ms endpointing + 20 (STT) + 20 (LLM) + 10 (TTS's first half) =
/// 250 ms — plus the bot's own timer overhead (3–8 ms measured: the reference bot does not yet
/// log its own per-turn ground truth, so the bound here is 15 ms), less the lateness of frames
/// the generator caught up on.
#[test]
fn every_protocol_against_the_reference_bot() {
    let _one_at_a_time = PIPECAT.lock().unwrap_or_else(|e| e.into_inner());
    // The backend serves from this runtime's workers while the run blocks this thread.
    let rt = tokio::runtime::Runtime::new().unwrap();
    let b = rt.block_on(crate::support::backend(voiceswarm_backend::BackendConfig {
        fixed_latency_ms: Some(20.0),
        endpoint_ms: 200,
        cache_ttl: 0,
        call_reply_max_ms: 800,
        ..Default::default()
    }));
    let dir = tmp();
    let names: Vec<&str> = voiceswarm_model::protocol::names()
        .leak()
        .split(", ")
        .collect();
    assert!(names.len() >= 6, "{names:?}");
    let journeys: Vec<(&str, Option<&str>, String)> = names
        .iter()
        .map(|p| {
            // The path by default: /ws/<name> (with ?sample_rate= where the caller chooses it).
            // A key pressed in the third turn, where the protocol carries keys: the bot
            // answers it like an utterance (an IVR).
            let call =
                call_json(p, &format!("/ws/{p}")).replace(&format!(r#""path": "/ws/{p}", "#), "");
            let carries_keys = voiceswarm_model::protocol::wire(p, 24_000)
                .or_else(|| voiceswarm_model::protocol::wire(p, 8_000))
                .is_some_and(|w| w.dtmf(&w.ids(0), "1", 0).is_some());
            let call = match carries_keys {
                true => call.replacen(
                    r#"{"say": "speech"}, {"say": "speech"}]"#,
                    r#"{"dtmf": "1"}, {"say": "speech"}]"#,
                    1,
                ),
                false => call,
            };
            (*p, None, call)
        })
        .collect();
    let (scenario, targets) = files(dir.path(), &journeys);
    let host = b.url();
    let users = names.len();
    let dir_path = dir.path().to_path_buf();
    let started = Instant::now();
    let (s, out) = run(&dir_path, &host, &scenario, &targets, users, "25s");
    let calls = &s["totals"]["calls"];
    assert_eq!(calls["failed"], 0, "{calls}");
    let late = crate::support::metric(&s, "call:frame_lateness")["max_ms"]
        .as_f64()
        .unwrap()
        .min(20.0);
    let turns = lines(&out.join("calls.jsonl"));
    for p in &names {
        let ends: Vec<_> = turns
            .iter()
            .filter(|l| l["event"] == "call" && l["protocol"] == *p)
            .collect();
        assert!(
            ends.iter().any(|l| l["outcome"] == "completed"),
            "{p}: {ends:?}"
        );
        let mut v2v: Vec<f64> = turns
            .iter()
            .filter(|l| l["event"] == "turn" && l["protocol"] == *p && l["dtmf"].is_null())
            .map(|l| l["voice_to_voice_ms"].as_f64().unwrap() - 250.0)
            .collect();
        v2v.sort_by(f64::total_cmp);
        eprintln!(
            "{p} vs the reference bot: {} turns; v2v − 250 ms: min {:.2}, median {:.2}, max {:.2}",
            v2v.len(),
            v2v[0],
            v2v[v2v.len() / 2],
            v2v[v2v.len() - 1]
        );
        assert!(v2v.len() >= 8, "{p}: {} turns", v2v.len());
        // As against Pipecat: a starved process may put a turn or two further off, never far.
        let off = v2v
            .iter()
            .filter(|d| !(-AGREEMENT_MS - late..=REFERENCE_OVERHEAD_MS).contains(*d))
            .count();
        assert!(
            off <= STARVED_TURNS && v2v.iter().all(|d| d.abs() <= STARVED_MS),
            "{p}: turns off the bot's 250 ms (frames up to {late} ms late): {v2v:?}"
        );
    }
    assert!(crate::support::count(&s, "call:barge_in") >= names.len() as u64);
    // Every completed call pressed a key and heard the menu answer.
    let keyed = turns.iter().filter(|l| l["dtmf"] == true).count();
    assert!(keyed >= names.len() - 1, "{keyed} DTMF turns");
    assert_eq!(
        crate::support::count(&s, "call:dtmf_to_voice"),
        keyed as u64
    );
    eprintln!(
        "every protocol against the reference bot: {:?}",
        started.elapsed()
    );
}

/// What a hostile bot sends once the call is under way, in `protocol`'s shape (None: the
/// dialect has no such message).
fn hostile_message(protocol: &str, mode: &str) -> Option<tokio_tungstenite::tungstenite::Message> {
    use tokio_tungstenite::tungstenite::Message;
    let huge = format!(
        r#"{{"event":"media","media":{{"payload":"{}"}}}}"#,
        "A".repeat(1 << 20)
    );
    let m = match (mode, protocol) {
        ("unknown", "vonage") => Message::text(r#"{"action":"teleport"}"#),
        ("unknown", "openai-realtime") => Message::text(r#"{"type":"teleport"}"#),
        ("unknown", _) => Message::text(r#"{"event":"teleport"}"#),
        ("bad_base64", "vonage") => Message::binary(vec![1u8, 2, 3]),
        ("bad_base64", "plivo") => Message::text(
            r#"{"event":"playAudio","media":{"contentType":"audio/x-mulaw","sampleRate":8000,"payload":"%%%"}}"#,
        ),
        ("bad_base64", "openai-realtime") => {
            Message::text(r#"{"type":"response.output_audio.delta","delta":"%%%"}"#)
        }
        ("bad_base64", _) => Message::text(r#"{"event":"media","media":{"payload":"%%%"}}"#),
        ("wrong_encoding", "plivo") => Message::text(
            r#"{"event":"playAudio","media":{"contentType":"audio/x-l16","sampleRate":16000,"payload":"AAAA"}}"#,
        ),
        ("wrong_encoding", "openai-realtime") => Message::text(
            r#"{"type":"session.updated","session":{"audio":{"input":{"format":{"type":"audio/pcmu"}}}}}"#,
        ),
        ("wrong_encoding", _) => return None,
        ("huge", _) => Message::text(huge),
        _ => return None,
    };
    Some(m)
}

/// A bot on 127.0.0.1:0 that answers `/<protocol>/<mode>` by sending its hostile message after
/// the caller's tenth message.
// The handshake callback's error type is tungstenite's, not ours.
#[allow(clippy::result_large_err)]
async fn hostile_dialect_bot() -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move {
        while let Ok((tcp, _)) = listener.accept().await {
            tokio::spawn(async move {
                use futures::{SinkExt, StreamExt};
                let path = std::sync::Arc::new(std::sync::Mutex::new(String::new()));
                let seen = path.clone();
                let callback =
                    move |req: &tokio_tungstenite::tungstenite::handshake::server::Request,
                          resp| {
                        *seen.lock().unwrap() = req.uri().path().to_string();
                        Ok(resp)
                    };
                let Ok(mut ws) = tokio_tungstenite::accept_hdr_async(tcp, callback).await else {
                    return;
                };
                let path = path.lock().unwrap().clone();
                let mut parts = path.trim_start_matches('/').split('/');
                let (protocol, mode) = (parts.next().unwrap_or(""), parts.next().unwrap_or(""));
                let mut n = 0;
                while let Some(Ok(_)) = ws.next().await {
                    n += 1;
                    if n == 10 {
                        if let Some(m) = hostile_message(protocol, mode) {
                            if ws.send(m).await.is_err() {
                                return;
                            }
                        }
                    }
                }
            });
        }
    });
    url
}

/// Hostile bots in every dialect: an unknown event, bad base64, the wrong encoding announced
/// (where the dialect announces one) and a message over 1 MiB each fail the call with a named
/// kind — no panic, and the run folder is whole.
#[tokio::test]
async fn hostile_bots_in_every_dialect_fail_calls_of_a_named_kind() {
    let host = hostile_dialect_bot().await;
    let names: Vec<String> = voiceswarm_model::protocol::names()
        .split(", ")
        .filter(|p| *p != "twilio" && *p != "raw")
        .map(str::to_string)
        .collect();
    for (mode, kind) in [
        ("unknown", "call_protocol"),
        ("bad_base64", "call_protocol"),
        ("wrong_encoding", "call_protocol"),
        ("huge", "call_oversized"),
    ] {
        let journeys: Vec<(&str, Option<&str>, String)> = names
            .iter()
            .filter(|p| hostile_message(p, mode).is_some())
            .map(|p| {
                let call = format!(
                    r#"{{"path": "/{p}/{mode}", "protocol": "{p}", "turns": [{{"say": "speech"}}], "turn_timeout": "2s"}}"#
                );
                (p.as_str(), None, call)
            })
            .collect();
        let dir = tmp();
        let (scenario, targets) = files(dir.path(), &journeys);
        let out = dir.path().join("run");
        let (host, users) = (host.clone(), journeys.len().to_string());
        let o = tokio::task::spawn_blocking(move || {
            voiceswarm(
                &[
                    "run",
                    "-H",
                    &host,
                    "--scenario-file",
                    &scenario,
                    "--targets",
                    &targets,
                    "-u",
                    &users,
                    "-r",
                    &users,
                    "--iterations",
                    "1",
                    "--out",
                    out.to_str().unwrap(),
                ],
                Duration::from_secs(60),
            )
        })
        .await
        .unwrap();
        let all = text(&o);
        assert_eq!(o.status.code(), Some(1), "{mode}: {all}");
        assert!(!all.contains("panicked"), "{mode}: {all}");
        crate::support::assert_folder_matches_schemas(&dir.path().join("run"));
        let s = read_json(&dir.path().join("run/summary.json"));
        assert_eq!(
            s["totals"]["errors_by_kind"][kind],
            journeys.len(),
            "{mode}: {}",
            s["totals"]
        );
        let ends = lines(&dir.path().join("run/calls.jsonl"));
        for p in journeys.iter().map(|j| j.0) {
            assert!(
                ends.iter()
                    .any(|l| l["protocol"] == p && l["failure"] == kind),
                "{mode}/{p}: {ends:?}"
            );
        }
    }
}
