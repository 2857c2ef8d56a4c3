//! One WebRTC peer connection as a caller holds it: str0m's sans-I/O state machine (ICE, DTLS,
//! SRTP, RTCP receiver reports) driven by one tokio UDP socket, in RTP mode — packets in and out
//! as they are, no jitter buffer, so what is measured is the network and the bot — with the
//! step's impairment on both directions; and, with OpenAI's signalling, its events channel.

use super::events;
use super::impair::{earliest, Datagram, Line};
use bytes::Bytes;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::Arc;
use std::time::Instant;
use str0m::change::{SdpAnswer, SdpPendingOffer};
use str0m::channel::ChannelId;
use str0m::format::Codec;
use str0m::media::{Direction, MediaKind, Mid, Pt};
use str0m::net::{Protocol, Receive};
use str0m::rtp::RtpWrite;
use str0m::{Candidate, Event, IceConnectionState, Input, Output, Rtc};
use tokio::net::UdpSocket;
use voiceswarm_model::scenario::webrtc::{RtpCodec, Signalling, WebRtcPlan};

/// What the peer connection brought.
#[derive(Debug)]
pub enum Heard {
    /// ICE and DTLS are up: media may flow.
    Connected,
    /// One RTP packet of the bot's audio, as it arrived.
    Rtp {
        at: Instant,
        seq: u64,
        time: u64,
        payload: Arc<[u8]>,
    },
    /// The connection is gone.
    Closed(String),
    /// The events channel (OpenAI signalling) is open: the session may be configured.
    EventsOpen,
    /// A text message on the events channel, and when its datagram reached us.
    Event { at: Instant, text: String },
}

pub struct Peer {
    rtc: Rtc,
    mid: Mid,
    codec: RtpCodec,
    pt: Option<Pt>,
    pending: Option<SdpPendingOffer>,
    local: SocketAddr,
    socket: UdpSocket,
    inbound: Line,
    outbound: Line,
    timeout: Instant,
    /// When the datagram last put into str0m reached us: the kernel's receive time, or (through
    /// an impaired line) its release — what the RTP packet it carried is heard at.
    arrival: Instant,
    /// When the last datagram left us: handed to the kernel, or to the impaired line.
    last_sent: Option<Instant>,
    /// The events data channel, once open (offered with OpenAI's signalling only).
    events: Option<ChannelId>,
}

/// The address to offer as our candidate for reaching `remote`: loopback for a bot on this
/// machine, else the interface the system routes to it from (no packet is sent to find it).
async fn local_ip(remote: IpAddr) -> Result<IpAddr, String> {
    if remote.is_loopback() {
        return Ok(IpAddr::V4(Ipv4Addr::LOCALHOST));
    }
    let probe = UdpSocket::bind((Ipv4Addr::UNSPECIFIED, 0))
        .await
        .map_err(|e| format!("cannot open a UDP socket: {e}"))?;
    probe
        .connect((remote, 9))
        .await
        .map_err(|e| format!("no route to {remote}: {e}"))?;
    probe
        .local_addr()
        .map(|a| a.ip())
        .map_err(|e| format!("no local address towards {remote}: {e}"))
}

impl Peer {
    /// A peer connection towards the bot at `remote` (the signalling host's address) offering
    /// one send-and-receive audio track in the plan's codec only (and, with OpenAI's
    /// signalling, the `oai-events` data channel); and its SDP offer.
    pub async fn offer(remote: IpAddr, plan: &WebRtcPlan) -> Result<(Self, String), String> {
        let ip = local_ip(remote).await?;
        let socket = UdpSocket::bind((ip, 0))
            .await
            .map_err(|e| format!("cannot bind a UDP socket on {ip}: {e}"))?;
        // The bot's packets are heard when the kernel received them, not when this call's task
        // got round to reading them (a kernel that refuses stamps: when the read returns).
        voiceswarm_net::stamp_datagrams(&socket);
        let local = socket
            .local_addr()
            .map_err(|e| format!("no local address: {e}"))?;
        let now = Instant::now();
        let config = Rtc::builder().set_rtp_mode(true).clear_codecs();
        let config = match plan.codec {
            RtpCodec::Opus => config.enable_opus(true, false),
            RtpCodec::Pcmu => config.enable_pcmu(true, false),
        };
        let mut rtc = config.build(now);
        let candidate =
            Candidate::host(local, "udp").map_err(|e| format!("candidate {local}: {e}"))?;
        rtc.add_local_candidate(candidate);
        let mut change = rtc.sdp_api();
        let mid = change.add_media(MediaKind::Audio, Direction::SendRecv, None, None, None);
        if plan.signalling == Signalling::OpenAi {
            change.add_channel(events::CHANNEL.into());
        }
        let (offer, pending) = change
            .apply()
            .ok_or_else(|| "str0m made no offer".to_string())?;
        let peer = Peer {
            rtc,
            mid,
            codec: plan.codec,
            pt: None,
            pending: Some(pending),
            local,
            socket,
            inbound: Line::new(plan.impair),
            outbound: Line::new(plan.impair),
            timeout: now,
            arrival: now,
            last_sent: None,
            events: None,
        };
        Ok((peer, offer.to_sdp_string()))
    }

