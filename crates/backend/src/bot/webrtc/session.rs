//! One WebRTC call at the reference bot: a str0m peer in RTP mode on its own UDP socket that
//! answers the caller's offer, hears each packet through the WebSocket bot's ear (Opus decoded
//! at 48 kHz, PCMU as it is), thinks through the same stages and pools, and speaks a packet
//! every 20 ms — silence, or its tone while a reply plays — stopping a reply the moment the
//! caller speaks over it. A call ends on DELETE, the caller's close, or 10 s without a packet.

use super::super::ear::{Ear, Heard};
use super::super::voice::{self, Reply};
use crate::state::{AppState, Reject};
use bytes::Bytes;
use futures::future::BoxFuture;
use std::net::{IpAddr, SocketAddr};
use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant};
use str0m::change::SdpOffer;
use str0m::format::Codec;
use str0m::media::{Mid, Pt};
use str0m::net::{Protocol, Receive};
use str0m::rtp::RtpWrite;
use str0m::{Candidate, Event, Input, Output, Rtc};
use tokio::net::UdpSocket;
use tokio::sync::oneshot;
use voiceswarm_model::audio::opus;
use voiceswarm_model::audio::speech::{tone_frames, Format, FRAME};

/// A caller silent this long (no packet at all) has gone.
const IDLE: Duration = Duration::from_secs(10);
/// Opus is heard at 48 kHz, as the caller judged its own packets at load: decoded at 16 kHz, an
/// utterance's quiet last packet can fall below the speech level (its energy above 8 kHz gone)
/// and the turn reads 20 ms short (measured: 241 ms for 250).
const EAR_RATE: u32 = 48_000;

/// The bot's voice in one codec: a second of tone and a packet of silence.
struct Voice {
    tone: Vec<Bytes>,
    silence: Bytes,
}

fn voice(codec: Codec) -> &'static Voice {
    static OPUS: OnceLock<Voice> = OnceLock::new();
    static PCMU: OnceLock<Voice> = OnceLock::new();
    if codec == Codec::Opus {
        OPUS.get_or_init(|| {
            let f = Format::Pcm16(opus::RATE);
            let packets = |frames: &[Bytes]| -> Vec<Bytes> {
                let encoded = opus::encode_utterance(frames).unwrap_or_default();
                encoded.into_iter().map(|(p, _)| p).collect()
            };
            Voice {
                tone: packets(&tone_frames(f)),
                silence: packets(&[f.silence()]).pop().unwrap_or_default(),
            }
        })
    } else {
        PCMU.get_or_init(|| Voice {
            tone: tone_frames(Format::MuLaw8k),
            silence: Format::MuLaw8k.silence(),
        })
    }
}

pub struct Peer {
    rtc: Rtc,
    socket: UdpSocket,
    local: SocketAddr,
    timeout: Instant,
}

impl Peer {
    /// Answers `offer` (Opus or PCMU, whichever it has first) on a UDP socket on `ip`.
    pub async fn answer(ip: IpAddr, offer: &str) -> Result<(Peer, String), String> {
        let offer =
            SdpOffer::from_sdp_string(offer).map_err(|e| format!("not an SDP offer: {e}"))?;
        let socket = UdpSocket::bind((ip, 0))
            .await
            .map_err(|e| format!("cannot bind UDP on {ip}: {e}"))?;
        let local = socket.local_addr().map_err(|e| e.to_string())?;
        let now = Instant::now();
        let mut rtc = Rtc::builder()
            .set_rtp_mode(true)
            .clear_codecs()
            .enable_opus(true, false)
            .enable_pcmu(true, false)
            .build(now);
        let candidate = Candidate::host(local, "udp").map_err(|e| e.to_string())?;
        rtc.add_local_candidate(candidate);
        let answer = rtc
            .sdp_api()
            .accept_offer(offer)
            .map_err(|e| format!("the offer was refused: {e}"))?;
        let peer = Peer {
            rtc,
            socket,
            local,
            timeout: now,
        };
        Ok((peer, answer.to_sdp_string()))
    }

    fn send_all(&mut self, events: &mut Vec<Event>) {
        loop {
            match self.rtc.poll_output() {
                Ok(Output::Timeout(t)) => {
                    self.timeout = t;
                    return;
                }
                Ok(Output::Transmit(t)) => {
                    let _ = self.socket.try_send_to(&t.contents, t.destination);
                }
                Ok(Output::Event(e)) => events.push(e),
                Err(_) => {
                    // A broken session: wake at once, and the loop ends it.
                    self.timeout = Instant::now() + Duration::from_secs(3600);
                    self.rtc.disconnect();
                    return;
                }
            }
        }
    }
}

/// The call's stream once the caller's first packet named the codec.
struct Stream {
    mid: Mid,
    pt: Pt,
    codec: Codec,
    ear: Ear,
    decoder: Option<opus::Decoder>,
    /// The next packet's index on the 20 ms grid, and the grid's start.
    k: u64,
    start: Instant,
}

/// A reply being spoken: from when, and how many packets.
struct Speaking {
    from: Instant,
    next: usize,
    frames: usize,
}

struct Call {
    s: Arc<AppState>,
    stream: Option<Stream>,
    thinking: Option<BoxFuture<'static, Result<Reply, Reject>>>,
    speaking: Option<Speaking>,
    last_packet: Instant,
    id: String,
}

