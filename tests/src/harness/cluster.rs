//! A running, throwaway PostgreSQL cluster.

use std::collections::HashSet;
use std::fmt;
use std::fs::{self, File, OpenOptions};
use std::io::Write as _;
use std::net::{Ipv4Addr, TcpListener, TcpStream};
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Mutex, OnceLock};
use std::thread::sleep;
use std::time::{Duration, Instant};

use tempfile::TempDir;

use super::error::{HarnessError, HarnessResult};
use super::install::{self, Installation};
use super::server_account::ServerAccount;
use super::tls;
use super::version::PgVersion;

/// Name of the bootstrap superuser of every cluster.
const SUPERUSER: &str = "postgres";
/// The address the server listens on.
const HOST: &str = "127.0.0.1";
/// How long to wait for the server to accept connections.
const START_TIMEOUT: Duration = Duration::from_secs(60);
/// How many fresh ports to try when the chosen one is taken meanwhile.
const PORT_ATTEMPTS: usize = 5;

/// Authentication method for TCP connections, as written to `pg_hba.conf`.
///
/// The rules cover `127.0.0.1/32` and `::1/128` for every user and database;
/// Unix-socket connections of the superuser are always `trust`, so the
/// harness itself can administer the cluster whatever the method.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum HbaMethod {
    /// `trust`: no password.
    #[default]
    Trust,
    /// `password`: clear-text password.
    Password,
    /// `md5`: MD5 challenge (SCRAM when the stored password is SCRAM).
    Md5,
    /// `scram-sha-256`: SCRAM-SHA-256 SASL exchange.
    ScramSha256,
}

impl HbaMethod {
    /// All methods, weakest first.
    pub const ALL: [Self; 4] = [Self::Trust, Self::Password, Self::Md5, Self::ScramSha256];

    /// The keyword used in `pg_hba.conf`.
    pub fn keyword(self) -> &'static str {
        match self {
            Self::Trust => "trust",
            Self::Password => "password",
            Self::Md5 => "md5",
            Self::ScramSha256 => "scram-sha-256",
        }
    }
}

impl fmt::Display for HbaMethod {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.keyword())
    }
}

/// How a role's password is stored (`password_encryption`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum PasswordEncryption {
    /// An MD5 hash (deprecated in PostgreSQL 18, which warns but accepts it).
    Md5,
    /// A SCRAM-SHA-256 verifier.
    #[default]
    ScramSha256,
}

impl PasswordEncryption {
    /// The value of the `password_encryption` setting.
    pub fn setting(self) -> &'static str {
        match self {
            Self::Md5 => "md5",
            Self::ScramSha256 => "scram-sha-256",
        }
    }
}

/// Configures and starts a [`PgCluster`]; see [`PgCluster::builder`].
#[derive(Debug, Clone, Default)]
#[must_use]
pub struct PgClusterBuilder {
    version: Option<PgVersion>,
    auth: HbaMethod,
    tls: bool,
    settings: Vec<(String, String)>,
}

impl PgClusterBuilder {
    /// The major version to run (default: [`PgVersion::from_env`]).
    pub fn version(mut self, version: PgVersion) -> Self {
        self.version = Some(version);
        self
    }

    /// The authentication method for TCP connections (default: trust).
    pub fn auth(mut self, method: HbaMethod) -> Self {
        self.auth = method;
        self
    }

    /// Whether to enable TLS (`ssl = on`) with a freshly generated CA and
    /// server certificate (default: off).
    pub fn tls(mut self, enabled: bool) -> Self {
        self.tls = enabled;
        self
    }

    /// Adds a `postgresql.conf` setting; `value` is written verbatim, so
    /// quote strings yourself (`.setting("log_statement", "'all'")`).
    pub fn setting(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.settings.push((name.into(), value.into()));
        self
    }

