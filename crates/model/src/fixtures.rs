//! The committed speech fixtures (scenarios/audio/, made by scripts/make-audio-fixtures.sh),
//! built into the binary so the reference backend recognises them, the probe can send them, and
//! the default journeys run from any directory.

/// One recorded utterance.
#[derive(Debug, Clone, Copy)]
pub struct Fixture {
    /// The file name without extension, e.g. `opening_hours`.
    pub name: &'static str,
    /// The WAV file (16 kHz mono 16-bit PCM).
    pub wav: &'static [u8],
    /// What is said in it.
    pub transcript: &'static str,
}

macro_rules! fixture {
    ($name:literal) => {
        Fixture {
            name: $name,
            wav: include_bytes!(concat!("../../../scenarios/audio/", $name, ".wav")).as_slice(),
            transcript: include_str!(concat!("../../../scenarios/audio/", $name, ".txt"))
                .trim_ascii_end(),
        }
    };
}

/// Every fixture.
pub static AUDIO: &[Fixture] = &[
    fixture!("opening_hours"),
    fixture!("order_status"),
    fixture!("reset_password"),
    fixture!("refund"),
    fixture!("acme_company"),
    fixture!("invoice"),
];

/// The fixture a scenario file names as `audio/<name>.wav`.
pub fn by_path(path: &str) -> Option<&'static Fixture> {
    let name = path.strip_prefix("audio/")?.strip_suffix(".wav")?;
    AUDIO.iter().find(|f| f.name == name)
}