impl Call {
    /// One RTP packet from the caller: the stream named if it is the first, then the ear.
    fn packet(&mut self, rtc: &Rtc, mid: Mid, pt: Pt, payload: &[u8], now: Instant) {
        self.last_packet = now;
        if self.stream.is_none() {
            let Some(codec) = rtc
                .codec_config()
                .find(|p| p.pt() == pt)
                .map(|p| p.spec().codec)
            else {
                return;
            };
            let (format, decoder) = match codec {
                Codec::Opus => (Format::Pcm16(EAR_RATE), opus::Decoder::new(EAR_RATE).ok()),
                _ => (Format::MuLaw8k, None),
            };
            let endpoint = Duration::from_millis(self.s.config.endpoint_ms);
            self.stream = Some(Stream {
                mid,
                pt,
                codec,
                ear: Ear::new(format, endpoint),
                decoder,
                k: 0,
                start: now,
            });
        }
        let Some(st) = &mut self.stream else { return };
        let heard = match &mut st.decoder {
            Some(d) => st.ear.hear(d.decode(payload)),
            None => st.ear.hear(payload),
        };
        match heard {
            Heard::Nothing => {}
            // Speech over a reply stops it (and a reply being thought of is dropped).
            Heard::SpeechStarted => {
                self.thinking = None;
                self.speaking = None;
            }
            Heard::Utterance(audio) => {
                let format = match st.codec {
                    Codec::Opus => Format::Pcm16(EAR_RATE),
                    _ => Format::MuLaw8k,
                };
                let f = voice::think(self.s.clone(), format, self.id.clone(), audio);
                self.thinking = Some(Box::pin(f));
            }
        }
    }

    /// When the next packet is due.
    fn next_frame(&self) -> Option<Instant> {
        self.stream
            .as_ref()
            .map(|st| st.start + FRAME * st.k as u32)
    }

    /// The packet due now: the reply's next, or silence.
    fn speak(&mut self, rtc: &mut Rtc, now: Instant) {
        let Some(st) = &mut self.stream else { return };
        let v = voice(st.codec);
        let payload = match &mut self.speaking {
            Some(sp) if sp.from <= now => {
                let p = v.tone[sp.next % v.tone.len()].clone();
                sp.next += 1;
                if sp.next >= sp.frames {
                    self.speaking = None;
                }
                p
            }
            _ => v.silence.clone(),
        };
        let samples = if st.codec == Codec::Opus { 960 } else { 160 };
        let time = (st.k * samples) as u32;
        if let Some(tx) = rtc.direct_api().stream_tx_by_mid(st.mid, None) {
            tx.write_rtp(RtpWrite::new(
                st.pt,
                st.k.into(),
                time,
                now,
                payload.as_ref(),
            ));
        }
        st.k += 1;
    }
}

/// Waits for `at`, or forever.
async fn until(at: Option<Instant>) {
    match at {
        Some(t) => tokio::time::sleep_until(t.into()).await,
        None => futures::future::pending().await,
    }
}

/// The call's events: packets to the ear; false when the caller closed.
fn events(call: &mut Call, peer: &mut Peer, events: Vec<Event>, now: Instant) -> bool {
    for e in events {
        match e {
            Event::RtpPacket(p) => {
                let mid = p.header.ext_vals.mid;
                let mid = mid.or_else(|| call.stream.as_ref().map(|s| s.mid));
                let mid = mid.or_else(|| {
                    peer.rtc
                        .direct_api()
                        .stream_rx(&p.header.ssrc)
                        .map(|r| r.mid())
                });
                if let Some(mid) = mid {
                    call.packet(&peer.rtc, mid, p.header.payload_type, &p.payload, now);
                }
            }
            Event::Closed => return false,
            _ => {}
        }
    }
    true
}

/// A call from its answer to its end.
pub async fn run(mut peer: Peer, s: Arc<AppState>, mut hung_up: oneshot::Receiver<()>) {
    let mut call = Call {
        s,
        stream: None,
        thinking: None,
        speaking: None,
        last_packet: Instant::now(),
        id: format!("rtc-{}", peer.local.port()),
    };
    let mut buf = vec![0u8; 2048];
    loop {
        let mut out = Vec::new();
        peer.send_all(&mut out);
        if !events(&mut call, &mut peer, out, Instant::now()) || !peer.rtc.is_alive() {
            break;
        }
        if call.last_packet.elapsed() > IDLE {
            break;
        }
        let wake = call
            .next_frame()
            .map_or(peer.timeout, |f| f.min(peer.timeout));
        tokio::select! {
            _ = &mut hung_up => break,
            r = peer.socket.recv_from(&mut buf) => {
                let Ok((n, from)) = r else { break };
                if let Ok(r) = Receive::new(Protocol::Udp, from, peer.local, &buf[..n]) {
                    let _ = peer.rtc.handle_input(Input::Receive(Instant::now(), r));
                }
            }
            reply = async { match &mut call.thinking { Some(f) => f.await, None => futures::future::pending().await } } => {
                call.thinking = None;
                match reply {
                    Ok(r) => call.speaking = Some(Speaking { from: r.first_at, next: 0, frames: r.frames.max(1) }),
                    // A failing stage (--fail-component) ends the call, as a crashed bot would.
                    Err(_) => break,
                }
            }
            _ = until(Some(wake)) => {
                let now = Instant::now();
                if call.next_frame().is_some_and(|f| f <= now) {
                    call.speak(&mut peer.rtc, now);
                }
                if now >= peer.timeout {
                    let _ = peer.rtc.handle_input(Input::Timeout(now));
                }
            }
        }
    }
    let _ = peer.rtc.close();
    let mut rest = Vec::new();
    peer.send_all(&mut rest);
}
