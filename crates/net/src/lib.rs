//! The socket edge both sides of a call stamp time at: a TCP stream that remembers when the
//! kernel received what it last read (`SO_TIMESTAMPNS`) and when its last write entered the
//! kernel; and a UDP read that returns each datagram with the kernel's receive time (WebRTC). A
//! voice-to-voice gap taken from these stamps is the wire's own, whatever the process was doing
//! when the bytes arrived: a caller or bot that reads a frame 10 ms late (another call's work,
//! the scheduler) still reads the frame's arrival time.
//!
//! The kernel stamps a segment when it is queued for the socket (a datagram: each its own); a
//! TCP read that takes several segments at once gets the last one's stamp, so a reader more
//! than one frame (20 ms) behind reads the later frame's time. Where the kernel gives no stamp
//! (`SO_TIMESTAMPNS` refused, or the first packets after a process first asks: Linux turns
//! stamping on a moment later), a read is stamped when it returns.

use std::io;
use std::net::{Ipv4Addr, Ipv6Addr, SocketAddr, SocketAddrV6};
use std::os::fd::{AsRawFd, RawFd};
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, OnceLock};
use std::task::{ready, Context, Poll};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};
use tokio::io::{AsyncRead, AsyncWrite, Interest, ReadBuf};
use tokio::net::{TcpStream, UdpSocket};

/// The process's reference instant: stamps are kept as nanoseconds after it, in atomics, so the
/// stream (inside a WebSocket library, or a server's connection) and its reader can share them.
fn epoch() -> Instant {
    static EPOCH: OnceLock<Instant> = OnceLock::new();
    *EPOCH.get_or_init(Instant::now)
}

/// The last read's and the last write's stamps of one stream (0: none yet).
#[derive(Debug, Default)]
pub struct Stamps {
    read_ns: AtomicU64,
    write_ns: AtomicU64,
    /// A [`StampedSocket`]'s last read found less than it had room for: the socket is empty
    /// until its event loop hears it is readable again ([`Stamps::readable`]).
    drained: AtomicBool,
}

impl Stamps {
    fn set(cell: &AtomicU64, at: Instant) {
        let ns = at.saturating_duration_since(epoch()).as_nanos() as u64;
        cell.store(ns.max(1), Ordering::Relaxed);
    }

    fn get(cell: &AtomicU64) -> Option<Instant> {
        match cell.load(Ordering::Relaxed) {
            0 => None,
            ns => Some(epoch() + Duration::from_nanos(ns)),
        }
    }

    /// When the kernel received the bytes of the last read (the last of its segments).
    pub fn last_read(&self) -> Option<Instant> {
        Self::get(&self.read_ns)
    }

    /// The socket's event loop heard it is readable: the next read asks the kernel again.
    pub fn readable(&self) {
        self.drained.store(false, Ordering::Relaxed);
    }

    /// When the last write entered the kernel (taken just before the system call).
    pub fn last_write(&self) -> Option<Instant> {
        Self::get(&self.write_ns)
    }
}

/// A TCP stream that stamps its reads and writes into [`Stamps`] shared with its owner.
#[derive(Debug)]
pub struct StampedStream {
    inner: TcpStream,
    stamps: Arc<Stamps>,
    kernel_stamps: bool,
}

impl StampedStream {
    /// Asks the kernel to stamp what the socket receives; a kernel that refuses leaves the
    /// stream stamping reads when they return.
    pub fn new(inner: TcpStream) -> Self {
        epoch();
        let kernel_stamps = enable_kernel_stamps(inner.as_raw_fd());
        Self {
            inner,
            stamps: Arc::default(),
            kernel_stamps,
        }
    }

    /// The stream's stamps, to read after a message was taken from it or written to it.
    pub fn stamps(&self) -> Arc<Stamps> {
        self.stamps.clone()
    }

    pub fn get_ref(&self) -> &TcpStream {
        &self.inner
    }
}

fn enable_kernel_stamps(fd: RawFd) -> bool {
    let on: libc::c_int = 1;
    // SAFETY: a valid socket descriptor, an int option of the right size.
    let rc = unsafe {
        libc::setsockopt(
            fd,
            libc::SOL_SOCKET,
            libc::SO_TIMESTAMPNS,
            (&on as *const libc::c_int).cast(),
            std::mem::size_of::<libc::c_int>() as libc::socklen_t,
        )
    };
    rc == 0
}