    /// Runs `initdb` in a fresh temporary directory and starts the server on
    /// a free port, returning once it accepts connections.
    pub fn start(self) -> HarnessResult<PgCluster> {
        let version = match self.version {
            Some(v) => v,
            None => PgVersion::from_env()?,
        };
        PgCluster::start(version, self)
    }
}

/// A running PostgreSQL server in its own temporary directory.
///
/// Dropping it stops the server (immediate shutdown) and removes the
/// directory.
#[derive(Debug)]
pub struct PgCluster {
    install: Installation,
    account: ServerAccount,
    port: u16,
    hba: Mutex<HbaMethod>,
    data_dir: PathBuf,
    socket_dir: PathBuf,
    log_path: PathBuf,
    ca_cert: Option<(PathBuf, String)>,
    postmaster: Option<Child>,
    // Dropped after `Drop::drop` has stopped the server.
    base_dir: TempDir,
}

impl PgCluster {
    /// Starts configuring a cluster.
    pub fn builder() -> PgClusterBuilder {
        PgClusterBuilder::default()
    }

    fn start(version: PgVersion, options: PgClusterBuilder) -> HarnessResult<Self> {
        let install = install::installation(version)?;
        let account = ServerAccount::detect()?;
        account.check_reachable(&install.bin_dir.join("postgres"))?;

        let base_dir = tempfile::Builder::new()
            .prefix("pgproto-pg")
            .tempdir()
            .map_err(|e| HarnessError::io("creating the cluster's temporary directory", e))?;
        let base = base_dir.path().to_path_buf();
        account.check_reachable(&base.join("data"))?;
        account.give(&base)?;
        let data_dir = base.join("data");
        let socket_dir = base.join("sock");
        fs::create_dir(&socket_dir)
            .map_err(|e| HarnessError::io(format!("mkdir {}", socket_dir.display()), e))?;
        account.give(&socket_dir)?;
        let log_path = base.join("postgres.log");

        let mut cluster = Self {
            install,
            account,
            port: 0,
            hba: Mutex::new(options.auth),
            data_dir,
            socket_dir,
            log_path,
            ca_cert: None,
            postmaster: None,
            base_dir,
        };
        cluster.initdb()?;
        cluster.configure(&options)?;
        cluster.launch()?;
        Ok(cluster)
    }

    fn initdb(&self) -> HarnessResult<()> {
        let mut cmd = Command::new(self.install.bin_dir.join("initdb"));
        cmd.arg("-D")
            .arg(&self.data_dir)
            .args([
                "-U",
                SUPERUSER,
                "--auth=trust",
                "--encoding=UTF8",
                "--locale=C.UTF-8",
                "--no-sync",
                "--no-instructions",
            ])
            .current_dir(self.base_dir.path());
        clear_libpq_env(&mut cmd);
        self.account.apply(&mut cmd);
        run_output(cmd, "initdb").map(drop)
    }

    fn configure(&mut self, options: &PgClusterBuilder) -> HarnessResult<()> {
        let base = self.base_dir.path().to_path_buf();
        let mut conf = format!(
            "\n# Added by the pgproto-tests harness\n\
             listen_addresses = '{HOST}'\n\
             unix_socket_directories = '{}'\n\
             fsync = off\n\
             synchronous_commit = off\n\
             full_page_writes = off\n\
             shared_buffers = '16MB'\n\
             max_connections = 30\n\
             password_encryption = 'scram-sha-256'\n",
            quote_conf(&self.socket_dir)
        );
        if options.tls {
            let material = tls::generate()?;
            let ca_path = base.join("ca.crt");
            let cert_path = base.join("server.crt");
            let key_path = base.join("server.key");
            write_file(&ca_path, &material.ca_cert_pem, 0o644)?;
            write_file(&cert_path, &material.server_cert_pem, 0o644)?;
            write_file(&key_path, &material.server_key_pem, 0o600)?;
            self.account.give(&cert_path)?;
            self.account.give(&key_path)?;
            conf.push_str(&format!(
                "ssl = on\nssl_cert_file = '{}'\nssl_key_file = '{}'\n",
                quote_conf(&cert_path),
                quote_conf(&key_path)
            ));
            self.ca_cert = Some((ca_path, material.ca_cert_pem));
        }
        for (name, value) in &options.settings {
            conf.push_str(&format!("{name} = {value}\n"));
        }
        let conf_path = self.data_dir.join("postgresql.conf");
        OpenOptions::new()
            .append(true)
            .open(&conf_path)
            .and_then(|mut f| f.write_all(conf.as_bytes()))
            .map_err(|e| HarnessError::io(format!("writing {}", conf_path.display()), e))?;
        self.write_hba(options.auth)
    }

