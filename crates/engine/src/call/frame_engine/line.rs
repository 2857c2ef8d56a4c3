//! One WebSocket call inside the frame engine: its socket (the upgrade, then the conversation),
//! the frames it owes on schedule, what it hears from the bot, and how it hangs up. Its engine
//! thread drives it: `tick` when its next frame is due, `ready` when its socket is.

use super::outbox::Outbox;
use super::{Job, Report};
use crate::call::conversation::{self, Conversation, Event};
use crate::call::pacer::Pacer;
use crate::call::playback::Playback;
use crate::call::Outcome;
use std::io::ErrorKind;
use std::os::fd::{AsRawFd, RawFd};
use std::sync::Arc;
use std::time::Instant;
use tokio_tungstenite::tungstenite::handshake::client::ClientHandshake;
use tokio_tungstenite::tungstenite::handshake::{HandshakeError, MidHandshake};
use tokio_tungstenite::tungstenite::protocol::WebSocketConfig;
use tokio_tungstenite::tungstenite::stream::MaybeTlsStream;
use tokio_tungstenite::tungstenite::{self, Message, WebSocket};
use voiceswarm_model::protocol::{BotEvent, Wire, WireMessage};
use voiceswarm_model::vocab::{counter, metric, CallFailure};
use voiceswarm_net::{StampedSocket, Stamps};

type Stream = MaybeTlsStream<StampedSocket>;
type Fail = (CallFailure, String);

/// Frames are a few hundred bytes: 4 KiB read buffers instead of 128 KiB. (tungstenite writes
/// only the upgrade and its own replies, pongs and close; the call's frames go out through its
/// [`Outbox`].)
fn config() -> WebSocketConfig {
    WebSocketConfig::default()
        .read_buffer_size(4096)
        .write_buffer_size(0)
        .max_message_size(Some(1 << 20))
        .max_frame_size(Some(1 << 20))
}

/// The conversation of an open call.
struct Talk {
    conv: Conversation,
    pacer: Pacer,
    playback: Playback,
    seq: u64,
    chunk: u64,
    out: Outbox,
    /// The bot's messages wait in the socket until a half-sent frame is out.
    read_later: bool,
}

/// An open call: its WebSocket and its conversation.
struct Connected {
    ws: WebSocket<Stream>,
    talk: Talk,
}

enum Link {
    Upgrading(Box<MidHandshake<ClientHandshake<Stream>>>),
    Open(Box<Connected>),
    /// Taken out while it moves on, or hung up.
    Gone,
}

pub struct Line {
    job: Job,
    link: Link,
    stamps: Arc<Stamps>,
    fd: RawFd,
}

fn would_block(e: &tungstenite::Error) -> bool {
    matches!(e, tungstenite::Error::Io(io) if io.kind() == ErrorKind::WouldBlock)
}

/// A read that failed: a message over the 1 MiB limit, or the connection itself.
fn broke(e: tungstenite::Error) -> Fail {
    match e {
        tungstenite::Error::Capacity(c) => {
            (CallFailure::Oversized, format!("a message over 1 MiB: {c}"))
        }
        e => (
            CallFailure::ClosedEarly,
            format!("the connection broke: {e}"),
        ),
    }
}

/// Sends what the outbox holds, once tungstenite's own writes (a pong, a close reply) are out:
/// the two never interleave within a frame.
fn send(ws: &mut WebSocket<Stream>, out: &mut Outbox) -> Result<(), Fail> {
    let cannot =
        |e: &dyn std::fmt::Display| (CallFailure::ClosedEarly, format!("cannot send: {e}"));
    match ws.flush() {
        Err(e) if would_block(&e) => return Ok(()),
        Err(e) => return Err(cannot(&e)),
        Ok(()) => {}
    }
    out.flush(ws.get_mut()).map_err(|e| cannot(&e))
}

/// What the call does in answer to the bot: mark echoes, and the acknowledgement of a clear
/// where the protocol has one.
#[derive(Debug, Default)]
struct Answer {
    marks: Vec<String>,
    cleared: bool,
}