    /// Takes the bot's SDP answer; errors say what in it was refused.
    pub fn accept(&mut self, sdp: &str) -> Result<(), String> {
        let answer =
            SdpAnswer::from_sdp_string(sdp).map_err(|e| format!("not an SDP answer: {e}"))?;
        let pending = self
            .pending
            .take()
            .ok_or_else(|| "an answer twice".to_string())?;
        self.rtc
            .sdp_api()
            .accept_answer(pending, answer)
            .map_err(|e| format!("the SDP answer was refused: {e}"))?;
        let codec = match self.codec {
            RtpCodec::Opus => Codec::Opus,
            RtpCodec::Pcmu => Codec::PCMU,
        };
        self.pt = self
            .rtc
            .codec_config()
            .find(|p| p.spec().codec == codec)
            .map(|p| p.pt());
        match self.pt {
            Some(_) => Ok(()),
            None => Err(format!("the answer has no {}", self.codec.name())),
        }
    }

    pub fn socket(&self) -> &UdpSocket {
        &self.socket
    }

    /// When the peer next needs [`Peer::tick`]: str0m's timer or a held datagram's release.
    pub fn wake(&self) -> Instant {
        let held = earliest(self.timeout, self.inbound.next());
        earliest(held, self.outbound.next())
    }

    /// A datagram the kernel received at `arrived`, read at `now`: into the inbound line (held
    /// from its arrival), or straight in.
    pub fn received(&mut self, now: Instant, arrived: Instant, from: SocketAddr, bytes: &[u8]) {
        if self.inbound.active() {
            let d = Datagram {
                peer: from,
                bytes: bytes.to_vec(),
            };
            self.inbound.push(arrived, d);
        } else {
            self.input(now, arrived, from, bytes);
        }
    }

    /// A datagram that reached us at `arrived` into str0m at `now` (its clock only moves
    /// forward); one that is not WebRTC's (or that str0m refuses) is ignored, as a browser does.
    fn input(&mut self, now: Instant, arrived: Instant, from: SocketAddr, bytes: &[u8]) {
        let Ok(r) = Receive::new(Protocol::Udp, from, self.local, bytes) else {
            return;
        };
        self.arrival = arrived;
        let _ = self.rtc.handle_input(Input::Receive(now, r));
    }

    /// When the last datagram left us (handed to the kernel, or to the impaired line).
    pub fn last_sent(&self) -> Option<Instant> {
        self.last_sent
    }

    fn transmit(&mut self, now: Instant, to: SocketAddr, bytes: &[u8]) {
        if self.outbound.active() {
            self.last_sent = Some(now);
            let d = Datagram {
                peer: to,
                bytes: bytes.to_vec(),
            };
            self.outbound.push(now, d);
        } else {
            // UDP: a datagram the kernel cannot take now is lost, as on any network.
            self.last_sent = Some(Instant::now());
            let _ = self.socket.try_send_to(bytes, to);
        }
    }