/// One `recvmsg` into `buf`: the bytes read and the kernel's receive time, if it gave one; and
/// into `from`, when given, the sender's address.
fn recv_stamped(
    fd: RawFd,
    buf: &mut [u8],
    from: Option<&mut libc::sockaddr_storage>,
) -> io::Result<(usize, Option<SystemTime>)> {
    // Room for one SCM_TIMESTAMPNS (a timespec) with its header, 8-byte aligned.
    let mut control = [0u64; 8];
    let mut iov = libc::iovec {
        iov_base: buf.as_mut_ptr().cast(),
        iov_len: buf.len(),
    };
    // SAFETY: zeroed msghdr is valid; every pointer set below outlives the call.
    let mut msg: libc::msghdr = unsafe { std::mem::zeroed() };
    msg.msg_iov = &mut iov;
    msg.msg_iovlen = 1;
    msg.msg_control = control.as_mut_ptr().cast();
    msg.msg_controllen = std::mem::size_of_val(&control) as _;
    if let Some(name) = from {
        msg.msg_name = (name as *mut libc::sockaddr_storage).cast();
        msg.msg_namelen = std::mem::size_of::<libc::sockaddr_storage>() as _;
    }
    // SAFETY: fd is a socket; msg points at live buffers of the sizes given.
    let n = unsafe { libc::recvmsg(fd, &mut msg, 0) };
    if n < 0 {
        return Err(io::Error::last_os_error());
    }
    let mut stamp = None;
    // SAFETY: walking the control buffer the kernel filled, with the libc macros.
    unsafe {
        let mut cmsg = libc::CMSG_FIRSTHDR(&msg);
        while !cmsg.is_null() {
            if (*cmsg).cmsg_level == libc::SOL_SOCKET && (*cmsg).cmsg_type == libc::SCM_TIMESTAMPNS
            {
                let ts = std::ptr::read_unaligned(libc::CMSG_DATA(cmsg).cast::<libc::timespec>());
                stamp = Some(UNIX_EPOCH + Duration::new(ts.tv_sec as u64, ts.tv_nsec as u32));
            }
            cmsg = libc::CMSG_NXTHDR(&msg, cmsg);
        }
    }
    Ok((n as usize, stamp))
}

/// The socket address the kernel wrote into `name` (IPv4 or IPv6).
fn socket_addr(name: &libc::sockaddr_storage) -> io::Result<SocketAddr> {
    match name.ss_family as libc::c_int {
        libc::AF_INET => {
            // SAFETY: the kernel wrote a sockaddr_in for AF_INET.
            let a =
                unsafe { &*(name as *const libc::sockaddr_storage).cast::<libc::sockaddr_in>() };
            let ip = Ipv4Addr::from(u32::from_be(a.sin_addr.s_addr));
            Ok(SocketAddr::from((ip, u16::from_be(a.sin_port))))
        }
        libc::AF_INET6 => {
            // SAFETY: the kernel wrote a sockaddr_in6 for AF_INET6.
            let a =
                unsafe { &*(name as *const libc::sockaddr_storage).cast::<libc::sockaddr_in6>() };
            let ip = Ipv6Addr::from(a.sin6_addr.s6_addr);
            let port = u16::from_be(a.sin6_port);
            Ok(SocketAddrV6::new(ip, port, a.sin6_flowinfo, a.sin6_scope_id).into())
        }
        family => Err(io::Error::other(format!(
            "a datagram from address family {family}"
        ))),
    }
}

/// Asks the kernel to stamp every datagram `socket` receives (false where it refuses: then
/// [`recv_from_stamped`] stamps a datagram when its read returns).
pub fn stamp_datagrams(socket: &UdpSocket) -> bool {
    epoch();
    enable_kernel_stamps(socket.as_raw_fd())
}