/// What the call does with one message from the bot.
fn hear(
    wire: &dyn Wire,
    msg: Message,
    now: Instant,
    conv: &mut Conversation,
    playback: &mut Playback,
) -> Result<Answer, Fail> {
    let wire_msg = match msg {
        Message::Text(t) => WireMessage::Text(t.to_string()),
        Message::Binary(b) => WireMessage::Binary(b),
        Message::Close(_) => {
            return Err((CallFailure::ClosedEarly, "the bot closed the call".into()))
        }
        Message::Ping(_) | Message::Pong(_) | Message::Frame(_) => return Ok(Answer::default()),
    };
    match wire
        .parse_bot(&wire_msg)
        .map_err(|e| (CallFailure::Protocol, e))?
    {
        BotEvent::Media(audio) => {
            let speech = wire.format().is_speech(&audio);
            let mid_reply = playback
                .last_speech
                .is_some_and(|t| now - t < conversation::REPLY_GAP);
            playback
                .push(now, &audio, speech, mid_reply)
                .map_err(|queued| {
                    (
                        CallFailure::Flood,
                        format!("{queued:?} of audio queued: far faster than real time"),
                    )
                })?;
            conv.bot_audio(now, speech, playback);
            Ok(Answer::default())
        }
        BotEvent::Mark(name) => {
            playback.mark(now, name);
            conv.bot_mark();
            Ok(Answer::default())
        }
        BotEvent::SpeechStopped => {
            conv.bot_endpoint(now);
            Ok(Answer::default())
        }
        BotEvent::Other => Ok(Answer::default()),
        BotEvent::Clear => {
            conv.bot_clear(now);
            Ok(Answer {
                marks: playback.clear(now),
                cleared: true,
            })
        }
    }
}

impl Talk {
    fn new(plan: &Arc<voiceswarm_model::scenario::CallPlan>, now: Instant) -> Self {
        Self {
            conv: Conversation::new(plan.clone()),
            pacer: Pacer::new(now),
            playback: Playback::new(now, plan.wire.format()),
            seq: 1,
            chunk: 0,
            out: Outbox::default(),
            read_later: false,
        }
    }

    /// Frames mark echoes, numbered as the protocol counts them.
    fn marks(&mut self, job: &Job, names: Vec<String>) {
        for name in names {
            self.seq += 1;
            if let Some(m) = job.plan.wire.mark(&job.ids, &name, self.seq) {
                self.out.push(&m);
            }
        }
    }

    fn answer(&mut self, job: &Job, a: Answer) {
        self.marks(job, a.marks);
        if a.cleared {
            self.seq += 1;
            if let Some(m) = job.plan.wire.cleared(&job.ids, self.seq) {
                self.out.push(&m);
            }
        }
    }

    /// Frames every frame due by `now` (catching up after a late wake), recording its lateness,
    /// and any keys this turn presses. True when the turn's speech (or keys) ended with them.
    fn due_frames(&mut self, job: &Job, now: Instant) -> bool {
        let wire = job.plan.wire.as_ref();
        let mut ended = false;
        if let Some(keys) = self.conv.keys(now) {
            for key in keys.chars() {
                self.seq += 1;
                if let Some(m) = wire.dtmf(&job.ids, &key.to_string(), self.seq) {
                    self.out.push(&m);
                    ended = true;
                }
            }
        }
        while let Some((k, lateness)) = self.pacer.take_due(now) {
            let speaking = self.conv.speaking();
            let frame = self.conv.frame(now);
            self.seq += 1;
            self.chunk += 1;
            let m = wire.media(
                &job.ids,
                &frame,
                self.seq,
                self.chunk,
                Pacer::timestamp_ms(k),
            );
            job.recorder
                .record(job.hint, metric::CALL_FRAME_LATENESS, lateness);
            self.out.push(&m);
            ended |= speaking && !self.conv.speaking();
        }
        ended
    }
}

