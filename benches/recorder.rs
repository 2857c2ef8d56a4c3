//! Recorder benchmark (`make bench`): nanoseconds per recorded sample, alone and under
//! contention from many threads; and the time to merge histograms and compute every percentile
//! for 10 million samples. Prints one line per figure.

use std::sync::Arc;
use std::time::Instant;
use voiceswarm_model::stats::histogram::percentile_us;
use voiceswarm_model::stats::recorder::Recorder;

fn record_many(r: &Recorder, thread: usize, n: u64) {
    let names = [
        "stt:transcribe",
        "llm:first_token",
        "tts:first_audio",
        "server:total",
    ];
    let mut x: u64 = 0x9E37_79B9 ^ thread as u64;
    for i in 0..n {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        r.record_us(thread, names[(i & 3) as usize], 1_000 + x % 500_000);
    }
}

fn main() {
    let per_thread = 5_000_000u64;
    // Alone.
    let r = Recorder::new(4);
    let t = Instant::now();
    record_many(&r, 0, per_thread);
    let alone = t.elapsed().as_nanos() as f64 / per_thread as f64;
    println!("recorder: {alone:.1} ns per sample, one thread");

    // Contention: more recording threads than cores, each a different "user" shard hint.
    let threads = 8;
    let r = Arc::new(Recorder::for_this_machine());
    let t = Instant::now();
    let handles: Vec<_> = (0..threads)
        .map(|i| {
            let r = r.clone();
            std::thread::spawn(move || record_many(&r, i, per_thread / 4))
        })
        .collect();
    for h in handles {
        h.join().unwrap();
    }
    let total = threads as u64 * per_thread / 4;
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    let wall = t.elapsed().as_nanos() as f64;
    println!(
        "recorder: {:.1} ns per sample of wall time, {threads} threads on {cores} cores ({:.1} ns of CPU per sample)",
        wall / total as f64,
        wall * cores.min(threads) as f64 / total as f64
    );

    // 10 million samples over 16 shards: merge and every percentile.
    let r = Recorder::new(16);
    for shard in 0..16 {
        record_many(&r, shard, 10_000_000 / 16);
    }
    let t = Instant::now();
    let rec = r.snapshot();
    let mut sink = 0.0;
    for h in rec.histograms.values() {
        for p in [50.0, 90.0, 95.0, 99.0, 99.9] {
            sink += percentile_us(h, p);
        }
        sink += h.mean();
    }
    let merge = t.elapsed();
    let samples: u64 = rec.histograms.values().map(|h| h.len()).sum();
    println!(
        "recorder: merge of 16 shards and every percentile for {samples} samples: {:.1} ms (checksum {sink:.0})",
        merge.as_secs_f64() * 1000.0
    );
}
