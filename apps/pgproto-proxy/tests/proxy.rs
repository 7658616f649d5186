//! The `pgproto-proxy` library served in process in front of real PostgreSQL (15, and 18
//! where the protocol differs), with real clients: tokio-postgres and pgproto's client
//! over TLS with SCRAM-SHA-256-PLUS, psql (`\copy` both ways, LISTEN/NOTIFY), pgbench
//! (`-i` and all three query modes), cancel requests, and upstream failures.

use std::path::PathBuf;
use std::process::Output;
use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::BytesMut;
use pgproto_core::client::{Client as Core, Config, Event, Response, SslMode};
use pgproto_core::server::{AuthKind, Server, ServerAuth, ServerEvent};
use pgproto_tests::harness::tls::{generate, TlsMaterial};
use pgproto_tests::harness::{HbaMethod, PasswordEncryption, PgCluster, PgVersion};
use pgproto_tokio::server::{serve_until, Handler, ServerOptions};
use pgproto_tokio::Client;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio_postgres::error::SqlState;
use tokio_postgres::NoTls;

const USER: &str = "alice";
const PASSWORD: &str = "s3cret";

/// A proxy; its task (when it runs as one) is aborted with its sessions on drop.
struct Proxy {
    port: u16,
    task: Option<tokio::task::JoinHandle<std::io::Result<()>>>,
}

impl Drop for Proxy {
    fn drop(&mut self) {
        if let Some(task) = &self.task {
            task.abort();
        }
    }
}

fn options(upstream: &str, kind: AuthKind, tls: Option<&TlsMaterial>) -> pgproto_proxy::Options {
    let mut auth = ServerAuth::new(kind, b"mock secret for tests");
    auth.add_user(USER, PASSWORD, b"0123456789abcdef").unwrap();
    let mut options = pgproto_proxy::Options::new(upstream, auth).unwrap();
    if let Some(m) = tls {
        options = options
            .with_tls(m.server_cert_pem.as_bytes(), m.server_key_pem.as_bytes())
            .unwrap();
    }
    options
}

async fn start_proxy(upstream: &str, kind: AuthKind, tls: Option<&TlsMaterial>) -> Proxy {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let task = tokio::spawn(pgproto_proxy::serve(listener, options(upstream, kind, tls)));
    Proxy {
        port,
        task: Some(task),
    }
}

/// The proxy as the binary runs it: connections spread over two single-threaded
/// runtimes. Its threads live until the test process ends.
fn start_proxy_threads(upstream: &str, kind: AuthKind, tls: Option<&TlsMaterial>) -> Proxy {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let options = options(upstream, kind, tls);
    std::thread::spawn(move || pgproto_proxy::serve_threads(listener, options, 2));
    Proxy { port, task: None }
}

/// PostgreSQL with SCRAM and TLS, a role `app` owning database `app`, and the proxy in
/// front of it (client TLS, SCRAM), connecting upstream over verified TLS.
struct Fixture {
    pg: PgCluster,
    proxy: Proxy,
    dir: PathBuf,
    material: TlsMaterial,
}

impl Fixture {
    async fn start(version: PgVersion) -> Self {
        Self::start_with(version, false).await
    }

