//! The server's socket edge: every connection a [`StampedStream`] (the kernel's receive time of
//! each read, the moment each write entered the kernel), and [`Edge`], the connect info that
//! hands a call its connection's stamps, so the bot's ground truth is stamped where the caller's
//! is — at the wire, not when the bot's task got round to the message.

use crate::truth::Stamp;
use axum::extract::connect_info::Connected;
use axum::serve::{IncomingStream, Listener};
use std::net::SocketAddr;
use std::sync::Arc;
use tokio::net::TcpListener;
use voiceswarm_net::{StampedStream, Stamps};

/// A TCP listener whose connections are stamped.
pub struct StampedListener(pub TcpListener);

impl Listener for StampedListener {
    type Io = StampedStream;
    type Addr = SocketAddr;

    async fn accept(&mut self) -> (Self::Io, Self::Addr) {
        // axum's own accept loop (it waits out errors such as too many open files).
        let (tcp, addr) = Listener::accept(&mut self.0).await;
        (StampedStream::new(tcp), addr)
    }

    fn local_addr(&self) -> std::io::Result<Self::Addr> {
        self.0.local_addr()
    }
}

/// A connection's stamps, as the handler of a request on it sees them.
#[derive(Clone, Debug)]
pub struct Edge(pub Arc<Stamps>);

impl Edge {
    /// When the kernel received the last bytes read (now, where the kernel gave no stamp).
    pub fn arrived(&self) -> Stamp {
        self.0.last_read().map_or_else(Stamp::now, Stamp::at)
    }

    /// When the last write entered the kernel (now, where none was stamped).
    pub fn left(&self) -> Stamp {
        self.0.last_write().map_or_else(Stamp::now, Stamp::at)
    }
}

impl<F> Connected<IncomingStream<'_, axum::serve::TapIo<StampedListener, F>>> for Edge
where
    F: FnMut(&mut StampedStream) + Send + 'static,
{
    fn connect_info(stream: IncomingStream<'_, axum::serve::TapIo<StampedListener, F>>) -> Self {
        Edge(stream.io().stamps())
    }
}
