//! The caller's ear on a WebRTC call: each RTP payload of the bot decoded just enough to tell
//! speech from silence — Opus at 16 kHz (a third of the work of 48 kHz; a tone or a voice keeps
//! its level; a bot's repeated silence packets are not decoded once the decoder is at rest, see
//! `audio::opus::Decoder`), PCMU as it is — by the one speech rule of `audio::speech`.

use voiceswarm_model::audio::opus;
use voiceswarm_model::audio::speech::Format;
use voiceswarm_model::scenario::webrtc::RtpCodec;

/// The rate the caller decodes Opus at.
const OPUS_EAR_RATE: u32 = 16_000;

#[derive(Debug)]
pub enum Ear {
    Opus(opus::Decoder),
    Pcmu,
}

impl Ear {
    pub fn new(codec: RtpCodec) -> Result<Self, String> {
        Ok(match codec {
            RtpCodec::Opus => Ear::Opus(opus::Decoder::new(OPUS_EAR_RATE)?),
            RtpCodec::Pcmu => Ear::Pcmu,
        })
    }

    /// The format of the audio [`Ear::hear`] returns.
    pub fn format(&self) -> Format {
        match self {
            Ear::Opus(d) => d.format(),
            Ear::Pcmu => Format::MuLaw8k,
        }
    }

    /// A payload's audio and whether it is speech.
    pub fn hear<'a>(&'a mut self, payload: &'a [u8]) -> (&'a [u8], bool) {
        match self {
            Ear::Opus(d) => {
                let format = d.format();
                let pcm = d.decode(payload);
                (pcm, format.is_speech(pcm))
            }
            Ear::Pcmu => (payload, Format::MuLaw8k.is_speech(payload)),
        }
    }
}