    fn write_hba(&self, method: HbaMethod) -> HarnessResult<()> {
        let m = method.keyword();
        let hba = format!(
            "# Written by the pgproto-tests harness\n\
             local all {SUPERUSER} trust\n\
             local all all {m}\n\
             host all all 127.0.0.1/32 {m}\n\
             host all all ::1/128 {m}\n"
        );
        let path = self.data_dir.join("pg_hba.conf");
        fs::write(&path, hba)
            .map_err(|e| HarnessError::io(format!("writing {}", path.display()), e))
    }

    /// Starts the postmaster, retrying with another port if the chosen one
    /// was taken in the meantime.
    fn launch(&mut self) -> HarnessResult<()> {
        let mut last_error = None;
        for _ in 0..PORT_ATTEMPTS {
            self.port = free_port()?;
            match self.spawn_postmaster()? {
                Ok(()) => return Ok(()),
                Err(e) => last_error = Some(e),
            }
        }
        Err(last_error.unwrap_or_else(|| HarnessError::new("could not start PostgreSQL")))
    }

    /// Stops the server at once (immediate shutdown, as a crash: every backend is
    /// killed, nothing is checkpointed). [`PgCluster::restart`] starts it again.
    pub fn stop(&mut self) {
        self.stop_server();
    }

    /// Starts a stopped server again on the same port (recovering from the WAL after
    /// [`PgCluster::stop`]); stops it first if it is running.
    pub fn restart(&mut self) -> HarnessResult<()> {
        self.stop_server();
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            match self.spawn_postmaster()? {
                Ok(()) => return Ok(()),
                // The old postmaster's socket may linger for a moment.
                Err(e) if Instant::now() >= deadline => return Err(e),
                Err(_) => sleep(Duration::from_millis(100)),
            }
        }
    }

    /// Spawns the postmaster on `self.port` and waits until it is ready. The inner
    /// error is a port already in use.
    fn spawn_postmaster(&mut self) -> HarnessResult<Result<(), HarnessError>> {
        let log = OpenOptions::new()
            .create(true)
            .append(true)
            .open(&self.log_path)
            .map_err(|e| HarnessError::io(format!("opening {}", self.log_path.display()), e))?;
        self.account.give(&self.log_path)?;
        let log_err = log
            .try_clone()
            .map_err(|e| HarnessError::io("duplicating the log file handle", e))?;
        let mut cmd = Command::new(self.install.bin_dir.join("postgres"));
        cmd.arg("-D")
            .arg(&self.data_dir)
            .arg("-p")
            .arg(self.port.to_string())
            .current_dir(self.base_dir.path())
            .stdin(Stdio::null())
            .stdout(log)
            .stderr(log_err);
        clear_libpq_env(&mut cmd);
        self.account.apply(&mut cmd);
        let child = cmd.spawn().map_err(|e| {
            HarnessError::io(format!("starting {}", self.install.bin_dir.display()), e)
        })?;
        self.postmaster = Some(child);
        match self.wait_ready() {
            Ok(()) => Ok(Ok(())),
            Err(StartFailure::PortInUse(e)) => Ok(Err(e)),
            Err(StartFailure::Other(e)) => Err(e),
        }
    }

    fn wait_ready(&mut self) -> Result<(), StartFailure> {
        let deadline = Instant::now() + START_TIMEOUT;
        let pid_file = self.data_dir.join("postmaster.pid");
        loop {
            let exited = match self.postmaster.as_mut().map(Child::try_wait) {
                Some(Ok(None)) => None,
                Some(Ok(Some(status))) => Some(status.to_string()),
                Some(Err(e)) => Some(e.to_string()),
                None => Some("not started".to_owned()),
            };
            if let Some(status) = exited {
                self.postmaster = None;
                let tail = self.log_tail(40);
                let err = HarnessError::new(format!(
                    "{} ({}) exited during startup ({status}); log {}:\n{tail}",
                    self.install.version,
                    self.install.bin_dir.display(),
                    self.log_path.display()
                ));
                return Err(if tail.contains("Address already in use") {
                    StartFailure::PortInUse(err)
                } else {
                    StartFailure::Other(err)
                });
            }
            // Line 8 of postmaster.pid is the postmaster's status.
            let ready = fs::read_to_string(&pid_file)
                .map(|s| s.lines().nth(7).is_some_and(|l| l.trim() == "ready"))
                .unwrap_or(false);
            if ready && TcpStream::connect((HOST, self.port)).is_ok() {
                return Ok(());
            }
            if Instant::now() >= deadline {
                self.stop_server();
                return Err(StartFailure::Other(HarnessError::new(format!(
                    "{} did not become ready within {}s; log {}:\n{}",
                    self.install.version,
                    START_TIMEOUT.as_secs(),
                    self.log_path.display(),
                    self.log_tail(40)
                ))));
            }
            sleep(Duration::from_millis(20));
        }
    }

    /// Stops the server with an immediate shutdown (SIGQUIT), falling back
    /// to SIGKILL. The postmaster waits for its children before exiting.
    fn stop_server(&mut self) {
        let Some(mut child) = self.postmaster.take() else {
            return;
        };
        if !matches!(child.try_wait(), Ok(None)) {
            return;
        }
        let signalled = Command::new("kill")
            .args(["-QUIT", &child.id().to_string()])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|s| s.success());
        let deadline = Instant::now() + Duration::from_secs(if signalled { 15 } else { 0 });
        loop {
            match child.try_wait() {
                Ok(None) if Instant::now() < deadline => sleep(Duration::from_millis(10)),
                Ok(None) => {
                    let _ = child.kill();
                    let _ = child.wait();
                    return;
                }
                _ => return,
            }
        }
    }

    /// The last `lines` lines of the server log.
    pub fn log_tail(&self, lines: usize) -> String {
        let text = fs::read_to_string(&self.log_path).unwrap_or_default();
        let all: Vec<&str> = text.lines().collect();
        all[all.len().saturating_sub(lines)..].join("\n")
    }

    /// The process id of the postmaster, while it runs.
    pub fn postmaster_pid(&self) -> Option<u32> {
        self.postmaster.as_ref().map(Child::id)
    }

    /// The TCP port the server listens on.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// The address the server listens on (`127.0.0.1`).
    pub fn host(&self) -> &str {
        HOST
    }

    /// The major version.
    pub fn version(&self) -> PgVersion {
        self.install.version
    }

    /// The full server version, e.g. `15.18`.
    pub fn server_version(&self) -> &str {
        &self.install.server_version
    }

    /// The bootstrap superuser (`postgres`), which may always connect over
    /// the Unix socket without a password.
    pub fn superuser(&self) -> &str {
        SUPERUSER
    }

    /// The data directory.
    pub fn data_dir(&self) -> &Path {
        &self.data_dir
    }

    /// The directory holding the server binaries (`postgres`, `initdb`).
    pub fn bin_dir(&self) -> &Path {
        &self.install.bin_dir
    }

    /// The directory holding the server's Unix socket (use as `host`).
    pub fn socket_dir(&self) -> &Path {
        &self.socket_dir
    }

    /// The server log file.
    pub fn log_path(&self) -> &Path {
        &self.log_path
    }

    /// The temporary directory holding everything of this cluster.
    pub fn base_dir(&self) -> &Path {
        self.base_dir.path()
    }

    /// The current TCP authentication method.
    pub fn hba_method(&self) -> HbaMethod {
        *self.hba.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Whether TLS is enabled.
    pub fn tls_enabled(&self) -> bool {
        self.ca_cert.is_some()
    }

    /// Path of the CA certificate that signed the server certificate
    /// (`sslrootcert`), when TLS is enabled. The server certificate is valid
    /// for `localhost`, `127.0.0.1` and `::1`.
    pub fn ca_cert_path(&self) -> Option<&Path> {
        self.ca_cert.as_ref().map(|(path, _)| path.as_path())
    }

    /// The CA certificate in PEM form, when TLS is enabled.
    pub fn ca_cert_pem(&self) -> Option<&str> {
        self.ca_cert.as_ref().map(|(_, pem)| pem.as_str())
    }

    /// A libpq key/value connection string for TCP connections to the
    /// `postgres` database, e.g.
    /// `host=127.0.0.1 port=5432 dbname=postgres user=alice password=secret`.
    pub fn connection_string(&self, user: &str, password: Option<&str>) -> String {
        let mut s = format!(
            "host={HOST} port={} dbname=postgres user={}",
            self.port,
            conninfo_value(user)
        );
        if let Some(pw) = password {
            s.push_str(" password=");
            s.push_str(&conninfo_value(pw));
        }
        s
    }

    /// The same as [`PgCluster::connection_string`] as a `postgresql://` URL.
    pub fn connection_url(&self, user: &str, password: Option<&str>) -> String {
        let credentials = match password {
            Some(pw) => format!("{}:{}", percent_encode(user), percent_encode(pw)),
            None => percent_encode(user),
        };
        format!("postgresql://{credentials}@{HOST}:{}/postgres", self.port)
    }

    /// A started cluster of `version` with `method` for every connection (what most
    /// client tests begin with).
    pub fn start_with(version: PgVersion, method: HbaMethod) -> Self {
        Self::builder()
            .version(version)
            .auth(method)
            .start()
            .unwrap_or_else(|e| panic!("starting PostgreSQL {version:?}: {e}"))
    }

    /// A SCRAM-SHA-256 cluster of `version` with the role `app` (password `pw`),
    /// and a URL conninfo for it without TLS.
    pub fn start_scram_app(version: PgVersion) -> (Self, String) {
        let pg = Self::start_with(version, HbaMethod::ScramSha256);
        pg.create_role("app", "pw", PasswordEncryption::ScramSha256)
            .unwrap();
        let url = format!("{}?sslmode=disable", pg.connection_url("app", Some("pw")));
        (pg, url)
    }

    /// A trust cluster of `version` and the superuser's conninfo for it without TLS.
    pub fn start_trust(version: PgVersion) -> (Self, String) {
        let pg = Self::start_with(version, HbaMethod::Trust);
        let info = pg.superuser_conninfo("");
        (pg, info)
    }

    /// The superuser's key/value conninfo without TLS, followed by `extra` (more
    /// `key=value` options, or "").
    pub fn superuser_conninfo(&self, extra: &str) -> String {
        let mut s = format!(
            "{} sslmode=disable",
            self.connection_string(self.superuser(), None)
        );
        if !extra.is_empty() {
            s.push(' ');
            s.push_str(extra);
        }
        s
    }

    /// Creates a login role with the given password, stored as `encryption`.
    pub fn create_role(
        &self,
        name: &str,
        password: &str,
        encryption: PasswordEncryption,
    ) -> HarnessResult<()> {
        let sql = format!(
            "SET password_encryption = '{}'; CREATE ROLE {} LOGIN PASSWORD {}",
            encryption.setting(),
            quote_ident(name),
            quote_literal(password)
        );
        self.psql(&["-q", "-c", &sql]).map(drop)
    }

    /// Rewrites `pg_hba.conf` for `method` and reloads the server, returning
    /// once new connections are authenticated with it.
    pub fn set_hba(&self, method: HbaMethod) -> HarnessResult<()> {
        let mut current = self.hba.lock().unwrap_or_else(|p| p.into_inner());
        const LOAD_TIME: &str = "select pg_conf_load_time()";
        let before = self.query_value(LOAD_TIME)?;
        self.write_hba(method)?;
        self.psql(&["-Atqc", "select pg_reload_conf()"])?;
        // New backends are forked from the postmaster, so once one reports
        // a new load time the postmaster has re-read pg_hba.conf as well.
        let deadline = Instant::now() + Duration::from_secs(10);
        while self.query_value(LOAD_TIME)? == before {
            if Instant::now() >= deadline {
                return Err(HarnessError::new(format!(
                    "the server did not reload its configuration; log:\n{}",
                    self.log_tail(20)
                )));
            }
            sleep(Duration::from_millis(10));
        }
        *current = method;
        Ok(())
    }

    /// Runs a client program (`psql`, `pgbench`, ...) matching this cluster.
    ///
    /// The cluster's own bin directory is used when it has the program.
    /// Otherwise (the npm build of PostgreSQL 18 ships no client programs)
    /// PostgreSQL 15's program is used, or one from `PATH`; for PostgreSQL
    /// 18 it is then run with `LD_LIBRARY_PATH` pointing at the bundled
    /// libpq 18, so connection options like `max_protocol_version` work.
    ///
    /// `PG*` environment variables are cleared and stdin is null.
    pub fn client_command(&self, program: &str) -> HarnessResult<Command> {
        let own = self.install.bin_dir.join(program);
        let (path, lib_dir) = if own.is_file() {
            (own, None)
        } else {
            let borrowed = match install::installation(PgVersion::V15) {
                Ok(pg15) if pg15.bin_dir.join(program).is_file() => pg15.bin_dir.join(program),
                _ => find_in_path(program).ok_or_else(|| {
                    HarnessError::new(format!(
                        "no `{program}` for {} in {} nor in PATH (install postgresql-client)",
                        self.install.version,
                        self.install.bin_dir.display()
                    ))
                })?,
            };
            (borrowed, self.install.lib_dir.clone())
        };
        let mut cmd = Command::new(path);
        clear_libpq_env(&mut cmd);
        cmd.env("PGCONNECT_TIMEOUT", "10").stdin(Stdio::null());
        if let Some(lib) = lib_dir {
            cmd.env("LD_LIBRARY_PATH", lib);
        }
        Ok(cmd)
    }

    /// Runs `psql` as the superuser over the Unix socket with `args`
    /// appended (e.g. `["-Atc", "select 1"]`); returns its stdout, or an
    /// error with its stderr if it fails. `ON_ERROR_STOP` is set.
    pub fn psql(&self, args: &[&str]) -> HarnessResult<String> {
        let mut cmd = self.client_command("psql")?;
        cmd.args(["-X", "-v", "ON_ERROR_STOP=1", "-h"])
            .arg(&self.socket_dir)
            .args([
                "-p",
                &self.port.to_string(),
                "-U",
                SUPERUSER,
                "-d",
                "postgres",
            ])
            .args(args);
        run_output(cmd, "psql")
    }

    /// Runs `psql` with connection string `conninfo` (see
    /// [`PgCluster::connection_string`]) and `args`; returns its stdout,
    /// or an error with its stderr if it fails.
    pub fn psql_connect(&self, conninfo: &str, args: &[&str]) -> HarnessResult<String> {
        let mut cmd = self.client_command("psql")?;
        cmd.args(["-X", "-v", "ON_ERROR_STOP=1", "-d", conninfo])
            .args(args);
        run_output(cmd, "psql")
    }

    /// Runs one SQL statement as the superuser and returns its single value
    /// (unaligned, tuples only, trimmed).
    pub fn query_value(&self, sql: &str) -> HarnessResult<String> {
        self.psql(&["-Atq", "-c", sql]).map(|s| s.trim().to_owned())
    }
}