/// The next datagram on `socket`, into `buf`: its length, its sender and when the kernel
/// received it — the wire's time, however late this task gets to read it.
pub async fn recv_from_stamped(
    socket: &UdpSocket,
    buf: &mut [u8],
) -> io::Result<(usize, SocketAddr, Instant)> {
    let fd = socket.as_raw_fd();
    loop {
        socket.readable().await?;
        // SAFETY: an all-zero sockaddr_storage is a valid value.
        let mut name: libc::sockaddr_storage = unsafe { std::mem::zeroed() };
        match socket.try_io(Interest::READABLE, || {
            recv_stamped(fd, buf, Some(&mut name))
        }) {
            Ok((n, stamp)) => {
                let at = stamp.map_or_else(Instant::now, instant_of);
                return Ok((n, socket_addr(&name)?, at));
            }
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => continue,
            Err(e) => return Err(e),
        }
    }
}

/// [`StampedStream`]'s twin for an event loop of its own (the caller's frame engine): a
/// non-blocking std socket with the same stamps, whose reads and writes return `WouldBlock`
/// instead of waiting.
#[derive(Debug)]
pub struct StampedSocket {
    inner: std::net::TcpStream,
    stamps: Arc<Stamps>,
    kernel_stamps: bool,
}

impl StampedSocket {
    /// Makes `inner` non-blocking and asks the kernel to stamp what it receives.
    pub fn new(inner: std::net::TcpStream) -> io::Result<Self> {
        inner.set_nonblocking(true)?;
        epoch();
        let kernel_stamps = enable_kernel_stamps(inner.as_raw_fd());
        Ok(Self {
            inner,
            stamps: Arc::default(),
            kernel_stamps,
        })
    }

    /// The socket's stamps, to read after a message was taken from it or written to it.
    pub fn stamps(&self) -> Arc<Stamps> {
        self.stamps.clone()
    }
}

impl AsRawFd for StampedSocket {
    fn as_raw_fd(&self) -> RawFd {
        self.inner.as_raw_fd()
    }
}

impl io::Read for StampedSocket {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if buf.is_empty() {
            return Ok(0);
        }
        // A short read emptied the socket: until the event loop hears of more (edge-triggered,
        // it will), asking the kernel again would only return `WouldBlock` — a system call for
        // nothing after every message.
        if self.stamps.drained.load(Ordering::Relaxed) {
            return Err(io::ErrorKind::WouldBlock.into());
        }
        let (n, stamp) = match self.kernel_stamps {
            true => recv_stamped(self.inner.as_raw_fd(), buf, None)?,
            false => (self.inner.read(buf)?, None),
        };
        if n > 0 {
            Stamps::set(
                &self.stamps.read_ns,
                stamp.map_or_else(Instant::now, instant_of),
            );
        }
        if n < buf.len() {
            self.stamps.drained.store(true, Ordering::Relaxed);
        }
        Ok(n)
    }
}

impl io::Write for StampedSocket {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        Stamps::set(&self.stamps.write_ns, Instant::now());
        self.inner.write(buf)
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

/// The instant of wall-clock time `at`, as far as it lies in the past (never after now).
fn instant_of(at: SystemTime) -> Instant {
    let (now, wall) = (Instant::now(), SystemTime::now());
    now - wall.duration_since(at).unwrap_or_default()
}

impl AsyncRead for StampedStream {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        if !this.kernel_stamps {
            let before = buf.filled().len();
            ready!(Pin::new(&mut this.inner).poll_read(cx, buf))?;
            if buf.filled().len() > before {
                Stamps::set(&this.stamps.read_ns, Instant::now());
            }
            return Poll::Ready(Ok(()));
        }
        if buf.remaining() == 0 {
            return Poll::Ready(Ok(()));
        }
        loop {
            ready!(this.inner.poll_read_ready(cx))?;
            let fd = this.inner.as_raw_fd();
            // SAFETY: recvmsg only writes the bytes it reports; those are marked filled below.
            let unfilled = unsafe { buf.unfilled_mut() };
            let room = unsafe { &mut *(unfilled as *mut [std::mem::MaybeUninit<u8>] as *mut [u8]) };
            match this
                .inner
                .try_io(Interest::READABLE, || recv_stamped(fd, room, None))
            {
                Ok((n, stamp)) => {
                    // SAFETY: the kernel wrote n bytes into the unfilled part.
                    unsafe { buf.assume_init(n) };
                    buf.advance(n);
                    if n > 0 {
                        let at = stamp.map_or_else(Instant::now, instant_of);
                        Stamps::set(&this.stamps.read_ns, at);
                    }
                    return Poll::Ready(Ok(()));
                }
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => continue,
                Err(e) => return Poll::Ready(Err(e)),
            }
        }
    }
}