    /// With `threaded`, the proxy runs on its own threads as the binary does.
    async fn start_with(version: PgVersion, threaded: bool) -> Self {
        let pg = PgCluster::builder()
            .version(version)
            .auth(HbaMethod::ScramSha256)
            .tls(true)
            .start()
            .unwrap();
        pg.create_role("app", "app pw", PasswordEncryption::ScramSha256)
            .unwrap();
        pg.psql(&["-q", "-c", "create database app owner app"])
            .unwrap();
        let upstream = format!(
            "postgresql://app:app%20pw@127.0.0.1:{}/app?sslmode=verify-full&sslrootcert={}",
            pg.port(),
            pg.ca_cert_path().unwrap().display()
        );
        let material = generate().unwrap();
        let dir = std::env::temp_dir().join(format!(
            "pgproto-proxy-test-{}-{}",
            std::process::id(),
            pg.port()
        ));
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join("ca.pem"), &material.ca_cert_pem).unwrap();
        let proxy = if threaded {
            start_proxy_threads(&upstream, AuthKind::ScramSha256, Some(&material))
        } else {
            start_proxy(&upstream, AuthKind::ScramSha256, Some(&material)).await
        };
        Self {
            pg,
            proxy,
            dir,
            material,
        }
    }

    fn ca(&self) -> String {
        self.dir.join("ca.pem").display().to_string()
    }

    /// A libpq conninfo for the proxy over verified TLS with channel binding.
    fn conninfo(&self) -> String {
        format!(
            "host=localhost port={} user={USER} password={PASSWORD} dbname=app \
             sslmode=verify-full sslrootcert={} channel_binding=require",
            self.proxy.port,
            self.ca()
        )
    }

    /// For tokio-postgres: TLS required (verified by the connector's roots), channel
    /// binding required.
    fn tokio_postgres(&self) -> String {
        format!(
            "host=localhost port={} user={USER} password={PASSWORD} dbname=app \
             sslmode=require channel_binding=require",
            self.proxy.port
        )
    }

    /// Plain text, for clients without TLS.
    fn plain(&self) -> String {
        format!(
            "host=127.0.0.1 port={} user={USER} password={PASSWORD} dbname=app sslmode=disable",
            self.proxy.port
        )
    }

    /// Runs a PostgreSQL client program with the proxy's connection in `PG*` variables.
    async fn run(&self, program: &str, args: &[&str]) -> Output {
        let mut cmd = self.pg.client_command(program).unwrap();
        cmd.envs([
            ("PGHOST", "localhost".to_string()),
            ("PGPORT", self.proxy.port.to_string()),
            ("PGUSER", USER.to_string()),
            ("PGPASSWORD", PASSWORD.to_string()),
            ("PGDATABASE", "app".to_string()),
            ("PGSSLMODE", "verify-full".to_string()),
            ("PGSSLROOTCERT", self.ca()),
            ("PGCHANNELBINDING", "require".to_string()),
        ])
        .args(args);
        tokio::task::spawn_blocking(move || cmd.output().unwrap())
            .await
            .unwrap()
    }

    async fn psql(&self, args: &[&str]) -> String {
        let mut all = vec!["-X", "-At", "-v", "ON_ERROR_STOP=1"];
        all.extend_from_slice(args);
        let out = self.run("psql", &all).await;
        assert!(out.status.success(), "psql {args:?}: {}", stderr(&out));
        String::from_utf8_lossy(&out.stdout).into_owned()
    }
}