impl Drop for PgCluster {
    fn drop(&mut self) {
        self.stop_server();
        // `base_dir` (a TempDir) is removed when the fields are dropped.
    }
}

enum StartFailure {
    PortInUse(HarnessError),
    Other(HarnessError),
}

/// Returns a port that was free a moment ago and that this process has not
/// handed out before.
fn free_port() -> HarnessResult<u16> {
    static HANDED_OUT: OnceLock<Mutex<HashSet<u16>>> = OnceLock::new();
    let mut handed_out = HANDED_OUT
        .get_or_init(Default::default)
        .lock()
        .unwrap_or_else(|p| p.into_inner());
    for _ in 0..100 {
        let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0))
            .map_err(|e| HarnessError::io("binding a probe socket on 127.0.0.1", e))?;
        let port = listener
            .local_addr()
            .map_err(|e| HarnessError::io("reading the probe socket's address", e))?
            .port();
        if handed_out.insert(port) {
            return Ok(port);
        }
    }
    Err(HarnessError::new("could not find a free TCP port"))
}

fn clear_libpq_env(cmd: &mut Command) {
    for (key, _) in std::env::vars_os() {
        if key.to_string_lossy().starts_with("PG") {
            cmd.env_remove(key);
        }
    }
}

fn find_in_path(program: &str) -> Option<PathBuf> {
    std::env::split_paths(&std::env::var_os("PATH")?)
        .map(|dir| dir.join(program))
        .find(|p| p.is_file())
}