impl Line {
    /// Starts the WebSocket upgrade on the job's connected socket. None: it failed at once, and
    /// the caller has been told why.
    pub fn start(mut job: Job) -> Option<Self> {
        let refuse = |job: Job, why: String| {
            let failed = Outcome::Failed(CallFailure::Connect, why);
            let _ = job.reports.send(Report::Ended(failed));
            None
        };
        let socket = match job.tcp.take().map(StampedSocket::new) {
            Some(Ok(s)) => s,
            Some(Err(e)) => {
                let why = format!("{}: {e}", job.url);
                return refuse(job, why);
            }
            None => return refuse(job, "no socket to upgrade".into()),
        };
        let (Some(request), Some(connector)) = (job.request.take(), job.connector.take()) else {
            return refuse(job, "no upgrade request".into());
        };
        let stamps = socket.stamps();
        let fd = socket.as_raw_fd();
        let upgrade =
            tungstenite::client_tls_with_config(request, socket, Some(config()), Some(connector));
        let mut line = Self {
            job,
            link: Link::Gone,
            stamps,
            fd,
        };
        match line.upgraded(upgrade) {
            Ok(()) => Some(line),
            Err((kind, why)) => {
                line.end(Outcome::Failed(kind, why));
                None
            }
        }
    }

    /// The call's socket, for the engine's epoll.
    pub fn fd(&self) -> RawFd {
        self.fd
    }

    /// Whether the upgrade is done and the conversation under way.
    pub fn is_open(&self) -> bool {
        matches!(self.link, Link::Open(_))
    }

    /// The call's first frame (and its whole schedule) goes at `at`, its phase in the frame
    /// period. Called once, as it opens, before any frame has left.
    pub fn begin_at(&mut self, at: Instant) {
        if let Link::Open(open) = &mut self.link {
            open.talk.pacer = Pacer::new(at);
        }
    }

    /// When the line next needs its tick: its next frame, or while upgrading, the upgrade's
    /// deadline.
    pub fn next_due(&self) -> Instant {
        match &self.link {
            Link::Open(open) => open.talk.pacer.next_due(),
            _ => self.job.connecting + self.job.plan.turn_timeout,
        }
    }

    /// Takes in the upgrade's progress: still under way, or open (the protocol's opening sent,
    /// the conversation begun), or refused.
    fn upgraded(
        &mut self,
        result: Result<
            (WebSocket<Stream>, tungstenite::handshake::client::Response),
            HandshakeError<ClientHandshake<Stream>>,
        >,
    ) -> Result<(), Fail> {
        match result {
            Ok((mut ws, _)) => {
                let now = Instant::now();
                self.job.recorder.record(
                    self.job.hint,
                    metric::CALL_CONNECT,
                    now - self.job.connecting,
                );
                let mut talk = Talk::new(&self.job.plan, now);
                for m in self.job.plan.wire.opening(&self.job.ids, &self.job.custom) {
                    talk.out.push(&m);
                }
                send(&mut ws, &mut talk.out)?;
                self.link = Link::Open(Box::new(Connected { ws, talk }));
                Ok(())
            }
            Err(HandshakeError::Interrupted(mid)) => {
                self.link = Link::Upgrading(Box::new(mid));
                Ok(())
            }
            Err(HandshakeError::Failure(e)) => Err((
                CallFailure::Connect,
                format!("WebSocket upgrade refused by {}: {e}", self.job.url),
            )),
        }
    }

    /// The socket is ready: the upgrade moves on, or what the bot sent is heard and answered,
    /// and what waited for room is sent. Some: the call ended.
    pub fn ready(&mut self) -> Option<Outcome> {
        self.stamps.readable();
        match std::mem::replace(&mut self.link, Link::Gone) {
            Link::Upgrading(mid) => {
                if let Err((kind, why)) = self.upgraded(mid.handshake()) {
                    return Some(Outcome::Failed(kind, why));
                }
            }
            link => self.link = link,
        }
        let Link::Open(open) = &mut self.link else {
            return None;
        };
        let Connected { ws, talk } = &mut **open;
        // Room in the socket first: a half-sent frame must be out before the bot is read.
        let result = send(ws, &mut talk.out)
            .and_then(|()| hear_all(&self.job, &self.stamps, ws, talk))
            .and_then(|()| send(ws, &mut talk.out));
        let events = talk.conv.take_events();
        report(&self.job, events, result.err())
    }