    /// Releases what the lines hold by `now` and lets str0m's timers run; what str0m has to say
    /// after each goes into `out`. str0m holds one received RTP packet until it is polled: two
    /// datagrams put in without a poll between them lose the first (an impaired line releasing
    /// two at once did, 0.4 % of the bot's packets), so each input is drained before the next.
    pub fn tick(&mut self, now: Instant, out: &mut Vec<Heard>) -> Result<(), String> {
        while let Some((released, d)) = self.inbound.pop_due(now) {
            self.input(now, released, d.peer, &d.bytes);
            self.pump(now, out)?;
        }
        while let Some((_, d)) = self.outbound.pop_due(now) {
            let _ = self.socket.try_send_to(&d.bytes, d.peer);
        }
        if now >= self.timeout {
            self.rtc
                .handle_input(Input::Timeout(now))
                .map_err(|e| format!("WebRTC: {e}"))?;
            self.pump(now, out)?;
        }
        Ok(())
    }

    /// Sends frame `k` of the call (its RTP sequence number and timestamp follow from `k`); the
    /// datagram goes out with the next [`Peer::pump`].
    pub fn send_audio(&mut self, now: Instant, k: u64, payload: &Bytes) {
        let Some(pt) = self.pt else { return };
        let samples = self.codec.clock_rate() as u64 / 50;
        let mut api = self.rtc.direct_api();
        let Some(tx) = api.stream_tx_by_mid(self.mid, None) else {
            return;
        };
        let time = (k * samples) as u32;
        tx.write_rtp(RtpWrite::new(pt, k.into(), time, now, payload.as_ref()).marker(k == 0));
        // str0m's pacer releases a written packet at its next timeout: run it now, so the
        // packet leaves in this tick (and `last_sent` is its send) rather than at the next wake.
        let _ = self.rtc.handle_input(Input::Timeout(now));
    }

    /// Everything str0m has to say after an input: datagrams to send (now or into the line),
    /// events into `out`; then its next timer.
    pub fn pump(&mut self, now: Instant, out: &mut Vec<Heard>) -> Result<(), String> {
        loop {
            match self.rtc.poll_output().map_err(|e| format!("WebRTC: {e}"))? {
                Output::Timeout(t) => {
                    self.timeout = t;
                    return Ok(());
                }
                Output::Transmit(t) => {
                    let to = t.destination;
                    self.transmit(now, to, &t.contents);
                }
                Output::Event(e) => self.event(e, out),
            }
        }
    }

    fn event(&mut self, e: Event, out: &mut Vec<Heard>) {
        match e {
            Event::Connected => out.push(Heard::Connected),
            Event::RtpPacket(p) if Some(p.header.payload_type) == self.pt => out.push(Heard::Rtp {
                at: self.arrival,
                seq: *p.seq_no,
                time: p.time.numer(),
                payload: p.payload,
            }),
            Event::IceConnectionStateChange(IceConnectionState::Disconnected) => out.push(
                Heard::Closed("ICE disconnected: the bot stopped answering".into()),
            ),
            Event::Closed => out.push(Heard::Closed("the bot closed the connection".into())),
            Event::ChannelOpen(id, label) if label == events::CHANNEL => {
                self.events = Some(id);
                out.push(Heard::EventsOpen);
            }
            Event::ChannelData(d) if Some(d.id) == self.events && !d.binary => {
                out.push(Heard::Event {
                    at: self.arrival,
                    text: String::from_utf8_lossy(&d.data).into_owned(),
                })
            }
            _ => {}
        }
    }

    /// Sends `text` on the events channel; an error when it is not open or full.
    pub fn send_event(&mut self, text: &str) -> Result<(), String> {
        let channel = self.events.and_then(|id| self.rtc.channel(id));
        match channel.map(|mut c| c.write(false, text.as_bytes())) {
            Some(Ok(true)) => Ok(()),
            Some(Ok(false)) => Err(format!("{}: the channel is full", events::CHANNEL)),
            Some(Err(e)) => Err(format!("{}: {e}", events::CHANNEL)),
            None => Err(format!("{}: not open", events::CHANNEL)),
        }
    }

    /// Hangs up: RTCP BYE and DTLS close_notify leave at once (past any impairment).
    pub fn close(&mut self) {
        if self.rtc.close().is_err() {
            return;
        }
        for _ in 0..64 {
            match self.rtc.poll_output() {
                Ok(Output::Transmit(t)) => {
                    let _ = self.socket.try_send_to(&t.contents, t.destination);
                }
                Ok(Output::Event(_)) => {}
                Ok(Output::Timeout(_)) | Err(_) => break,
            }
        }
    }
}
