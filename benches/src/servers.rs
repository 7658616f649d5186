//! The two fixed-answer servers compared by `server`, and the hidden `server-process`
//! subcommand that runs one of them alone in its own process (so that its memory is its
//! own).
//!
//! Both answer every query, simple or extended, with one int4 column `?column?` = 1 and
//! `SELECT 1`; both use trust authentication, no TLS, a multi-thread tokio runtime with one
//! worker per core, and one task per connection.
//!
//! - pgproto: `pgproto_tokio::server::serve` with `pgproto_core::testing::fixed_answer`,
//!   as `fixed_server tokio` (`examples/src/bin/fixed_server.rs`).
//! - pgwire: `pgwire::tokio::process_socket` with a minimal simple + extended query
//!   handler (pgwire's default trust startup handler).
//!
//! Protocol on stdout/stdin: the process prints `listening PORT` once bound; each `heap`
//! line on stdin is answered with `heap LIVE_BYTES PEAK_BYTES`; end of stdin exits.

use std::fmt::Debug;
use std::io::{BufRead, Write};
use std::sync::Arc;

use async_trait::async_trait;
use futures_util::{stream, Sink};
use pgproto_core::server::{AuthKind, Server, ServerAuth, ServerEvent};
use pgwire::api::portal::{Format, Portal};
use pgwire::api::query::{ExtendedQueryHandler, SimpleQueryHandler};
use pgwire::api::results::{DataRowEncoder, FieldFormat, FieldInfo, QueryResponse, Response};
use pgwire::api::stmt::QueryParser;
use pgwire::api::store::PortalStore;
use pgwire::api::{ClientInfo, ClientPortalStore, PgWireServerHandlers, Type};
use pgwire::error::{PgWireError, PgWireResult};
use pgwire::messages::PgWireBackendMessage;
use tokio::net::TcpListener;

use crate::alloc;

/// Which server.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    Pgproto,
    Pgwire,
}

impl Kind {
    pub(crate) fn name(self) -> &'static str {
        match self {
            Self::Pgproto => "pgproto",
            Self::Pgwire => "pgwire",
        }
    }

    fn parse(s: &str) -> Result<Self, String> {
        match s {
            "pgproto" => Ok(Self::Pgproto),
            "pgwire" => Ok(Self::Pgwire),
            other => Err(format!(
                "server-process takes pgproto or pgwire, not `{other}`"
            )),
        }
    }
}

/// `server-process pgproto|pgwire [PORT]` (port 0, the default, picks a free one).
pub(crate) fn process(args: &[String]) -> Result<(), String> {
    let kind = Kind::parse(args.first().map_or("", String::as_str))?;
    let port: u16 = match args.get(1) {
        Some(p) => p.parse().map_err(|e| format!("port {p}: {e}"))?,
        None => 0,
    };
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| e.to_string())?;
    rt.block_on(async move {
        let listener = TcpListener::bind(("127.0.0.1", port))
            .await
            .map_err(|e| format!("bind 127.0.0.1:{port}: {e}"))?;
        let port = listener.local_addr().map_err(|e| e.to_string())?.port();
        {
            let mut out = std::io::stdout().lock();
            writeln!(out, "listening {port}").map_err(|e| e.to_string())?;
            out.flush().map_err(|e| e.to_string())?;
        }
        std::thread::spawn(control);
        match kind {
            Kind::Pgproto => serve_pgproto(listener).await,
            Kind::Pgwire => serve_pgwire(listener).await,
        }
        .map_err(|e| format!("{} server: {e}", kind.name()))
    })
}

/// Answers `heap` requests until stdin closes, then ends the process.
fn control() {
    for line in std::io::stdin().lock().lines() {
        let Ok(line) = line else { break };
        if line.trim() == "heap" {
            let mut out = std::io::stdout().lock();
            let _ = writeln!(out, "heap {} {}", alloc::live_bytes(), alloc::peak_bytes());
            let _ = out.flush();
        }
    }
    std::process::exit(0);
}

// ---------------------------------------------------------------------------------------
// pgproto

struct Fixed;

impl pgproto_tokio::server::Handler for Fixed {
    async fn handle(
        &mut self,
        server: &mut Server,
        event: ServerEvent,
    ) -> Result<(), pgproto_tokio::Error> {
        Ok(pgproto_core::testing::fixed_answer(server, event)?)
    }
}

