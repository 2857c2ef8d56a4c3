//! The caller's ear: the bot's audio played in real time from a queue, marks echoed once the
//! audio before them has played (at once when cleared), each reply's length, stutters (the
//! queue ran dry for over 100 ms mid-reply), and floods (far more audio than real time).

use std::collections::VecDeque;
use std::time::{Duration, Instant};
use voiceswarm_model::audio::speech::Format;

/// A gap in the bot's audio longer than this, while it speaks, is a stutter.
pub const STUTTER: Duration = Duration::from_millis(100);
/// More audio than this queued for playback is a flood: no bot speaks that far ahead.
pub const FLOOD: Duration = Duration::from_secs(30);

#[derive(Debug)]
pub struct Playback {
    format: Format,
    /// When the queued audio has finished playing.
    played_until: Instant,
    /// Marks, and when the audio queued before each has played.
    marks: VecDeque<(String, Instant)>,
    /// When the last frame of speech arrived.
    pub last_speech: Option<Instant>,
    /// Speech received since the current reply began.
    pub reply_audio: Duration,
    pub stutters: u64,
}

impl Playback {
    pub fn new(now: Instant, format: Format) -> Self {
        Self {
            format,
            played_until: now,
            marks: VecDeque::new(),
            last_speech: None,
            reply_audio: Duration::ZERO,
            stutters: 0,
        }
    }

    /// Starts counting a new reply's audio.
    pub fn start_reply(&mut self) {
        self.reply_audio = Duration::ZERO;
    }

    /// Queues `audio` that arrived at `now`; `mid_reply` says the reply had already begun.
    /// Err: a flood.
    pub fn push(
        &mut self,
        now: Instant,
        audio: &[u8],
        speech: bool,
        mid_reply: bool,
    ) -> Result<(), Duration> {
        let d = self.format.duration(audio.len());
        if mid_reply && speech && now > self.played_until + STUTTER {
            self.stutters += 1;
        }
        self.played_until = self.played_until.max(now) + d;
        if speech {
            self.last_speech = Some(now);
            self.reply_audio += d;
        }
        let queued = self.played_until.saturating_duration_since(now);
        if queued > FLOOD {
            return Err(queued);
        }
        Ok(())
    }

    /// A mark from the bot: echoed when the audio queued before it has played.
    pub fn mark(&mut self, now: Instant, name: String) {
        self.marks.push_back((name, self.played_until.max(now)));
    }

    /// The marks whose audio has played by `now`, in order.
    pub fn due_marks(&mut self, now: Instant) -> Vec<String> {
        let mut out = Vec::new();
        while self.marks.front().is_some_and(|(_, at)| *at <= now) {
            if let Some((name, _)) = self.marks.pop_front() {
                out.push(name);
            }
        }
        out
    }

    /// The bot cleared its audio: nothing more plays; every pending mark is echoed now.
    pub fn clear(&mut self, now: Instant) -> Vec<String> {
        self.played_until = now;
        self.marks.drain(..).map(|(name, _)| name).collect()
    }

    /// Whether audio is still playing at `now`.
    pub fn playing(&self, now: Instant) -> bool {
        self.played_until > now
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const F: usize = 160; // 20 ms of μ-law

    #[test]
    fn plays_in_real_time_echoes_marks_and_counts_stutters() {
        let t0 = Instant::now();
        let mut p = Playback::new(t0, Format::MuLaw8k);
        let ms = |n: u64| t0 + Duration::from_millis(n);
        // 100 ms of audio arrives at once, then a mark.
        for _ in 0..5 {
            p.push(t0, &[0u8; F], true, true).unwrap();
        }
        p.mark(t0, "reply-1".into());
        assert!(p.due_marks(ms(99)).is_empty());
        assert_eq!(p.due_marks(ms(100)), vec!["reply-1".to_string()]);
        assert!(!p.playing(ms(100)));
        // The next frame comes 150 ms after playback ran dry: a stutter.
        p.push(ms(250), &[0u8; F], true, true).unwrap();
        assert_eq!(p.stutters, 1);
        assert_eq!(p.reply_audio, Duration::from_millis(120));
        // Cleared: pending marks are echoed at once.
        p.push(ms(260), &[0u8; F], true, true).unwrap();
        p.mark(ms(260), "reply-2".into());
        assert_eq!(p.clear(ms(261)), vec!["reply-2".to_string()]);
        assert!(!p.playing(ms(261)));
    }

    #[test]
    fn a_flood_is_refused() {
        let t0 = Instant::now();
        let mut p = Playback::new(t0, Format::MuLaw8k);
        let flood = (0..2000)
            .map(|_| p.push(t0, &[0u8; F], true, true))
            .find(Result::is_err);
        assert!(flood.is_some(), "40 s of audio at once is a flood");
    }
}