impl Drop for Fixture {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

fn rustls_connector(ca_pem: &str) -> tokio_postgres_rustls::MakeRustlsConnect {
    let mut roots = pgproto_tls::rustls::RootCertStore::empty();
    for cert in pgproto_tls::certificates_from_pem(ca_pem.as_bytes()).unwrap() {
        roots.add(cert).unwrap();
    }
    let config =
        pgproto_tls::rustls::ClientConfig::builder_with_provider(pgproto_tls::crypto_provider())
            .with_safe_default_protocol_versions()
            .unwrap()
            .with_root_certificates(roots)
            .with_no_client_auth();
    tokio_postgres_rustls::MakeRustlsConnect::new(config)
}

async fn connect_err(conninfo: &str) -> tokio_postgres::Error {
    match tokio_postgres::connect(conninfo, NoTls).await {
        Ok(_) => panic!("{conninfo}: connected"),
        Err(e) => e,
    }
}

fn code(e: &tokio_postgres::Error) -> &str {
    e.code().map_or("no SQLSTATE", SqlState::code)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tokio_postgres_and_pgproto_over_tls_with_scram_plus() {
    for version in [PgVersion::V15, PgVersion::V18] {
        let f = Fixture::start(version).await;
        let connector = rustls_connector(&f.material.ca_cert_pem);
        let (client, connection) = tokio_postgres::connect(
            &format!("{} application_name=tp_app", f.tokio_postgres()),
            connector,
        )
        .await
        .unwrap_or_else(|e| panic!("{version:?}: {e}"));
        let conn = tokio::spawn(connection);

        // The session is the proxy's upstream user's, in the URL's database, with the
        // client's run-time parameters; and it is TLS on both legs.
        let row = client
            .query_one(
                "select current_user::text, current_database()::text, \
                 current_setting('application_name'), \
                 (select ssl from pg_stat_ssl where pid = pg_backend_pid())",
                &[],
            )
            .await
            .unwrap();
        assert_eq!(row.get::<_, String>(0), "app");
        assert_eq!(row.get::<_, String>(1), "app");
        assert_eq!(row.get::<_, String>(2), "tp_app");
        assert!(row.get::<_, bool>(3));

        // Prepared statements, binary parameters and results.
        let st = client
            .prepare("select $1::int8 * 2, $2::text")
            .await
            .unwrap();
        for i in 0..100i64 {
            let row = client.query_one(&st, &[&i, &"x"]).await.unwrap();
            assert_eq!(row.get::<_, i64>(0), i * 2);
        }
        // An error leaves the session usable; a transaction works as upstream.
        let err = client.query("select 1/0", &[]).await.unwrap_err();
        assert_eq!(code(&err), "22012");
        client
            .batch_execute("begin; create temp table t (a int); insert into t values (1)")
            .await
            .unwrap();
        let err = client
            .batch_execute("select * from missing")
            .await
            .unwrap_err();
        assert_eq!(code(&err), "42P01");
        let err = client.query("select 1", &[]).await.unwrap_err();
        assert_eq!(code(&err), "25P02", "aborted transaction is upstream's");
        client.batch_execute("rollback").await.unwrap();
        // A large result (several buffers' worth) arrives whole.
        let rows = client
            .query(
                "select g, repeat('x', 1000) from generate_series(1, 2000) g",
                &[],
            )
            .await
            .unwrap();
        assert_eq!(rows.len(), 2000);
        // One value larger than the relay's buffer (streamed through).
        let row = client
            .query_one("select repeat('y', 300000)", &[])
            .await
            .unwrap();
        assert_eq!(row.get::<_, String>(0).len(), 300000);
        drop(client);
        conn.await.unwrap().unwrap();

        // pgproto's client (protocol 3.2 asked for), plain SSLRequest and direct TLS: it
        // sees the upstream server's own ParameterStatus values.
        for extra in ["", "sslnegotiation=direct"] {
            let client = Client::connect(&format!("{} {extra}", f.conninfo()))
                .await
                .unwrap_or_else(|e| panic!("{version:?} {extra}: {e}"));
            let upstream_version = f.pg.query_value("show server_version").unwrap();
            assert_eq!(
                client.parameter("server_version").as_deref(),
                Some(upstream_version.as_str()),
                "{version:?}"
            );
            assert_eq!(
                client.parameter("session_authorization").as_deref(),
                Some("app")
            );
            let rows = client
                .query_text("select $1::text", &[Some("hi")])
                .await
                .unwrap();
            assert_eq!(rows[0].raw(0usize), Some(Some(&b"hi"[..])));
            client.close().await.unwrap();
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn psql_copy_in_and_out_and_listen_notify() {
    let f = Fixture::start(PgVersion::V15).await;
    assert_eq!(f.psql(&["-c", "select 1"]).await.trim(), "1");
    // psql's own startup parameters reach upstream.
    assert_eq!(
        f.psql(&["-c", "show application_name"]).await.trim(),
        "psql"
    );

    // \copy in (COPY FROM STDIN) and out (COPY TO STDOUT), 20k rows with tabs, quotes,
    // backslashes and NULLs, compared byte for byte.
    let input = f.dir.join("in.tsv");
    let output = f.dir.join("out.tsv");
    let mut data = String::new();
    for i in 0..20000 {
        let text = match i % 4 {
            0 => format!("row {i}"),
            1 => format!("tab\\there 'q' \"dq\" {i}"),
            2 => "\\N".to_string(),
            _ => format!("back\\\\slash é {i}"),
        };
        data.push_str(&format!("{i}\t{text}\n"));
    }
    std::fs::write(&input, &data).unwrap();
    f.psql(&["-c", "create table items (id int primary key, body text)"])
        .await;
    let copied = f
        .psql(&["-c", &format!("\\copy items from '{}'", input.display())])
        .await;
    assert_eq!(copied.trim(), "COPY 20000");
    assert_eq!(
        f.psql(&["-c", "select count(*), count(body) from items"])
            .await
            .trim(),
        "20000|15000"
    );
    f.psql(&[
        "-c",
        &format!(
            "\\copy (select * from items order by id) to '{}'",
            output.display()
        ),
    ])
    .await;
    assert_eq!(std::fs::read_to_string(&output).unwrap(), data);

    // A failing COPY (bad data) is upstream's error; the next session is fine.
    let bad = f.dir.join("bad.tsv");
    std::fs::write(&bad, "1\tdup\nnot-a-number\tx\n").unwrap();
    let out = f
        .run(
            "psql",
            &[
                "-X",
                "-v",
                "ON_ERROR_STOP=1",
                "-c",
                &format!("\\copy items from '{}'", bad.display()),
            ],
        )
        .await;
    assert!(!out.status.success());
    assert!(
        stderr(&out).contains("duplicate key") || stderr(&out).contains("invalid input"),
        "{}",
        stderr(&out)
    );
    assert_eq!(
        f.psql(&["-c", "select count(*) from items"]).await.trim(),
        "20000"
    );

    // LISTEN through the proxy (pgproto's client), NOTIFY from psql through the proxy,
    // and psql itself reporting a notification it receives.
    let listener = Client::connect(&f.conninfo()).await.unwrap();
    listener.simple_query("listen chan").await.unwrap();
    f.psql(&["-c", "notify chan, 'hello through the proxy'"])
        .await;
    let n = tokio::time::timeout(Duration::from_secs(10), listener.notification())
        .await
        .expect("notification within 10 s")
        .unwrap();
    assert_eq!(
        (n.channel.as_str(), n.payload.as_str()),
        ("chan", "hello through the proxy")
    );
    let out = f
        .psql(&[
            "-c",
            "listen me",
            "-c",
            "notify me, 'self'",
            "-c",
            "select 2",
        ])
        .await;
    assert!(
        out.contains("Asynchronous notification \"me\" with payload \"self\""),
        "{out}"
    );
    listener.close().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pgbench_init_and_all_query_modes() {
    // The proxy as the binary runs it (connections spread over two threads).
    let f = Fixture::start_with(PgVersion::V15, true).await;
    // -i loads pgbench_accounts with COPY FROM STDIN.
    let out = f.run("pgbench", &["-i", "-s", "1", "-q"]).await;
    assert!(out.status.success(), "pgbench -i: {}", stderr(&out));
    assert_eq!(
        f.psql(&["-c", "select count(*) from pgbench_accounts"])
            .await
            .trim(),
        "100000"
    );
    for mode in ["simple", "extended", "prepared"] {
        let out = f
            .run(
                "pgbench",
                &["-n", "-T", "2", "-c", "4", "-j", "2", "-M", mode],
            )
            .await;
        let text = String::from_utf8_lossy(&out.stdout);
        assert!(out.status.success(), "{mode}: {}\n{text}", stderr(&out));
        let processed: u64 = text
            .lines()
            .find_map(|l| l.strip_prefix("number of transactions actually processed: "))
            .and_then(|v| v.split('/').next())
            .and_then(|v| v.trim().parse().ok())
            .unwrap_or_else(|| panic!("{mode}: {text}"));
        assert!(processed > 0, "{mode}: {text}");
        assert!(
            text.contains("number of failed transactions: 0"),
            "{mode}: {text}"
        );
    }
}

/// Waits for `fut`, failing after `secs`.
async fn within<T>(secs: u64, what: &str, fut: impl std::future::Future<Output = T>) -> T {
    tokio::time::timeout(Duration::from_secs(secs), fut)
        .await
        .unwrap_or_else(|_| panic!("{what}: no answer within {secs} s"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cancel_requests_are_mapped_to_the_upstream_key() {
    for version in [PgVersion::V15, PgVersion::V18] {
        let f = Fixture::start(version).await;

        // tokio-postgres (protocol 3.0, 4-byte key), plain text on the client side.
        let (client, connection) = tokio_postgres::connect(&f.plain(), NoTls).await.unwrap();
        let conn = tokio::spawn(connection);
        let token = client.cancel_token();
        let started = Instant::now();
        let sleeping =
            tokio::spawn(async move { client.simple_query("select pg_sleep(30)").await });
        tokio::time::sleep(Duration::from_millis(300)).await;
        token.cancel_query(NoTls).await.unwrap();
        let err = within(10, "cancel", sleeping).await.unwrap().unwrap_err();
        assert_eq!(code(&err), "57014", "{version:?}: {err}");
        assert!(started.elapsed() < Duration::from_secs(10));
        conn.abort();

        // tokio-postgres over TLS: its cancel connection negotiates TLS too.
        let connector = rustls_connector(&f.material.ca_cert_pem);
        let (client, connection) = tokio_postgres::connect(&f.tokio_postgres(), connector.clone())
            .await
            .unwrap();
        let conn = tokio::spawn(connection);
        let token = client.cancel_token();
        let sleeping =
            tokio::spawn(async move { client.simple_query("select pg_sleep(30)").await });
        tokio::time::sleep(Duration::from_millis(300)).await;
        token.cancel_query(connector).await.unwrap();
        let err = within(10, "TLS cancel", sleeping)
            .await
            .unwrap()
            .unwrap_err();
        assert_eq!(code(&err), "57014", "{version:?}: {err}");
        conn.abort();

        // pgproto's client asks for protocol 3.2: a 32-byte key from the proxy.
        let client = Arc::new(Client::connect(&f.plain()).await.unwrap());
        let key_len = client.cancel_token().unwrap().secret_key.len();
        assert_eq!(key_len, 32);
        let c = client.clone();
        let sleeping = tokio::spawn(async move { c.simple_query("select pg_sleep(30)").await });
        tokio::time::sleep(Duration::from_millis(300)).await;
        // A wrong key cancels nothing.
        let mut wrong = client.cancel_token().unwrap().clone();
        wrong.secret_key[0] ^= 1;
        send_cancel(f.proxy.port, &wrong).await;
        tokio::time::sleep(Duration::from_millis(300)).await;
        assert!(!sleeping.is_finished(), "a wrong key must not cancel");
        client.cancel().await.unwrap();
        let err = within(10, "3.2 cancel", sleeping)
            .await
            .unwrap()
            .unwrap_err();
        assert_eq!(
            err.as_db_error().map(|e| e.code.code()),
            Some("57014"),
            "{err}"
        );
        // The session goes on.
        client.simple_query("select 1").await.unwrap();
    }
}

async fn send_cancel(port: u16, token: &pgproto_core::cancel::CancelToken) {
    let mut buf = BytesMut::new();
    token.encode(&mut buf).unwrap();
    let mut s = TcpStream::connect(("127.0.0.1", port)).await.unwrap();
    s.write_all(&buf).await.unwrap();
    let mut rest = Vec::new();
    let _ = s.read_to_end(&mut rest).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn client_authentication_is_the_proxys() {
    let f = Fixture::start(PgVersion::V15).await;
    // Wrong password: the proxy refuses (28P01) without going upstream.
    let err = Client::connect(&format!("{} password=wrong", f.plain()))
        .await
        .unwrap_err();
    assert_eq!(
        err.as_db_error().map(|e| e.code.code()),
        Some("28P01"),
        "{err}"
    );
    let err = Client::connect(&format!("{} user=app password=app%20pw", f.plain()))
        .await
        .unwrap_err();
    assert_eq!(err.as_db_error().map(|e| e.code.code()), Some("28P01"));
    // The other methods, plain text.
    let upstream = format!(
        "host=127.0.0.1 port={} user=app password='app pw' dbname=app sslmode=disable",
        f.pg.port()
    );
    for kind in [AuthKind::Trust, AuthKind::Password, AuthKind::Md5] {
        let proxy = start_proxy(&upstream, kind, None).await;
        let conninfo = format!(
            "host=127.0.0.1 port={} user={USER} password={PASSWORD} sslmode=disable",
            proxy.port
        );
        let (client, connection) = tokio_postgres::connect(&conninfo, NoTls)
            .await
            .unwrap_or_else(|e| panic!("{kind:?}: {e}"));
        let conn = tokio::spawn(connection);
        let row = client
            .query_one("select current_user::text", &[])
            .await
            .unwrap();
        assert_eq!(row.get::<_, String>(0), "app");
        drop(client);
        conn.await.unwrap().unwrap();
        // TLS is refused when not configured (sslmode=require fails, prefer falls back).
        let err = Client::connect(&format!("{conninfo} sslmode=require"))
            .await
            .unwrap_err();
        assert!(
            err.to_string().contains("TLS") || err.to_string().contains("SSL"),
            "{err}"
        );
    }
}

/// Drives the core client over TCP until startup completes.
async fn raw_connect(port: u16) -> (TcpStream, Core) {
    let mut config = Config::new(USER);
    config.password = Some(PASSWORD.as_bytes().to_vec());
    config.ssl_mode = SslMode::Disable;
    config.database = Some("app".into());
    let mut core = Core::new(config, &[9; 24]);
    let mut stream = TcpStream::connect(("127.0.0.1", port)).await.unwrap();
    loop {
        while let Some(b) = core.poll_transmit() {
            stream.write_all(&b).await.unwrap();
        }
        match core.poll_event().unwrap() {
            Some(Event::Ready) => return (stream, core),
            Some(_) => {}
            None => {
                while let Some(b) = core.poll_transmit() {
                    stream.write_all(&b).await.unwrap();
                }
                let mut buf = vec![0; 4096];
                let n = stream.read(&mut buf).await.unwrap();
                assert!(n > 0, "closed during startup");
                core.handle_input(&buf[..n]);
            }
        }
    }
}

/// Reads events until `ready` ReadyForQuery responses arrived.
async fn raw_events(stream: &mut TcpStream, core: &mut Core, mut ready: usize) -> Vec<Event> {
    let mut events = Vec::new();
    while let Some(b) = core.poll_transmit() {
        stream.write_all(&b).await.unwrap();
    }
    loop {
        while let Some(e) = core.poll_event().unwrap() {
            if let Event::Response {
                response: Response::ReadyForQuery(_),
                ..
            } = &e
            {
                ready -= 1;
            }
            events.push(e);
            if ready == 0 {
                return events;
            }
        }
        let mut buf = vec![0; 65536];
        let n = within(10, "events", stream.read(&mut buf)).await.unwrap();
        assert!(n > 0, "closed; events so far: {events:?}");
        core.handle_input(&buf[..n]);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn notices_parameter_status_and_pipelines_are_relayed() {
    let f = Fixture::start(PgVersion::V15).await;
    let (mut stream, mut core) = raw_connect(f.proxy.port).await;
    core.query(
        "set application_name = 'renamed'; \
         do $$ begin raise notice 'hello %', 42; raise warning 'careful'; end $$",
    )
    .unwrap();
    let events = raw_events(&mut stream, &mut core, 1).await;
    assert!(
        events.iter().any(|e| matches!(e,
            Event::ParameterStatus { name, value } if name == "application_name" && value == "renamed")),
        "{events:?}"
    );
    let notices: Vec<String> = events
        .iter()
        .filter_map(|e| match e {
            Event::Notice(n) => Some(n.message.clone()),
            _ => None,
        })
        .collect();
    assert_eq!(notices, ["hello 42", "careful"]);

    // A pipeline with an error in the middle (at the second Bind: PostgreSQL folds
    // 1/0 while planning): upstream skips to Sync, as it would directly.
    core.parse("", "select 1/$1::int", &[]).unwrap();
    for v in ["1", "0", "2"] {
        core.bind(&pgproto_core::message::Bind {
            portal: "",
            statement: "",
            param_formats: pgproto_core::message::List::new(&[]),
            params: pgproto_core::message::List::new(&[Some(v.as_bytes())]),
            result_formats: pgproto_core::message::List::new(&[]),
        })
        .unwrap();
        core.execute("", 0).unwrap();
    }
    core.sync().unwrap();
    core.query("select 'after'").unwrap();
    let events = raw_events(&mut stream, &mut core, 2).await;
    let responses: Vec<&Response> = events
        .iter()
        .filter_map(|e| match e {
            Event::Response { response, .. } => Some(response),
            _ => None,
        })
        .collect();
    assert!(
        matches!(responses.as_slice(), [
        Response::ParseComplete,
        Response::BindComplete,
        Response::DataRow(_),
        Response::CommandComplete(_),
        Response::Error(e),
        Response::Skipped,
        Response::Skipped,
        Response::Skipped,
        Response::ReadyForQuery(_),
        Response::RowDescription(_),
        Response::DataRow(_),
        Response::CommandComplete(_),
        Response::ReadyForQuery(_),
    ] if e.code.code() == "22012"),
        "{responses:?}"
    );

    // Terminate with the socket left open: upstream closes, and so does the proxy,
    // without an error (the client asked for it).
    core.terminate();
    while let Some(b) = core.poll_transmit() {
        stream.write_all(&b).await.unwrap();
    }
    let mut rest = Vec::new();
    within(10, "close after Terminate", stream.read_to_end(&mut rest))
        .await
        .unwrap();
    assert!(rest.is_empty(), "{rest:?}");
}

/// An upstream that drops the connection on `crash` (after sending a row on `half`).
struct Crashing;

impl Handler for Crashing {
    async fn handle(
        &mut self,
        server: &mut Server,
        event: ServerEvent,
    ) -> Result<(), pgproto_tokio::Error> {
        match event {
            ServerEvent::Query { sql } if sql == "crash" => {
                Err(pgproto_tokio::Error::application("crash"))
            }
            ServerEvent::Query { sql } if sql == "half" => {
                server.row_description(&[pgproto_core::column::Column::new("a", 25, -1)])?;
                server.data_row(&[Some(b"first")])?;
                Err(pgproto_tokio::Error::application("crash after a row"))
            }
            other => Ok(pgproto_core::testing::fixed_answer(server, other)?),
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn upstream_failures_reach_the_client_as_errors() {
    let f = Fixture::start(PgVersion::V15).await;

    // The upstream backend is terminated: its own FATAL (57P01) is relayed.
    let (client, connection) = tokio_postgres::connect(&f.plain(), NoTls).await.unwrap();
    let conn = tokio::spawn(connection);
    let pid: i32 = client
        .query_one("select pg_backend_pid()", &[])
        .await
        .unwrap()
        .get(0);
    f.pg.query_value(&format!("select pg_terminate_backend({pid})"))
        .unwrap();
    let err = within(10, "terminated", client.simple_query("select 1"))
        .await
        .unwrap_err();
    let conn_err = within(10, "connection end", conn).await.unwrap();
    let seen = format!("{err:?} / {conn_err:?}");
    assert!(
        seen.contains("terminating connection due to administrator command"),
        "{seen}"
    );

    // Upstream unreachable: 08001 at startup.
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let dead_port = closed.local_addr().unwrap().port();
    drop(closed);
    let proxy = start_proxy(
        &format!("host=127.0.0.1 port={dead_port} user=app sslmode=disable"),
        AuthKind::Trust,
        None,
    )
    .await;
    let plain = format!("host=127.0.0.1 port={} user=x sslmode=disable", proxy.port);
    let err = connect_err(&plain).await;
    assert_eq!(code(&err), "08001", "{err}");
    // Upstream refuses the proxy's credentials: its 28P01 is passed on.
    let proxy = start_proxy(
        &format!(
            "host=127.0.0.1 port={} user=app password=wrong sslmode=require",
            f.pg.port()
        ),
        AuthKind::Trust,
        None,
    )
    .await;
    let plain = format!("host=127.0.0.1 port={} user=x sslmode=disable", proxy.port);
    let err = connect_err(&plain).await;
    assert_eq!(code(&err), "28P01", "{err}");
    // A database that does not exist upstream (the URL names none: the client's is used).
    let proxy = start_proxy(
        &format!(
            "host=127.0.0.1 port={} user=app password='app pw' sslmode=require",
            f.pg.port()
        ),
        AuthKind::Trust,
        None,
    )
    .await;
    let err = connect_err(&format!(
        "host=127.0.0.1 port={} user=x dbname=nope sslmode=disable",
        proxy.port
    ))
    .await;
    assert_eq!(code(&err), "3D000", "{err}");
    let (client, connection) = tokio_postgres::connect(
        &format!(
            "host=127.0.0.1 port={} user=x dbname=app sslmode=disable",
            proxy.port
        ),
        NoTls,
    )
    .await
    .unwrap();
    let conn = tokio::spawn(connection);
    let row = client
        .query_one("select current_database()::text", &[])
        .await
        .unwrap();
    assert_eq!(row.get::<_, String>(0), "app");
    drop(client);
    conn.await.unwrap().unwrap();

    // An upstream that closes without a word, idle, after a complete message, or in
    // the middle of a response: the client gets the proxy's 08006 at a message boundary.
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let fake_port = listener.local_addr().unwrap().port();
    let (_stop, rx) = tokio::sync::watch::channel(false);
    tokio::spawn(serve_until(
        listener,
        ServerOptions::new(ServerAuth::new(AuthKind::Trust, b"x")),
        |_| Crashing,
        rx,
    ));
    let proxy = start_proxy(
        &format!("host=127.0.0.1 port={fake_port} user=up sslmode=disable"),
        AuthKind::Trust,
        None,
    )
    .await;
    for query in ["crash", "half"] {
        let (mut stream, mut core) = raw_connect(proxy.port).await;
        core.query("select 1").unwrap();
        raw_events(&mut stream, &mut core, 1).await;
        core.query(query).unwrap();
        while let Some(b) = core.poll_transmit() {
            stream.write_all(&b).await.unwrap();
        }
        let mut received = Vec::new();
        within(10, "proxy closes", stream.read_to_end(&mut received))
            .await
            .unwrap();
        core.handle_input(&received);
        let mut events = Vec::new();
        let error = loop {
            match core.poll_event() {
                Ok(Some(e)) => events.push(e),
                Ok(None) => panic!("{query}: no error; events {events:?}"),
                Err(e) => break e,
            }
        };
        let db = match &error {
            pgproto_core::Error::Server(db) => db,
            other => panic!("{query}: {other:?} after {events:?}"),
        };
        assert_eq!(db.code.code(), "08006", "{query}: {db}");
        assert!(db.message.contains("upstream"), "{db}");
        if query == "half" {
            assert!(
                events.iter().any(|e| matches!(
                    e,
                    Event::Response {
                        response: Response::DataRow(_),
                        ..
                    }
                )),
                "the complete row before the failure arrives: {events:?}"
            );
        }
    }
    // tokio-postgres sees the same as an error on its query.
    let (client, connection) = tokio_postgres::connect(
        &format!("host=127.0.0.1 port={} user=x sslmode=disable", proxy.port),
        NoTls,
    )
    .await
    .unwrap();
    let conn = tokio::spawn(connection);
    let err = client.simple_query("crash").await.unwrap_err();
    let conn_err = within(10, "connection end", conn).await.unwrap();
    let seen = format!("{err:?} / {conn_err:?}");
    assert!(
        seen.contains("08006") || seen.contains("upstream"),
        "{seen}"
    );
}
