//! The committed speech fixtures (scenarios/audio/, made by scripts/make-audio-fixtures.sh),
//! built into the binary so the reference backend recognises them and the probe can send them.

macro_rules! fixture {
    ($name:literal) => {
        (
            include_bytes!(concat!("../scenarios/audio/", $name, ".wav")).as_slice(),
            include_str!(concat!("../scenarios/audio/", $name, ".txt")).trim_ascii_end(),
        )
    };
}

/// (WAV bytes, transcript) of every fixture.
pub static AUDIO: &[(&[u8], &str)] = &[
    fixture!("opening_hours"),
    fixture!("order_status"),
    fixture!("reset_password"),
    fixture!("refund"),
    fixture!("acme_company"),
    fixture!("invoice"),
];
