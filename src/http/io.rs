//! A connection's socket as hyper sees it: tells the connection's state when its bytes were
//! first looked at, when a request head starts and when it is complete, and holds each head
//! to the limits of `head.rs`. A head over them never reaches hyper: the socket answers the
//! JSON 431 itself, closes its write side and drains what the client still sends (as the
//! lingering close does), then reports the end of input, so hyper ends the connection
//! without a word of its own.

use std::io;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{ready, Context, Poll};

use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::TcpStream;

use super::conn::ConnState;
use super::head::{rejection, HeadScan, Verdict};
use super::linger::Lingering;

pub struct Watched {
    io: Lingering,
    conn: Arc<ConnState>,
    scan: HeadScan,
    /// The 431 being sent, and how much of it went out.
    reject: Option<(Vec<u8>, usize)>,
}

impl Watched {
    pub fn new(stream: TcpStream, conn: Arc<ConnState>) -> Watched {
        Watched {
            io: Lingering::new(stream),
            conn,
            scan: HeadScan::default(),
            reject: None,
        }
    }

    /// Sends the 431, then closes the write side and drains; `Ready` means "end of input".
    fn poll_reject(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let Some((bytes, sent)) = self.reject.as_mut() else {
            return Poll::Ready(Ok(()));
        };
        while *sent < bytes.len() {
            match ready!(Pin::new(&mut self.io).poll_write(cx, &bytes[*sent..]))? {
                0 => return Poll::Ready(Ok(())),
                n => *sent += n,
            }
        }
        ready!(Pin::new(&mut self.io).poll_flush(cx))?;
        Pin::new(&mut self.io).poll_shutdown(cx)
    }
}

impl AsyncRead for Watched {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let this = &mut *self;
        if this.reject.is_some() {
            return this.poll_reject(cx);
        }
        this.conn.mark_polled();
        if !this.conn.idle() {
            // A request is in progress: these are its body's bytes (or a pipelined request,
            // which hyper's own limits hold).
            return Pin::new(&mut this.io).poll_read(cx, buf);
        }
        let before = buf.filled().len();
        ready!(Pin::new(&mut this.io).poll_read(cx, buf))?;
        if buf.filled().len() == before {
            return Poll::Ready(Ok(()));
        }
        this.conn.head_bytes();
        match this.scan.feed(&buf.filled()[before..]) {
            Verdict::More => Poll::Ready(Ok(())),
            Verdict::Complete(_) => {
                this.conn.head_complete();
                Poll::Ready(Ok(()))
            }
            over => {
                // hyper keeps what it had of this head and sees it end here.
                buf.set_filled(before);
                this.conn.mark_closing();
                this.scan = HeadScan::default();
                this.reject = Some((rejection(&over), 0));
                this.poll_reject(cx)
            }
        }
    }
}

impl AsyncWrite for Watched {
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
        // Closing with a lingering drain: not to be cut short by a shed.
        self.conn.mark_closing();
        Pin::new(&mut self.io).poll_shutdown(cx)
    }
}