    /// The line's next frame is due (or its upgrade's deadline has come): frames out, marks
    /// echoed, the conversation moved on. Some: the call ended.
    pub fn tick(&mut self, now: Instant) -> Option<Outcome> {
        let job = &self.job;
        let Link::Open(open) = &mut self.link else {
            let limit = job.plan.turn_timeout;
            return Some(Outcome::Failed(
                CallFailure::Connect,
                format!("{}: no WebSocket within {limit:?}", job.url),
            ));
        };
        let Connected { ws, talk } = &mut **open;
        let result = (|| {
            let speech_ended = talk.due_frames(job, now);
            let due = talk.playback.due_marks(now);
            talk.marks(job, due);
            send(ws, &mut talk.out)?;
            if speech_ended {
                // The turn's speech left with that write: its stamp, not the tick's.
                if let Some(at) = self.stamps.last_write() {
                    talk.conv.speech_left(at);
                }
            }
            if talk.read_later {
                hear_all(job, &self.stamps, ws, talk)?;
                send(ws, &mut talk.out)?;
            }
            talk.conv.tick(now, &mut talk.playback);
            Ok(())
        })();
        let events = talk.conv.take_events();
        if let Some(end) = report(&self.job, events, result.err()) {
            return Some(end);
        }
        let (plan, start) = (&self.job.plan, talk.pacer.start());
        if now - start > plan.max_duration {
            let why = format!("still going after {:?}", plan.max_duration);
            return Some(Outcome::Failed(CallFailure::MaxDuration, why));
        }
        let past_deadline = self.job.deadline.is_some_and(|end| now >= end);
        // Whether the caller's task is gone (Goose stopped it), asked once a second.
        let second = talk.pacer.next_due().duration_since(start).as_millis() % 1000 < 20;
        if past_deadline || (second && self.job.reports.is_closed()) {
            return Some(Outcome::CutShort);
        }
        None
    }

    /// Hangs up (the protocol's stop and a close, unless the bot already closed) and tells the
    /// caller's task how the call ended.
    pub fn end(mut self, outcome: Outcome) {
        if let Link::Open(open) = &mut self.link {
            let Connected { ws, talk } = &mut **open;
            if !matches!(outcome, Outcome::Failed(CallFailure::ClosedEarly, _)) {
                talk.seq += 1;
                if let Some(stop) = self.job.plan.wire.stop(&self.job.ids, talk.seq) {
                    talk.out.push(&stop);
                }
                talk.out.close();
                let _ = send(ws, &mut talk.out);
            }
            let events = talk.conv.take_events();
            if !events.is_empty() {
                let _ = self.job.reports.send(Report::Measured(events));
            }
            self.job.recorder.count(
                self.job.hint,
                counter::CALL_STUTTERS,
                talk.playback.stutters,
            );
        }
        let _ = self.job.reports.send(Report::Ended(outcome));
    }
}

/// Sends the caller's task what the conversation measured; the call's end, if it ended.
fn report(job: &Job, events: Vec<Event>, failed: Option<Fail>) -> Option<Outcome> {
    let end = failed
        .map(|(kind, why)| Outcome::Failed(kind, why))
        .or_else(|| Outcome::of(&events));
    if !events.is_empty() {
        let _ = job.reports.send(Report::Measured(events));
    }
    end
}

/// Hears every message the socket holds, answering each.
fn hear_all(
    job: &Job,
    stamps: &Stamps,
    ws: &mut WebSocket<Stream>,
    talk: &mut Talk,
) -> Result<(), Fail> {
    // tungstenite may answer a ping as it reads: never into the middle of a half-sent frame.
    talk.read_later = talk.out.blocked();
    if talk.read_later {
        return Ok(());
    }
    let wire = job.plan.wire.as_ref();
    loop {
        let msg = match ws.read() {
            Ok(m) => m,
            Err(e) if would_block(&e) => return Ok(()),
            Err(e) => return Err(broke(e)),
        };
        // When the kernel received the message, however late the engine reads it; how late
        // that is, judged (`generator:reading`): over a frame, a read takes the next frame too.
        let read = Instant::now();
        let now = stamps.last_read().unwrap_or(read);
        job.recorder.record(
            job.hint,
            metric::CALL_READ_LAG,
            read.saturating_duration_since(now),
        );
        let answer = hear(wire, msg, now, &mut talk.conv, &mut talk.playback)?;
        talk.answer(job, answer);
    }
}
