//! Free loopback ports for servers a test starts.

use std::net::TcpListener;

/// A loopback TCP port that was free a moment ago (the OS picked it). Another process may
/// still take it before the caller binds, which is rare enough for tests.
pub fn free_port() -> std::io::Result<u16> {
    let listener = TcpListener::bind(("127.0.0.1", 0))?;
    Ok(listener.local_addr()?.port())
}