async fn serve_pgproto(listener: TcpListener) -> std::io::Result<()> {
    let auth = ServerAuth::new(AuthKind::Trust, b"benchmark mock secret");
    let options = pgproto_tokio::server::ServerOptions::new(auth);
    pgproto_tokio::server::serve(listener, options, |_| Fixed).await
}

// ---------------------------------------------------------------------------------------
// pgwire

/// The one column every answer has, in `format`.
fn pgwire_schema(format: FieldFormat) -> Arc<Vec<FieldInfo>> {
    Arc::new(vec![FieldInfo::new(
        "?column?".into(),
        None,
        None,
        Type::INT4,
        format,
    )])
}

/// `SELECT 1`'s answer: one row, `1` in the schema's format.
fn pgwire_answer(schema: Arc<Vec<FieldInfo>>) -> PgWireResult<Response> {
    let mut encoder = DataRowEncoder::new(schema.clone());
    encoder.encode_field(&1i32)?;
    let row = encoder.take_row();
    Ok(Response::Query(QueryResponse::new(
        schema,
        stream::iter([Ok(row)]),
    )))
}

/// Keeps the SQL text; every statement has no parameters and the one int4 column.
#[derive(Debug, Default)]
struct FixedParser;

#[async_trait]
impl QueryParser for FixedParser {
    type Statement = String;

    async fn parse_sql<C>(
        &self,
        _client: &C,
        sql: &str,
        _types: &[Option<Type>],
    ) -> PgWireResult<Option<Self::Statement>>
    where
        C: ClientInfo + Unpin + Send + Sync,
    {
        Ok(Some(sql.to_owned()))
    }

    fn get_parameter_types(&self, _stmt: &Self::Statement) -> PgWireResult<Vec<Type>> {
        Ok(Vec::new())
    }

    fn get_result_schema(
        &self,
        _stmt: &Self::Statement,
        column_format: Option<&Format>,
    ) -> PgWireResult<Vec<FieldInfo>> {
        let format = column_format.map_or(FieldFormat::Text, |f| f.format_for(0));
        Ok(pgwire_schema(format).as_ref().clone())
    }
}

struct PgwireFixed {
    parser: Arc<FixedParser>,
}

#[async_trait]
impl SimpleQueryHandler for PgwireFixed {
    async fn do_query<C>(&self, _client: &mut C, _query: &str) -> PgWireResult<Vec<Response>>
    where
        C: ClientInfo + ClientPortalStore + Sink<PgWireBackendMessage> + Unpin + Send + Sync,
        C::PortalStore: PortalStore,
        C::Error: Debug,
        PgWireError: From<<C as Sink<PgWireBackendMessage>>::Error>,
    {
        Ok(vec![pgwire_answer(pgwire_schema(FieldFormat::Text))?])
    }
}

#[async_trait]
impl ExtendedQueryHandler for PgwireFixed {
    type Statement = String;
    type QueryParser = FixedParser;

    fn query_parser(&self) -> Arc<Self::QueryParser> {
        self.parser.clone()
    }

    async fn do_query<C>(
        &self,
        _client: &mut C,
        portal: &Portal<Self::Statement>,
        _max_rows: usize,
    ) -> PgWireResult<Response>
    where
        C: ClientInfo + ClientPortalStore + Sink<PgWireBackendMessage> + Unpin + Send + Sync,
        C::PortalStore: PortalStore<Statement = Self::Statement>,
        C::Error: Debug,
        PgWireError: From<<C as Sink<PgWireBackendMessage>>::Error>,
    {
        pgwire_answer(pgwire_schema(portal.result_column_format.format_for(0)))
    }
}

struct PgwireFactory {
    handler: Arc<PgwireFixed>,
}

impl PgWireServerHandlers for PgwireFactory {
    fn simple_query_handler(&self) -> Arc<impl SimpleQueryHandler> {
        self.handler.clone()
    }

    fn extended_query_handler(&self) -> Arc<impl ExtendedQueryHandler> {
        self.handler.clone()
    }
}

async fn serve_pgwire(listener: TcpListener) -> std::io::Result<()> {
    let factory = Arc::new(PgwireFactory {
        handler: Arc::new(PgwireFixed {
            parser: Arc::new(FixedParser),
        }),
    });
    loop {
        let (socket, _) = listener.accept().await?;
        let factory = factory.clone();
        tokio::spawn(async move {
            let _ = pgwire::tokio::process_socket(socket, None, factory).await;
        });
    }
}
