//! The floor under calls per core (`make bench`, `BENCH_ONLY=send_floor`): what the kernel alone
//! costs one core to send a call's frames — one 350-byte write per connection every 20 ms over
//! loopback TCP, phases spread over the period, from one thread pinned to CPU 1 while a reader on
//! CPU 0 drains every connection. No WebSocket, no runtime, no measurement: whatever voiceswarm
//! spends per frame above this is its own. Prints one line per connection count.
//!
//! On loopback the sender's system call also carries the receiver's TCP processing (the packet
//! is delivered in the sender's context), as it does in the calls bench.

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::time::{Duration, Instant};

const FRAME: Duration = Duration::from_millis(20);

/// Pins the calling thread to `cpu` when the machine has more than one.
fn pin(cpu: usize) {
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    if cores < 2 {
        return;
    }
    // SAFETY: a zeroed cpu_set_t is empty; CPU_SET writes within it; 0 is this thread.
    unsafe {
        let mut set: libc::cpu_set_t = std::mem::zeroed();
        libc::CPU_SET(cpu, &mut set);
        libc::sched_setaffinity(0, std::mem::size_of_val(&set), &set);
    }
}

/// CPU time this thread has used (user + system).
fn thread_cpu() -> Duration {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: a valid clock id and a timespec to fill.
    unsafe { libc::clock_gettime(libc::CLOCK_THREAD_CPUTIME_ID, &mut ts) };
    Duration::new(ts.tv_sec as u64, ts.tv_nsec as u32)
}

/// Accepts `n` connections on CPU 0 and drains them all (one reader thread, non-blocking
/// sockets polled in turn) until every sender has closed.
fn drain(listener: TcpListener, n: usize) -> std::thread::JoinHandle<()> {
    std::thread::spawn(move || {
        pin(0);
        let mut conns: Vec<TcpStream> = (0..n)
            .map(|_| listener.accept().expect("accept").0)
            .collect();
        conns
            .iter()
            .for_each(|c| c.set_nonblocking(true).expect("non-blocking"));
        let mut buf = [0u8; 4096];
        while !conns.is_empty() {
            let mut idle = true;
            conns.retain_mut(|c| match c.read(&mut buf) {
                Ok(0) => false,
                Ok(_) => {
                    idle = false;
                    true
                }
                Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => true,
                Err(e) => panic!("the reader lost a connection: {e}"),
            });
            if idle {
                std::thread::sleep(Duration::from_micros(200));
            }
        }
    })
}

/// What the sender did: the writes it made, its CPU time, the wall time it took, and how late
/// its latest write left.
struct Sent {
    writes: u64,
    cpu: Duration,
    wall: Duration,
    late_max: Duration,
}

/// Sends a frame on each of `n` connections every 20 ms for `seconds`.
fn floor(n: usize, seconds: u64, frame: &[u8]) -> Sent {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let addr = listener.local_addr().expect("address");
    let reader = drain(listener, n);
    let conns: Vec<TcpStream> = (0..n)
        .map(|_| {
            let c = TcpStream::connect(addr).expect("connect");
            c.set_nodelay(true).expect("nodelay");
            c
        })
        .collect();
    let start = Instant::now() + Duration::from_millis(100);
    // Connection i's frame k is due at start + 20 ms·k + phase_i, phases spread over the period:
    // in (k, i) order the due times only grow, so one cursor walks them.
    let phase = |i: usize| FRAME * (i as u32) / n as u32;
    let (mut k, mut i) = (0u32, 0usize);
    let (mut writes, mut late_max) = (0u64, Duration::ZERO);
    let end = start + Duration::from_secs(seconds);
    let (cpu0, wall0) = (thread_cpu(), Instant::now());
    while Instant::now() < end {
        let now = Instant::now();
        loop {
            let due = start + FRAME * k + phase(i);
            if due > now {
                break;
            }
            (&conns[i]).write_all(frame).expect("write");
            writes += 1;
            late_max = late_max.max(now - due);
            i += 1;
            if i == n {
                (k, i) = (k + 1, 0);
            }
        }
        std::thread::sleep(Duration::from_micros(250));
    }
    let (cpu, wall) = (thread_cpu() - cpu0, wall0.elapsed());
    drop(conns);
    reader.join().expect("reader");
    Sent {
        writes,
        cpu,
        wall,
        late_max,
    }
}

fn main() {
    pin(1);
    let counts: Vec<usize> = std::env::var("FLOOR_CONNS")
        .unwrap_or_else(|_| "500,1000,2000".into())
        .split(',')
        .filter_map(|s| s.trim().parse().ok())
        .collect();
    let seconds = std::env::var("FLOOR_SECONDS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(10);
    // A Twilio media message's size: 160 bytes of μ-law as base64 in its JSON, framed.
    let frame = vec![b'x'; 350];
    for n in counts {
        let s = floor(n, seconds, &frame);
        let per_write = s.cpu.as_secs_f64() * 1e6 / s.writes.max(1) as f64;
        let busy = s.cpu.as_secs_f64() / s.wall.as_secs_f64() * 100.0;
        println!(
            "send_floor: {n} connections, {:.0} writes/s: {per_write:.2} µs of the sender's core per write ({busy:.0} % of it; the loop's lateness max {:.1} ms)",
            s.writes as f64 / s.wall.as_secs_f64(),
            s.late_max.as_secs_f64() * 1e3
        );
    }
}