impl AsyncWrite for StampedStream {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        Stamps::set(&this.stamps.write_ns, Instant::now());
        Pin::new(&mut this.inner).poll_write(cx, buf)
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        Stamps::set(&this.stamps.write_ns, Instant::now());
        Pin::new(&mut this.inner).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().inner).poll_flush(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().inner).poll_shutdown(cx)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    /// A frame read 30 ms after it arrived carries its arrival time, not the read's.
    #[tokio::test]
    async fn a_late_read_carries_the_arrival_time() {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let (client, server) = tokio::join!(TcpStream::connect(addr), listener.accept());
        let mut reader = StampedStream::new(server.unwrap().0);
        assert!(reader.kernel_stamps, "Linux stamps TCP receives");
        let stamps = reader.stamps();
        let mut writer = StampedStream::new(client.unwrap());
        // The kernel turns receive stamps on a moment after the first socket asks for them.
        tokio::time::sleep(Duration::from_millis(100)).await;
        writer.write_all(b"frame").await.unwrap();
        let sent = writer.stamps().last_write().unwrap();
        tokio::time::sleep(Duration::from_millis(30)).await;
        let mut buf = [0u8; 16];
        let n = reader.read(&mut buf).await.unwrap();
        let read_returned = Instant::now();
        assert_eq!(&buf[..n], b"frame");
        let arrived = stamps.last_read().unwrap();
        let since_sent = arrived.saturating_duration_since(sent);
        assert!(since_sent < Duration::from_millis(5), "{since_sent:?}");
        assert!(read_returned - arrived >= Duration::from_millis(30));
    }

    /// A short read marks the socket drained: the next read answers `WouldBlock` without asking
    /// the kernel (even though more has arrived since), until its loop says it is readable.
    #[test]
    fn a_short_read_leaves_the_socket_drained_until_readable() {
        use std::io::{Read, Write};
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let mut writer = std::net::TcpStream::connect(listener.local_addr().unwrap()).unwrap();
        let mut reader = StampedSocket::new(listener.accept().unwrap().0).unwrap();
        let stamps = reader.stamps();
        let mut buf = [0u8; 64];
        let would_block =
            |r: io::Result<usize>| r.is_err_and(|e| e.kind() == io::ErrorKind::WouldBlock);
        assert!(would_block(reader.read(&mut buf)), "nothing sent yet");
        stamps.readable();
        writer.write_all(b"first").unwrap();
        std::thread::sleep(Duration::from_millis(20));
        assert_eq!(reader.read(&mut buf).unwrap(), 5);
        assert!(reader.stamps().last_read().is_some());
        writer.write_all(b"second").unwrap();
        std::thread::sleep(Duration::from_millis(20));
        assert!(
            would_block(reader.read(&mut buf)),
            "drained until told readable"
        );
        stamps.readable();
        assert_eq!(reader.read(&mut buf).unwrap(), 6);
        assert_eq!(&buf[..6], b"second");
    }

    /// A datagram read 30 ms after it arrived carries its arrival time and its sender.
    #[tokio::test]
    async fn a_late_datagram_carries_its_arrival_time_and_sender() {
        let reader = UdpSocket::bind("127.0.0.1:0").await.unwrap();
        assert!(stamp_datagrams(&reader), "Linux stamps UDP receives");
        let writer = UdpSocket::bind("127.0.0.1:0").await.unwrap();
        tokio::time::sleep(Duration::from_millis(100)).await;
        let sent = Instant::now();
        writer
            .send_to(b"packet", reader.local_addr().unwrap())
            .await
            .unwrap();
        tokio::time::sleep(Duration::from_millis(30)).await;
        let mut buf = [0u8; 16];
        let (n, from, arrived) = recv_from_stamped(&reader, &mut buf).await.unwrap();
        let read_returned = Instant::now();
        assert_eq!(
            (&buf[..n], from),
            (&b"packet"[..], writer.local_addr().unwrap())
        );
        let since_sent = arrived.saturating_duration_since(sent);
        assert!(since_sent < Duration::from_millis(5), "{since_sent:?}");
        assert!(read_returned - arrived >= Duration::from_millis(30));
    }
}
