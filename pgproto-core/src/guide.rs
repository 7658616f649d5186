//! # Writing your own adapter
//!
//! How to drive [`Client`] and [`Server`] from any event loop: mio, io_uring, a game
//! loop, an embedded runtime, or a plain non-blocking socket. The adapters
//! `pgproto-tokio`, `pgproto-asyncstd` and `pgproto-blocking` follow exactly these rules;
//! nothing they do is hidden from you.
//!
//! The walkthrough is this crate's examples, which use none of the adapters (the clients
//! take their rustls configuration from `pgproto-tls`):
//!
//! | example | what it shows |
//! |---|---|
//! | `examples/mio_client.rs` | many client connections on one `mio` thread, readiness events, partial writes, TLS (after SSLRequest or direct, SCRAM-SHA-256-PLUS), a per-query timeout that cancels the query |
//! | `examples/mio_server.rs` | a server on one `mio` thread for any number of clients (psql, pgbench, drivers), authentication, a query answered later and cancelled by a CancelRequest, back-pressure, a startup timeout |
//! | `examples/nonblocking_client.rs` | the smallest loop: a non-blocking `std::net::TcpStream` polled once per "tick" (same TLS support) |
//!
//! ```sh
//! cargo run -p pgproto-core --example mio_server -- --listen 127.0.0.1:5433
//! cargo run -p pgproto-core --example mio_client -- \
//!     "host=127.0.0.1 port=5433 user=postgres sslmode=disable" "select 1" --connections 8
//! ```
//!
//! The tests in `tests/tests/embed_examples.rs` run them against PostgreSQL 15 and 18,
//! psql, pgbench and tokio-postgres.
//!
//! ## What the core does, and what you do
//!
//! The core owns every protocol decision: framing and its limits, message encoding,
//! the phase of the connection, authentication exchanges, which response belongs to
//! which request, what a server must answer by itself. It never touches a socket, a
//! clock or the operating system's randomness.
//!
//! You own the socket, the TLS session, the buffers, the clock (timeouts) and the
//! random bytes (nonces, salts, cancel keys), and you decide when to read and write.
//!
//! ## The loop
//!
//! Both roles are driven the same way. After anything happens (bytes arrived, the socket
//! became writable, your application issued a command):
//!
//! 1. **Feed** what you read: [`Client::handle_input`] / [`Server::handle_input`] with
//!    the bytes, in chunks of any size. To avoid a copy, read straight into
//!    [`Client::input_buffer`] / [`Server::input_buffer`] (append only). With
//!    readiness-based I/O (mio, epoll edge-triggered), read until the socket reports
//!    `WouldBlock`. Reading until `WouldBlock` often returns the last bytes and the end
//!    of stream together (a client sends its CancelRequest and closes at once; a server
//!    sends a FATAL error and closes). [`Server::handle_eof`] still hands out the
//!    complete messages fed before it; [`Client::handle_eof`] closes the client core at
//!    once, so drain the events of the bytes that came before it first (doing so on
//!    both sides keeps one loop shape).
//! 2. **Drain the events**: call `poll_event` until it returns `Ok(None)`. React to each
//!    event, usually with commands (`query`, `row_description`, ...), which queue bytes
//!    in the core.
//! 3. **Drain the output**: take everything queued with `poll_transmit` (or
//!    [`Client::transmit_into`], which appends to your own write buffer) and write it.
//!    A non-blocking socket may take only part of it: keep the rest and write it when
//!    the socket is writable again.
//!
//! Step 3 comes after *every* step 2, before you wait for input again, whatever the
//! events were. **The core queues output that no event announces**: answers it gives by
//! itself. A client's SASL or MD5 response to the server's authentication request is
//! queued while `poll_event` returns `Ok(None)`; so is a server's answer to Describe,
//! Sync or a GSSENCRequest. If you block on a read before sending them, both sides wait
//! for each other forever. [`Client::has_pending_output`] and
//! [`Server::has_pending_output`] tell whether anything is queued.
//!
//! A server may batch its writes: [`Server::should_flush`] says when the client is
//! waiting for what is queued (after ReadyForQuery, Flush, an authentication or TLS
//! answer, COPY data); until then, and while more input is buffered, output can wait.
//!
//! The whole loop, for a client and a server connected in memory (what the examples do
//! with sockets):
//!
//! ```
//! use pgproto_core::client::{Client, Config, Event, ResultCollector, SslMode};
//! use pgproto_core::column::Column;
//! use pgproto_core::server::{AuthKind, ServerAuth, ServerConfig, ServerEvent};
//! use pgproto_core::server::{Action, ServerConnection, SessionSetup};
//! use core::time::Duration;
//!
//! // The server's users (SCRAM-SHA-256) and its per-connection state. The connection
//! // derives its salts, nonces and cancel key from a seed: use the operating system's
//! // randomness.
//! let mut auth = ServerAuth::new(AuthKind::ScramSha256, b"random, kept for the server's life");
//! auth.add_user("alice", "s3cret", b"a random salt")?;
//! let setup = SessionSetup::new(auth);
//! let mut server = ServerConnection::new(ServerConfig::default(), setup.into(), 4242, [4; 32]);
//!
//! let mut config = Config::new("alice");
//! config.password = Some(b"s3cret".to_vec());
//! config.ssl_mode = SslMode::Disable;
//! let mut client = Client::new(config, b"fresh random bytes for the nonce");
//!
//! let mut request = None;
//! let mut results = ResultCollector::new(None);
//! let mut finished = false;
//! let mut to_client = Vec::new();
//! while !finished {
//!     // Client -> server: drain the client's output into the server's input.
//!     while let Some(bytes) = client.poll_transmit() {
//!         server.handle_input(&bytes);
//!     }
//!     // The server's actions, until it waits for input: connection-level events are
//!     // answered inside, the rest is the application's.
//!     loop {
//!         match server.poll_action(Duration::ZERO) {
//!             Action::Transmit(bytes) => to_client.extend_from_slice(&bytes),
//!             Action::Handle(ServerEvent::Query { sql }) => {
//!                 assert_eq!(sql, "select 1");
//!                 let server = server.server();
//!                 server.row_description(&[Column::new("?column?", 23, 4)])?;
//!                 server.data_row(&[Some(b"1")])?;
//!                 server.command_complete("SELECT 1")?;
//!                 server.ready_for_query()?;
//!             }
//!             Action::Read { .. } | Action::Close => break,
//!             _ => {} // Startup (make a handler), Registered (keep the cancel key)...
//!         }
//!     }
//!     // Server -> client.
//!     client.handle_input(&to_client);
//!     to_client.clear();
//!     // The client's events. During authentication there are none for several
//!     // rounds, yet the client has queued its SCRAM messages: the next turn of the
//!     // loop sends them.
//!     while let Some(event) = client.poll_event()? {
//!         match event {
//!             Event::Ready => request = Some(client.query("select 1")?),
//!             Event::Response { request: r, response, complete } if Some(r) == request => {
//!                 results.push(response);
//!                 finished = complete;
//!             }
//!             _ => {} // Authenticated, ParameterStatus, notices...
//!         }
//!     }
//! }
//! let sets = results.finish().map_err(|e| e.message)?;
//! assert_eq!(sets[0].rows[0].raw(0usize), Some(Some(&b"1"[..])));
//! assert_eq!(client.auth_method().map(|m| m.name()), Some("scram-sha-256"));
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! The same three steps on a non-blocking socket: `Connection::turn` in
//! `examples/common/mod.rs`, which both example clients call (mio_client on every
//! readiness event, nonblocking_client on every tick). The transport reads until
//! `WouldBlock` and writes until `WouldBlock`, keeping the rest in `outgoing` (TLS, when
//! started, sits inside it; see [TLS](#tls) below):
//!
//! ```ignore
//! // 1. Feed.
//! let open = self.transport.read_available(|data| self.core.handle_input(data))?;
//! // 2. Drain the events. After Terminate the core is closed: ask it for nothing more.
//! while !self.queries.finished {
//!     let Some(event) = self.core.poll_event()? else {
//!         break;
//!     };
//!     self.queries.on_event(&mut self.core, event, out)?;
//! }
//! // 3. Drain the output.
//! self.core.transmit_into(&mut self.outgoing);
//! self.transport.write_available(&mut self.outgoing)?;
//! // The end of the stream, after the last bytes were handled.
//! if !open && !self.queries.finished {
//!     self.core.handle_eof();
//!     self.core.poll_event()?; // the core reports the end as an error
//!     return Err(pgproto_core::Error::Closed.into());
//! }
//! ```
//!
//! ## Client: requests and responses
//!
//! After [`Event::Ready`] the client accepts commands. Each command that gets an answer
//! returns a [`RequestId`](crate::client::RequestId); the answers come back as
//! [`Event::Response`] with that id, the last one with `complete: true`. Commands may be
//! issued at any time after Ready, also while earlier requests are in flight: that is
//! pipelining, and the core tracks which answer belongs to which request, including the
//! requests the server skips after an error until the next Sync
//! ([`Response::Skipped`](crate::client::Response::Skipped)).
//!
//! - [`ResultCollector`](crate::client::ResultCollector) turns one operation's responses
//!   into result sets (the examples use it).
//! - [`Router`](crate::client::Router) maps ranges of request ids to whatever waits for
//!   them (a channel, a future, a callback), for pipelining many operations.
//! - Composite commands queue a whole message sequence and return the range to collect:
//!   [`Client::query_typed`], [`Client::query_raw`], [`Client::prepare_typed`].
//! - A server error for a request is a [`Response::Error`](crate::client::Response::Error),
//!   not an `Err`: the connection stays usable.
//! - Notices, notifications (LISTEN/NOTIFY) and ParameterStatus are events that may
//!   come at any time, between or inside responses.
//!
//! ## Server: one session per connection
//!
//! [`ServerConnection::poll_action`](crate::server::ServerConnection::poll_action) is
//! a whole server connection's loop in one call. It answers every connection-level
//! event the same way for all adapters (SSLRequest, authentication with the
//! [`SessionSetup`](crate::server::SessionSetup)'s users, the end of startup with a
//! fresh cancel key, CancelRequest, Terminate, the authentication timeout) and returns
//! the one [`Action`](crate::server::Action) left to the caller: transmit bytes, read
//! (until a deadline), start TLS, create the application's handler, register the cancel
//! key, hand an event to the application, deliver a cancel request, close. The
//! connection derives its salts, nonces and cancel key from a 32-byte seed the caller
//! takes from the operating system once per connection; `now` is the caller's clock.
//! The application answers query-level events with the
//! [`Server`](crate::server::Server) commands; the core refuses answers that would break
//! the protocol. [`Server`](crate::server::Server) alone (`poll_event` and the
//! commands) is the lower layer, for servers that decide startup themselves.
//!
//! From `examples/mio_server.rs`, a session's turn (`turn`):
//!
//! ```ignore
//! loop {
//!     match self.conn.poll_action(epoch.elapsed()) {
//!         Action::Transmit(bytes) => self.outgoing.extend_from_slice(&bytes),
//!         // Wait for the socket (the poll loop wakes us by the deadline).
//!         Action::Read { .. } => return Ok(()),
//!         // The application's part: a query-level message to answer (now, or later).
//!         Action::Handle(event) => fixed_answer(self.conn.server(), event)?,
//!         Action::Registered { process_id, secret_key } => {
//!             let flag = self.conn.server().cancel_flag();
//!             shared.cancels.register(process_id, secret_key, flag);
//!         }
//!         Action::Cancel(token) => {
//!             shared.cancels.cancel(&token);
//!         }
//!         Action::Close => return Err(Error::Closed),
//!         Action::StartTls { .. } => return Err(Error::TlsNotConfigured),
//!         _ => {} // Startup: this server makes no handler per user.
//!     }
//! }
//! ```
//!
//! While the application answers a message, the server core processes no further input
//! (`poll_event` returns `Ok(None)` until the answer is complete): pipelined messages
//! wait in the input buffer and answers come out in order. An application that answers
//! later (a query running on another thread) returns to the loop and calls `poll_event`
//! again once it has answered.
//!
//! ## TLS
//!
//! The core never encrypts; it tells you when to start TLS and must be told when the
//! handshake is done.
//!
//! **Client, after SSLRequest** (`sslmode` other than `disable`/`allow`): the core queues
//! an SSLRequest; when the server accepts, [`Event::StartTls`] comes out. Send nothing
//! else; do the TLS handshake on the same socket; then call
//! [`Client::handle_tls_established`] with the server certificate's
//! `tls-server-end-point` hash
//! ([`auth::scram::tls_server_end_point`](crate::auth::scram::tls_server_end_point) of
//! the first certificate's DER), which enables SCRAM-SHA-256-PLUS. From then on
//! everything you feed and drain is the plaintext inside the TLS session. A server that
//! sent bytes after its `S` is rejected by the core (CVE-2021-23222): do not read ahead
//! into the TLS library before the event.
//!
//! **Client, direct TLS** ([`SslNegotiation::Direct`](crate::client::SslNegotiation),
//! PostgreSQL 17+): [`Client::new`] queues nothing and starts in
//! [`Phase::TlsHandshake`](crate::client::Phase::TlsHandshake); connect, do the
//! handshake with ALPN `postgresql`, then call `handle_tls_established`.
//!
//! **Server**: [`Action::StartTls`](crate::server::Action::StartTls) `{ direct: false }`
//! comes after the `S` answer was transmitted: run the handshake.
//! With `direct: true` the client started with a TLS ClientHello: feed
//! [`Server::take_buffered_input`] to the TLS library before reading more from the
//! socket, and refuse the connection unless ALPN `postgresql` was negotiated. Then call
//! [`Server::handle_tls_established`] with the channel-binding data of your own
//! certificate. Set `SessionSetup::tls_available` only when you can do all this.
//!
//! With non-blocking sockets the TLS library sits between the socket and the core
//! (rustls: `read_tls`, `process_new_packets`, `reader()` towards the core;
//! `writer()`, `write_tls` towards the socket); the handshake advances in the same
//! reads and writes as everything else. The example clients do this in `Transport`
//! (`examples/common/mod.rs`), with configurations from `pgproto-tls` (libpq's `sslmode`
//! semantics, ALPN `postgresql`, channel-binding data); the tests run them with
//! `sslmode=verify-full channel_binding=require`, after SSLRequest and as direct TLS.
//! Step 1 of their turn tells the core when the handshake has completed, step 2 starts
//! it:
//!
//! ```ignore
//! // 1. Feed (the plaintext, once TLS runs).
//! let open = self.transport.read_available(|data| self.core.handle_input(data))?;
//! if self.core.phase() == Phase::TlsHandshake {
//!     if let Some(channel_binding) = self.transport.handshake_done() {
//!         // The core queues the StartupMessage.
//!         self.core.handle_tls_established(channel_binding)?;
//!     }
//! }
//! // 2. Drain the events.
//! while let Some(event) = self.core.poll_event()? {
//!     match event {
//!         // The ClientHello goes out in step 3.
//!         Event::StartTls => self.transport.start_tls(self.tls.as_ref())?,
//!         event => self.queries.on_event(&mut self.core, event, out)?,
//!     }
//! }
//! ```
//!
//! For direct TLS the example calls `transport.start_tls` right after [`Client::new`]
//! (in `Connection::new`), when the core's phase is already `TlsHandshake`.
//!
//! ## Cancelling a query
//!
//! **Client**: after Ready, [`Client::cancel_token`] holds the server's process ID and
//! secret key. To cancel, open a *new* connection to the same server (with TLS
//! negotiation first if you like), write the bytes of
//! [`CancelToken::encode`](crate::cancel::CancelToken::encode), and close it. The server
//! answers nothing on that connection; the outcome arrives on the original connection,
//! usually as an error with SQLSTATE 57014 for the running request. From
//! `examples/mio_client.rs`, where the cancel connection is one more socket in the loop:
//!
//! ```ignore
//! let mut outgoing = BytesMut::new();
//! token.encode(&mut outgoing)?;
//! let mut socket = TcpStream::connect(addr)?;
//! poll.registry().register(&mut socket, cancel_token, Interest::WRITABLE)?;
//! cancels.insert(cancel_token, CancelRequest { socket, outgoing });
//! // On its writable event: write `outgoing`, then drop the socket.
//! ```
//!
//! **Server**: a CancelRequest arrives on its own connection as
//! [`Action::Cancel`](crate::server::Action::Cancel) (or
//! [`ServerEvent::CancelRequested`](crate::server::ServerEvent::CancelRequested)).
//! Find the session with that process ID and key (`CancelRegistry` does it with the
//! `std` feature), raise its [`Server::cancel_flag`]; the code answering that session's
//! query checks [`Server::take_cancel_request`] and answers with an error (57014).
//!
//! ## Timeouts
//!
//! The core has no clock: you hand it the time. Wake up for the earliest deadline of
//! your connections (the `timeout` argument of `mio::Poll::poll`, `epoll_wait`, a timer
//! wheel).
//!
//! - **Server startup** (PostgreSQL's `authentication_timeout`): the core keeps it. Set
//!   [`ServerConfig::authentication_timeout`](crate::server::ServerConfig), call
//!   [`Server::handle_timeout`](crate::server::Server::handle_timeout)`(now)` when the connection is accepted and whenever
//!   [`Server::poll_timeout`](crate::server::Server::poll_timeout)'s deadline passes (`now` is any monotonic clock as a
//!   `Duration` since a fixed epoch); a connection still starting up is then closed, as
//!   PostgreSQL does, and its error is `Error::TimedOut`.
//! - **Client connect and startup**: a deadline from connecting until [`Event::Ready`]
//!   (the `connect_timeout` of each [`ConnectTarget`](crate::client::ConnectTarget) from
//!   [`ConnInfo::targets`](crate::client::ConnInfo::targets)). When it passes, close the
//!   socket and try the next target.
//! - **Statement timeout**: a deadline per request; when it passes, cancel (above) and
//!   keep waiting for the answer, which will come; close the connection only if even
//!   that does not come.
//! - **Idle sessions**: the time since the last input in
//!   [`ServerPhase::Ready`](crate::server::ServerPhase::Ready).
//!
//! From `examples/mio_client.rs`:
//!
//! ```ignore
//! // A query's deadline, unless it was cancelled already.
//! let deadline = |c: &Connection| {
//!     let (query, sent_at) = c.queries.running()?;
//!     (c.cancelled != Some(query)).then_some(sent_at + options.timeout?)
//! };
//! let timeout = connections
//!     .values()
//!     .filter_map(deadline)
//!     .min()
//!     .map(|deadline| deadline.saturating_duration_since(Instant::now()));
//! poll.poll(&mut events, timeout)?;
//! // ... then cancel every query whose deadline passed.
//! ```
//!
//! ## Limits and back-pressure
//!
//! The framing limits ([`Limits`](crate::wire::Limits), in `Config::limits` and
//! `ServerConfig::limits`) are checked before anything is buffered; by default a startup
//! packet may have 10,004 bytes including its length word, as in PostgreSQL. What you
//! buffer is yours to bound: stop reading from a peer while your write buffer towards
//! it is large ([`Client::pending_output_len`], your own `outgoing`), and resume when
//! it drains. `examples/mio_server.rs` reads one chunk at a time, answers it, and stops
//! reading while more than a megabyte waits for the client or while the application
//! is still answering; with edge-triggered readiness it must then read again by itself
//! when the output drains (no new readable event comes for bytes already waiting).
//! Its test pipelines 200,000 queries without reading and checks every answer arrives.
//!
//! ## Answering later
//!
//! A server application need not answer inside the event handler. `mio_server` answers
//! `select pg_sleep(N)` from its loop when N seconds have passed on its clock (or at
//! once with 57014 when [`Server::take_cancel_request`] says a CancelRequest came);
//! meanwhile the core holds that connection's further input back and the other
//! connections go on. After answering, drain the events again: pipelined input that
//! waited is processed now.
//!
//! ## Errors
//!
//! An `Err` from `poll_event` or a command is fatal for most kinds
//! ([`Error`](crate::Error): decode errors, protocol violations, authentication
//! failures): the connection is poisoned and every later call returns the same error.
//! A server core may have queued a FATAL ErrorResponse for the client: write what is
//! queued, then close. A well-framed message whose body does not decode is no `Err` for
//! a server core after startup: as PostgreSQL, it queues an ERROR (22021 for invalid
//! UTF-8, else 08P01) and the session goes on. A broken length, an unknown message type
//! or a malformed message during startup or COPY is fatal. A [`UsageError`](crate::UsageError) from a command (a command
//! illegal in the current phase) is your mistake and leaves the connection as it was.
//! With the `std` feature, `adapter::Error` wraps the core's errors with I/O and TLS
//! errors; the examples and all three adapters use it.
//!
//! [`Client`]: crate::client::Client
//! [`Server`]: crate::server::Server
//! [`Client::handle_input`]: crate::client::Client::handle_input
//! [`Server::handle_input`]: crate::server::Server::handle_input
//! [`Server::handle_eof`]: crate::server::Server::handle_eof
//! [`Client::handle_eof`]: crate::client::Client::handle_eof
//! [`Client::input_buffer`]: crate::client::Client::input_buffer
//! [`Server::input_buffer`]: crate::server::Server::input_buffer
//! [`Client::transmit_into`]: crate::client::Client::transmit_into
//! [`Client::has_pending_output`]: crate::client::Client::has_pending_output
//! [`Server::has_pending_output`]: crate::server::Server::has_pending_output
//! [`Server::should_flush`]: crate::server::Server::should_flush
//! [`Event::Ready`]: crate::client::Event::Ready
//! [`Event::Response`]: crate::client::Event::Response
//! [`Event::StartTls`]: crate::client::Event::StartTls
//! [`Client::query_typed`]: crate::client::Client::query_typed
//! [`Client::query_raw`]: crate::client::Client::query_raw
//! [`Client::prepare_typed`]: crate::client::Client::prepare_typed
//! [`Client::handle_tls_established`]: crate::client::Client::handle_tls_established
//! [`Client::new`]: crate::client::Client::new
//! [`Client::cancel_token`]: crate::client::Client::cancel_token
//! [`Client::pending_output_len`]: crate::client::Client::pending_output_len
//! [`Server::take_buffered_input`]: crate::server::Server::take_buffered_input
//! [`Server::handle_tls_established`]: crate::server::Server::handle_tls_established
//! [`Server::cancel_flag`]: crate::server::Server::cancel_flag
//! [`Server::take_cancel_request`]: crate::server::Server::take_cancel_request
