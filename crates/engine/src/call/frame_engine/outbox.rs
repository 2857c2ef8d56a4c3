//! A call's outgoing WebSocket frames (RFC 6455 §5.2: a client's frames masked), framed straight
//! into one buffer that one `send` empties at the tick: no message object, no copy into a
//! library's own buffer. What a full socket refuses waits here until it is writable.

use rand::RngCore;
use std::io::{self, ErrorKind, Write};
use voiceswarm_model::protocol::WireMessage;

const TEXT: u8 = 0x1;
const BINARY: u8 = 0x2;
const CLOSE: u8 = 0x8;

#[derive(Debug, Default)]
pub struct Outbox {
    bytes: Vec<u8>,
    /// The last flush left bytes behind (the socket was full): a frame may be half sent, so
    /// nothing else may write to the socket until it is out.
    blocked: bool,
}

impl Outbox {
    /// Frames `m` (a text or binary message, whole).
    pub fn push(&mut self, m: &WireMessage) {
        match m {
            WireMessage::Text(t) => self.frame(TEXT, t.as_bytes()),
            WireMessage::Binary(b) => self.frame(BINARY, b),
        }
    }

    /// Frames a close (no status: the caller hangs up).
    pub fn close(&mut self) {
        self.frame(CLOSE, &[]);
    }

    fn frame(&mut self, opcode: u8, payload: &[u8]) {
        let n = payload.len();
        self.bytes.push(0x80 | opcode); // FIN: every message is one frame
        match n {
            0..=125 => self.bytes.push(0x80 | n as u8),
            126..=0xFFFF => {
                self.bytes.push(0x80 | 126);
                self.bytes.extend_from_slice(&(n as u16).to_be_bytes());
            }
            _ => {
                self.bytes.push(0x80 | 127);
                self.bytes.extend_from_slice(&(n as u64).to_be_bytes());
            }
        }
        let mut mask = [0u8; 4];
        rand::rng().fill_bytes(&mut mask);
        self.bytes.extend_from_slice(&mask);
        let start = self.bytes.len();
        self.bytes.extend_from_slice(payload);
        for (i, b) in self.bytes[start..].iter_mut().enumerate() {
            *b ^= mask[i & 3];
        }
    }

    /// Whether a frame may be half sent (nothing else may write to the socket).
    pub fn blocked(&self) -> bool {
        self.blocked
    }

    /// Writes what it holds to `socket`, as far as the socket takes it.
    pub fn flush(&mut self, socket: &mut impl Write) -> io::Result<()> {
        let mut sent = 0;
        let result = loop {
            if sent == self.bytes.len() {
                break Ok(());
            }
            match socket.write(&self.bytes[sent..]) {
                Ok(0) => break Err(ErrorKind::WriteZero.into()),
                Ok(n) => sent += n,
                Err(e) if e.kind() == ErrorKind::WouldBlock => break Ok(()),
                Err(e) if e.kind() == ErrorKind::Interrupted => {}
                Err(e) => break Err(e),
            }
        };
        self.bytes.drain(..sent);
        self.blocked = !self.bytes.is_empty();
        result
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Cursor;
    use tokio_tungstenite::tungstenite::protocol::Role;
    use tokio_tungstenite::tungstenite::{Message, WebSocket};

    /// What the outbox frames, a server reads back as the same messages (tungstenite checks
    /// that a client's frames are masked), whatever their length.
    #[test]
    fn frames_read_back_as_the_messages() {
        let long = "x".repeat(70_000);
        let sent = [
            WireMessage::Text("{\"event\":\"media\"}".into()),
            WireMessage::Binary(bytes::Bytes::from(vec![7u8; 300])),
            WireMessage::Text(long.clone()),
        ];
        let mut out = Outbox::default();
        sent.iter().for_each(|m| out.push(m));
        out.close();
        let mut wire = Vec::new();
        out.flush(&mut wire).unwrap();
        assert!(!out.blocked());
        let mut server = WebSocket::from_raw_socket(Cursor::new(wire), Role::Server, None);
        let read: Vec<Message> = (0..4).map(|_| server.read().unwrap()).collect();
        assert_eq!(read[0], Message::text("{\"event\":\"media\"}"));
        assert_eq!(read[1], Message::binary(vec![7u8; 300]));
        assert_eq!(read[2], Message::text(long));
        assert!(matches!(read[3], Message::Close(None)));
    }

    /// A socket that takes part of a frame leaves the rest waiting, and the outbox blocked.
    #[test]
    fn a_full_socket_keeps_the_rest() {
        struct Takes(usize, Vec<u8>);
        impl Write for Takes {
            fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
                let n = buf.len().min(self.0);
                if n == 0 {
                    return Err(ErrorKind::WouldBlock.into());
                }
                self.0 -= n;
                self.1.extend_from_slice(&buf[..n]);
                Ok(n)
            }
            fn flush(&mut self) -> io::Result<()> {
                Ok(())
            }
        }
        let mut out = Outbox::default();
        out.push(&WireMessage::Text("hello".into()));
        let mut socket = Takes(4, Vec::new());
        out.flush(&mut socket).unwrap();
        assert!(out.blocked(), "7 of 11 bytes wait");
        socket.0 = 100;
        out.flush(&mut socket).unwrap();
        assert!(!out.blocked());
        assert_eq!(socket.1.len(), 2 + 4 + 5);
    }
}
