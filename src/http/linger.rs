//! Lingering close for the listener's connections: when hyper closes a connection, send the
//! FIN, then read and drop what the client is still sending (bounded in bytes and time)
//! before the socket closes. A client still writing an oversize body then reads its 413
//! instead of a connection reset (closing with unread data makes the kernel send RST). It
//! never reads on hyper's behalf otherwise.

use std::future::Future;
use std::io;
use std::pin::Pin;
use std::task::{ready, Context, Poll};
use std::time::Duration;

use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::TcpStream;
use tokio::time::Sleep;

/// At most this much is drained after the response...
const DRAIN_BYTES: usize = 4 << 20;
/// ...for at most this long.
const DRAIN_TIME: Duration = Duration::from_secs(2);

pub struct Lingering {
    io: TcpStream,
    /// Set once the write side is shut: the deadline and how much was drained.
    draining: Option<(Pin<Box<Sleep>>, usize)>,
}

impl Lingering {
    pub fn new(io: TcpStream) -> Lingering {
        Lingering { io, draining: None }
    }
}

impl AsyncRead for Lingering {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        Pin::new(&mut self.io).poll_read(cx, buf)
    }
}

impl AsyncWrite for Lingering {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.io).poll_write(cx, buf)
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.io).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.io.is_write_vectored()
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.io).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let Lingering { io, draining } = &mut *self;
        if draining.is_none() {
            ready!(Pin::new(&mut *io).poll_shutdown(cx))?;
            *draining = Some((Box::pin(tokio::time::sleep(DRAIN_TIME)), 0));
        }
        let Some((until, drained)) = draining.as_mut() else {
            return Poll::Ready(Ok(()));
        };
        let mut scratch = [0u8; 8192];
        while *drained < DRAIN_BYTES {
            let mut buf = ReadBuf::new(&mut scratch);
            match Pin::new(&mut *io).poll_read(cx, &mut buf) {
                Poll::Ready(Ok(())) if buf.filled().is_empty() => return Poll::Ready(Ok(())),
                Poll::Ready(Ok(())) => *drained += buf.filled().len(),
                Poll::Ready(Err(_)) => return Poll::Ready(Ok(())),
                Poll::Pending => return until.as_mut().poll(cx).map(Ok),
            }
        }
        Poll::Ready(Ok(()))
    }
}