/// Runs `cmd`, returning its stdout or an error with its output.
fn run_output(mut cmd: Command, what: &str) -> HarnessResult<String> {
    let out = cmd
        .stdin(Stdio::null())
        .output()
        .map_err(|e| HarnessError::io(format!("cannot run {what} ({:?})", cmd.get_program()), e))?;
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    if out.status.success() {
        Ok(stdout)
    } else {
        Err(HarnessError::new(format!(
            "{what} failed ({}): {}{}",
            out.status,
            String::from_utf8_lossy(&out.stderr).trim_end(),
            if stdout.is_empty() {
                String::new()
            } else {
                format!("\nstdout: {}", stdout.trim_end())
            }
        )))
    }
}

fn write_file(path: &Path, contents: &str, mode: u32) -> HarnessResult<()> {
    let mut file = File::create(path)
        .map_err(|e| HarnessError::io(format!("creating {}", path.display()), e))?;
    file.write_all(contents.as_bytes())
        .and_then(|()| file.set_permissions(fs::Permissions::from_mode(mode)))
        .map_err(|e| HarnessError::io(format!("writing {}", path.display()), e))
}

/// A path as the inside of a single-quoted `postgresql.conf` value.
fn quote_conf(path: &Path) -> String {
    path.display().to_string().replace('\'', "''")
}

fn quote_ident(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

fn quote_literal(value: &str) -> String {
    format!("'{}'", value.replace('\'', "''"))
}

/// A value for a libpq key/value connection string, quoted when needed.
fn conninfo_value(value: &str) -> String {
    if !value.is_empty()
        && !value
            .chars()
            .any(|c| c.is_whitespace() || c == '\'' || c == '\\' || c == '=')
    {
        return value.to_owned();
    }
    format!("'{}'", value.replace('\\', "\\\\").replace('\'', "\\'"))
}

fn percent_encode(value: &str) -> String {
    value
        .bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quotes_conninfo_values() {
        assert_eq!(conninfo_value("alice"), "alice");
        assert_eq!(conninfo_value("a b"), "'a b'");
        assert_eq!(conninfo_value("it's"), r"'it\'s'");
        assert_eq!(conninfo_value(""), "''");
    }

    #[test]
    fn percent_encodes_credentials() {
        assert_eq!(percent_encode("p@ss:w/rd"), "p%40ss%3Aw%2Frd");
    }
}
