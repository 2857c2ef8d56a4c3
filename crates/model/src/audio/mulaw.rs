//! G.711 μ-law, the phone line's 8-bit audio: encode and decode, as ITU-T G.711 (the classic
//! Sun g711.c algorithm: bias 0x84, clip 32635, segment search, whole byte complemented).
//! Written here: the crates that offer it come inside larger codec frameworks.

/// μ-law's digital silence (both codes decode to 0).
pub const SILENCE: u8 = 0xFF;

const BIAS: i32 = 0x84;
const CLIP: i32 = 32635;

/// One 16-bit sample as μ-law.
pub fn encode(sample: i16) -> u8 {
    let mut s = sample as i32;
    let sign = if s < 0 {
        s = -s;
        0x80
    } else {
        0x00
    };
    s = s.min(CLIP) + BIAS;
    // The segment is the position of the highest set bit above bit 7 (0 to 7).
    let segment = (15 - (s as u16).leading_zeros() as i32 - 7).clamp(0, 7);
    let mantissa = (s >> (segment + 3)) & 0x0F;
    !((sign | (segment << 4) | mantissa) as u8)
}

/// One μ-law byte as a 16-bit sample.
pub fn decode(byte: u8) -> i16 {
    let b = !byte;
    let sign = b & 0x80;
    let segment = ((b >> 4) & 0x07) as i32;
    let mantissa = (b & 0x0F) as i32;
    let magnitude = (((mantissa << 3) + BIAS) << segment) - BIAS;
    if sign != 0 {
        -magnitude as i16
    } else {
        magnitude as i16
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The segment of a biased magnitude by search, as G.711's reference code finds it.
    fn reference_encode(sample: i16) -> u8 {
        let mut s = sample as i32;
        let sign = if s < 0 {
            s = -s;
            0x80
        } else {
            0
        };
        s = s.min(CLIP) + BIAS;
        let mut segment = 0;
        let mut v = s >> 7;
        while v > 1 && segment < 7 {
            v >>= 1;
            segment += 1;
        }
        !((sign | (segment << 4) | ((s >> (segment + 3)) & 0x0F)) as u8)
    }

    #[test]
    fn matches_the_reference_and_round_trips_within_a_step() {
        assert_eq!(encode(0), 0xFF);
        assert_eq!(decode(0xFF), 0);
        assert_eq!(decode(0x7F), 0);
        assert_eq!(decode(0x00), -32124);
        assert_eq!(decode(0x80), 32124);
        for s in i16::MIN..=i16::MAX {
            assert_eq!(encode(s), reference_encode(s), "{s}");
            let back = decode(encode(s)) as i32;
            // μ-law keeps about 13 bits: the error grows with the magnitude.
            let err = (back - (s as i32).clamp(-CLIP, CLIP)).abs();
            assert!(err <= 4 + (s as i32).abs() / 16, "{s} -> {back}");
        }
        for b in 0..=255u8 {
            assert_eq!(
                encode(decode(b)),
                if b == 0x7F { 0xFF } else { b },
                "{b:#x}"
            );
        }
    }
}
