//! Noticing a client that goes away while its statement runs.
//!
//! pgwire reads a connection's socket only between statements: while a statement waits for
//! the gateway (a long aggregate has no rows to send for minutes) nothing reads the socket,
//! so a client that disconnects is noticed only at the next write, and the executor keeps
//! working for nobody until then. Each connection therefore gets a watcher on a duplicate of
//! its TCP socket that waits for the peer's FIN or RST (readiness `READ_CLOSED` / error) —
//! without reading, so pgwire's byte stream is untouched — and flips a flag the running
//! statement races against (`handler::Guard`), which drops the Flight stream and cancels the
//! query at the gateway.
//!
//! The flag is handed from the accept loop to the session by peer address: the start-up
//! handler only sees `ClientInfo`, whose socket address is the key. The same hand-over carries
//! the other direction: the sender of the connection's terminate signal
//! (`pg_terminate_backend`, the idle timeouts; see `backends.rs`), which the accept loop waits
//! on to close it, telling an idle client why first (a [`Farewell`]).

use std::collections::HashMap;
use std::io;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use pgwire::error::ErrorInfo;
use pgwire::messages::PgWireBackendMessage;
use tokio::io::Interest;
use tokio::net::TcpStream;
use tokio::sync::watch;
use tokio::task::JoinHandle;

/// Disconnect flags of connections that have not finished start-up yet, by peer address.
#[derive(Default)]
pub(crate) struct Disconnects {
    pending: Mutex<HashMap<SocketAddr, Signals>>,
}

/// A connection's two signals, taken by its session at start-up.
pub(crate) struct Signals {
    /// Set once the client has closed its connection.
    pub(crate) gone: watch::Receiver<bool>,
    /// Set to close the connection (the accept loop holds the receiver).
    pub(crate) terminate: watch::Sender<Option<Farewell>>,
}

/// Why the server closes a connection: PostgreSQL's FATAL error, sent to a client that is idle
/// (a running statement reports its own error instead).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Farewell {
    /// SQLSTATE (`57P01`, `25P03`, `57P05`).
    pub(crate) code: &'static str,
    /// PostgreSQL's message for it.
    pub(crate) message: &'static str,
    /// Whether the connection negotiated TLS: then nothing can be written from outside its
    /// TLS session, and the connection is only closed.
    pub(crate) tls: bool,
}

/// A FATAL ErrorResponse, encoded by pgwire, for writing to a socket outside a session.
pub(crate) fn fatal_message(code: &str, message: &str) -> bytes::BytesMut {
    let info = ErrorInfo::new("FATAL".to_owned(), code.to_owned(), message.to_owned());
    let mut buffer = bytes::BytesMut::new();
    PgWireBackendMessage::ErrorResponse(info.into())
        .encode(&mut buffer)
        .expect("an ErrorResponse always encodes");
    buffer
}

/// A connection's watcher; stops watching (and forgets the flag) when dropped.
pub(crate) struct Watch {
    task: JoinHandle<()>,
    peer: SocketAddr,
    registry: Arc<Disconnects>,
}

impl Drop for Watch {
    fn drop(&mut self) {
        self.task.abort();
        self.registry.lock().remove(&self.peer);
    }
}

impl Disconnects {
    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<SocketAddr, Signals>> {
        self.pending
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Starts watching `socket` (a connection from `peer`); returns the socket to serve, the
    /// watch, which must live as long as the connection, and the connection's terminate signal
    /// (with a handle on the socket to say farewell on).
    pub(crate) fn watch(
        self: &Arc<Self>,
        socket: TcpStream,
        peer: SocketAddr,
    ) -> io::Result<(TcpStream, Watch, Termination)> {
        let std = socket.into_std()?;
        let duplicate = TcpStream::from_std(std.try_clone()?)?;
        let farewell_socket = TcpStream::from_std(std.try_clone()?)?;
        let socket = TcpStream::from_std(std)?;
        let (gone_tx, gone) = watch::channel(false);
        let (terminate, terminated) = watch::channel(None);
        self.lock().insert(peer, Signals { gone, terminate });
        let task = tokio::spawn(async move {
            if wait_for_close(&duplicate).await {
                tracing::debug!(%peer, "client closed its connection");
                let _ = gone_tx.send(true);
            }
        });
        Ok((
            socket,
            Watch {
                task,
                peer,
                registry: Arc::clone(self),
            },
            Termination {
                signal: terminated,
                socket: farewell_socket,
            },
        ))
    }

    /// The signals of the connection from `peer`, taken once by its session at start-up.
    pub(crate) fn take(&self, peer: &SocketAddr) -> Option<Signals> {
        self.lock().remove(peer)
    }
}

/// The accept loop's end of a connection's terminate signal.
pub(crate) struct Termination {
    signal: watch::Receiver<Option<Farewell>>,
    /// A duplicate of the connection's socket: pgwire owns the connection's stream.
    socket: TcpStream,
}

impl Termination {
    /// Resolves when the connection is to be closed, with the reason.
    pub(crate) async fn requested(&mut self) -> Farewell {
        let requested = self
            .signal
            .wait_for(Option::is_some)
            .await
            .map(|farewell| farewell.clone());
        match requested {
            Ok(Some(farewell)) => farewell,
            // Every sender is gone (the session ended): nothing will ask any more.
            _ => futures::future::pending().await,
        }
    }

    /// Tells an idle client why the connection closes (a plaintext one: a TLS session's state
    /// went with pgwire's stream), then shuts the socket down.
    pub(crate) async fn farewell(mut self, farewell: &Farewell) {
        use tokio::io::AsyncWriteExt;
        if !farewell.tls {
            let message = fatal_message(farewell.code, farewell.message);
            let _ = self.socket.write_all(&message).await;
        }
        let _ = self.socket.shutdown().await;
    }
}

/// Waits until the peer has closed (FIN or RST); `false` if watching failed.
async fn wait_for_close(socket: &TcpStream) -> bool {
    loop {
        let ready = match socket.ready(Interest::READABLE).await {
            Ok(ready) => ready,
            Err(_) => return false,
        };
        if ready.is_read_closed() || ready.is_error() {
            return true;
        }
        // Data the client sent (the next pipelined message): it is pgwire's to read. Clear
        // this readiness without reading and wait for the next event.
        let _ = socket.try_io(Interest::READABLE, || {
            Err::<(), _>(io::Error::from(io::ErrorKind::WouldBlock))
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::io::AsyncWriteExt;
    use tokio::net::TcpListener;

    #[tokio::test]
    async fn flags_a_closed_peer_but_not_one_that_sends_data() {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let mut client = TcpStream::connect(addr).await.unwrap();
        let (server, peer) = listener.accept().await.unwrap();
        let registry = Arc::new(Disconnects::default());
        let (_socket, _watch, _termination) = registry.watch(server, peer).unwrap();
        let mut gone = registry.take(&peer).unwrap().gone;
        assert!(registry.take(&peer).is_none());

        client.write_all(b"pipelined query bytes").await.unwrap();
        let early =
            tokio::time::timeout(std::time::Duration::from_millis(200), gone.changed()).await;
        assert!(early.is_err(), "data from the client is not a disconnect");

        drop(client);
        tokio::time::timeout(std::time::Duration::from_secs(5), gone.changed())
            .await
            .expect("disconnect noticed")
            .unwrap();
        assert!(*gone.borrow());
    }
}
