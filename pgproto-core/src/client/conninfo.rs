//! libpq connection strings: `postgresql://` URLs and `key=value` strings, the `PG*`
//! environment variables and the password file, as pure functions.
//!
//! The adapters call [`ConnInfo::parse`], then [`ConnInfo::apply_env`] with
//! `std::env::var`, then [`ConnInfo::password_from_passfile`] with the file's contents:
//! the rules live here once.

use alloc::string::{String, ToString};
use alloc::vec::Vec;
use core::fmt;

use super::{ChannelBindingPolicy, Config, RequireAuth, SslMode, SslNegotiation};
use crate::message::ProtocolVersion;

/// Why a connection string was rejected.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConnInfoError(pub String);

impl fmt::Display for ConnInfoError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "invalid connection string: {}", self.0)
    }
}

#[cfg(feature = "std")]
impl std::error::Error for ConnInfoError {}

fn err(s: impl Into<String>) -> ConnInfoError {
    ConnInfoError(s.into())
}

/// Parsed connection parameters: where to connect, plus a client [`Config`].
///
/// ```
/// use pgproto_core::client::ConnInfo;
/// let info = ConnInfo::parse("postgresql://alice:s%40cret@db.example:6432/shop?sslmode=require&application_name=app").unwrap();
/// assert_eq!(info.hosts, [("db.example".to_string(), 6432)]);
/// assert_eq!(info.config.user, "alice");
/// assert_eq!(info.config.password.as_deref(), Some(&b"s@cret"[..]));
/// assert_eq!(info.config.database.as_deref(), Some("shop"));
///
/// let info = ConnInfo::parse("host=localhost port=5433 user=bob dbname='my db' connect_timeout=5").unwrap();
/// assert_eq!(info.hosts, [("localhost".to_string(), 5433)]);
/// assert_eq!(info.config.database.as_deref(), Some("my db"));
/// assert_eq!(info.connect_timeout_secs, Some(5));
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConnInfo {
    /// Hosts and ports to try in order (a host starting with `/` is a Unix socket
    /// directory). Empty means the default.
    pub hosts: Vec<(String, u16)>,
    /// Client configuration (user, database, password, TLS, auth policy...).
    pub config: Config,
    /// `sslrootcert`: CA certificate file.
    pub ssl_root_cert: Option<String>,
    /// `sslcert` / `sslkey`: client certificate and key files.
    pub ssl_cert: Option<(String, String)>,
    /// `sslsni` (default on).
    pub ssl_sni: bool,
    /// `passfile`.
    pub passfile: Option<String>,
    /// `connect_timeout` in seconds.
    pub connect_timeout_secs: Option<u64>,
    /// Whether `user` was given explicitly (else defaults apply).
    pub user_given: bool,
    host_given: Vec<String>,
    port_given: Vec<u16>,
}

/// The default port.
pub const DEFAULT_PORT: u16 = 5432;

impl ConnInfo {
    fn empty() -> Self {
        Self {
            hosts: Vec::new(),
            config: Config::new(""),
            ssl_root_cert: None,
            ssl_cert: None,
            ssl_sni: true,
            passfile: None,
            connect_timeout_secs: None,
            user_given: false,
            host_given: Vec::new(),
            port_given: Vec::new(),
        }
    }

    /// Parses a `postgresql://` / `postgres://` URL or a `key=value` string.
    pub fn parse(s: &str) -> Result<Self, ConnInfoError> {
        let mut info = Self::empty();
        let s = s.trim();
        if let Some(rest) = s
            .strip_prefix("postgresql://")
            .or_else(|| s.strip_prefix("postgres://"))
        {
            info.parse_url(rest)?;
        } else {
            for (k, v) in parse_key_values(s)? {
                info.set(&k, &v)?;
            }
        }
        info.finish_hosts()?;
        Ok(info)
    }

    fn parse_url(&mut self, rest: &str) -> Result<(), ConnInfoError> {
        let (before_query, query) = match rest.split_once('?') {
            Some((a, b)) => (a, Some(b)),
            None => (rest, None),
        };
        let (authority, path) = match before_query.split_once('/') {
            Some((a, p)) => (a, Some(p)),
            None => (before_query, None),
        };
        let hosts_part = match authority.rsplit_once('@') {
            Some((userinfo, hosts)) => {
                let (user, password) = match userinfo.split_once(':') {
                    Some((u, p)) => (u, Some(p)),
                    None => (userinfo, None),
                };
                if !user.is_empty() {
                    self.set("user", &percent_decode(user)?)?;
                }
                if let Some(p) = password {
                    self.set("password", &percent_decode(p)?)?;
                }
                hosts
            }
            None => authority,
        };
        if !hosts_part.is_empty() {
            for hp in hosts_part.split(',') {
                let (host, port) = if let Some(v6) = hp.strip_prefix('[') {
                    let (h, after) = v6
                        .split_once(']')
                        .ok_or_else(|| err("unterminated [ in host"))?;
                    (h.to_string(), after.strip_prefix(':'))
                } else {
                    match hp.rsplit_once(':') {
                        Some((h, p)) => (percent_decode(h)?, Some(p)),
                        None => (percent_decode(hp)?, None),
                    }
                };
                self.host_given.push(host);
                match port {
                    Some(p) if !p.is_empty() => self.port_given.push(parse_port(p)?),
                    _ => self.port_given.push(0),
                }
            }
            if self.port_given.iter().all(|p| *p == 0) {
                self.port_given.clear();
            }
        }
        if let Some(db) = path {
            if !db.is_empty() {
                self.set("dbname", &percent_decode(db)?)?;
            }
        }
        if let Some(q) = query {
            for pair in q.split('&').filter(|p| !p.is_empty()) {
                let (k, v) = pair
                    .split_once('=')
                    .ok_or_else(|| err("query parameter without ="))?;
                self.set(&percent_decode(k)?, &percent_decode(v)?)?;
            }
        }
        Ok(())
    }

    /// Sets one libpq keyword.
    pub fn set(&mut self, key: &str, value: &str) -> Result<(), ConnInfoError> {
        let c = &mut self.config;
        match key {
            "host" | "hostaddr" => {
                self.host_given = value.split(',').map(ToString::to_string).collect();
            }
            "port" => {
                self.port_given = value
                    .split(',')
                    .map(|p| if p.is_empty() { Ok(0) } else { parse_port(p) })
                    .collect::<Result<_, _>>()?;
            }
            "user" => {
                c.user = value.to_string();
                self.user_given = true;
            }
            "password" => c.password = Some(value.as_bytes().to_vec()),
            "dbname" => c.database = Some(value.to_string()),
            "application_name" => c.application_name = Some(value.to_string()),
            "fallback_application_name" => {
                if c.application_name.is_none() {
                    c.application_name = Some(value.to_string());
                }
            }
            "options" => c.options = Some(value.to_string()),
            "replication" => c.replication = Some(value.to_string()),
            "sslmode" => c.ssl_mode = value.parse().map_err(err)?,
            "sslnegotiation" => c.ssl_negotiation = value.parse::<SslNegotiation>().map_err(err)?,
            "channel_binding" => {
                c.channel_binding = parse_channel_binding(value)?;
            }
            "require_auth" => c.require_auth = Some(value.parse::<RequireAuth>().map_err(err)?),
            "sslrootcert" => self.ssl_root_cert = Some(value.to_string()),
            "sslcert" => {
                let key = self.ssl_cert.take().map(|(_, k)| k).unwrap_or_default();
                self.ssl_cert = Some((value.to_string(), key));
            }
            "sslkey" => {
                let cert = self.ssl_cert.take().map(|(c, _)| c).unwrap_or_default();
                self.ssl_cert = Some((cert, value.to_string()));
            }
            "sslsni" => self.ssl_sni = value != "0",
            "passfile" => self.passfile = Some(value.to_string()),
            "connect_timeout" => {
                self.connect_timeout_secs =
                    Some(value.parse().map_err(|_| err("connect_timeout"))?);
            }
            "max_protocol_version" => c.max_protocol_version = parse_protocol(value)?,
            "min_protocol_version" => c.min_protocol_version = parse_protocol(value)?,
            // Accepted and ignored: these concern features outside the wire protocol.
            "sslcompression"
            | "gssencmode"
            | "krbsrvname"
            | "target_session_attrs"
            | "keepalives"
            | "keepalives_idle"
            | "keepalives_interval"
            | "keepalives_count"
            | "tcp_user_timeout"
            | "load_balance_hosts"
            | "sslpassword"
            | "sslcrl"
            | "sslcrldir"
            | "ssl_min_protocol_version"
            | "ssl_max_protocol_version"
            | "requirepeer"
            | "service"
            | "gsslib"
            | "gssdelegation"
            | "sslcertmode" => {}
            other => {
                // Unknown keywords in URLs' query strings are run-time parameters for
                // libpq only when given through `options`; reject like libpq does.
                return Err(err(alloc::format!("unknown parameter {other:?}")));
            }
        }
        Ok(())
    }

    fn finish_hosts(&mut self) -> Result<(), ConnInfoError> {
        let hosts = core::mem::take(&mut self.host_given);
        let ports = core::mem::take(&mut self.port_given);
        if ports.len() > 1 && ports.len() != hosts.len().max(1) {
            return Err(err(
                "the number of ports does not match the number of hosts",
            ));
        }
        let port_for = |i: usize| {
            let p = if ports.len() == 1 {
                ports.first().copied()
            } else {
                ports.get(i).copied()
            };
            match p {
                Some(0) | None => DEFAULT_PORT,
                Some(p) => p,
            }
        };
        self.hosts = hosts
            .into_iter()
            .enumerate()
            .map(|(i, h)| (h, port_for(i)))
            .collect();
        // Remember a lone port for the default host.
        if self.hosts.is_empty() {
            if let Some(p) = ports.first().filter(|p| **p != 0) {
                self.port_given = alloc::vec![*p];
            }
        }
        Ok(())
    }

    /// Fills in what the string left out from the `PG*` environment variables (`PGHOST`,
    /// `PGPORT`, `PGUSER`, `PGPASSWORD`, `PGDATABASE`, `PGAPPNAME`, `PGSSLMODE`,
    /// `PGSSLNEGOTIATION`, `PGCHANNELBINDING`, `PGREQUIREAUTH`, `PGSSLROOTCERT`,
    /// `PGPASSFILE`, `PGOPTIONS`, `PGCONNECT_TIMEOUT`), then applies libpq's defaults: host
    /// `localhost`, port 5432, user `default_user` (the OS user).
    pub fn apply_env(
        &mut self,
        env: impl Fn(&str) -> Option<String>,
        default_user: &str,
    ) -> Result<(), ConnInfoError> {
        if self.hosts.is_empty() {
            let port = match self.port_given.first() {
                Some(p) => *p,
                None => match env("PGPORT") {
                    Some(p) => parse_port(&p)?,
                    None => DEFAULT_PORT,
                },
            };
            let host = env("PGHOST").unwrap_or_else(|| "localhost".to_string());
            self.hosts = host.split(',').map(|h| (h.to_string(), port)).collect();
        }
        if !self.user_given {
            self.config.user = env("PGUSER").unwrap_or_else(|| default_user.to_string());
        }
        let c = &mut self.config;
        if c.password.is_none() {
            c.password = env("PGPASSWORD").map(String::into_bytes);
        }
        if c.database.is_none() {
            c.database = env("PGDATABASE");
        }
        if c.application_name.is_none() {
            c.application_name = env("PGAPPNAME");
        }
        if c.options.is_none() {
            c.options = env("PGOPTIONS");
        }
        let defaults = Config::new("");
        if c.ssl_mode == defaults.ssl_mode {
            if let Some(v) = env("PGSSLMODE") {
                c.ssl_mode = v.parse::<SslMode>().map_err(err)?;
            }
        }
        if c.ssl_negotiation == defaults.ssl_negotiation {
            if let Some(v) = env("PGSSLNEGOTIATION") {
                c.ssl_negotiation = v.parse().map_err(err)?;
            }
        }
        if c.channel_binding == defaults.channel_binding {
            if let Some(v) = env("PGCHANNELBINDING") {
                c.channel_binding = parse_channel_binding(&v)?;
            }
        }
        if c.require_auth.is_none() {
            if let Some(v) = env("PGREQUIREAUTH") {
                c.require_auth = Some(v.parse().map_err(err)?);
            }
        }
        if self.ssl_root_cert.is_none() {
            self.ssl_root_cert = env("PGSSLROOTCERT");
        }
        if self.passfile.is_none() {
            self.passfile = env("PGPASSFILE");
        }
        if self.connect_timeout_secs.is_none() {
            if let Some(v) = env("PGCONNECT_TIMEOUT") {
                self.connect_timeout_secs = v.parse().ok();
            }
        }
        Ok(())
    }

    /// Looks the password up in a password file's contents (`~/.pgpass` format:
    /// `hostname:port:database:username:password`, `*` wildcards, `\` escapes) when no
    /// password was given. `host` and `port` are the ones being connected to.
    pub fn password_from_passfile(&mut self, contents: &str, host: &str, port: u16) {
        if self.config.password.is_some() {
            return;
        }
        let database = self
            .config
            .database
            .clone()
            .unwrap_or_else(|| self.config.user.clone());
        let host = if host.starts_with('/') {
            "localhost"
        } else {
            host
        };
        let port = port.to_string();
        let wanted = [
            host,
            port.as_str(),
            database.as_str(),
            self.config.user.as_str(),
        ];
        for line in contents.lines() {
            if line.starts_with('#') || line.trim().is_empty() {
                continue;
            }
            let fields = split_passfile_line(line);
            if fields.len() != 5 {
                continue;
            }
            let matches = fields
                .iter()
                .zip(wanted)
                .all(|(field, want)| field == "*" || field == want);
            if matches {
                if let Some(pw) = fields.get(4) {
                    self.config.password = Some(pw.as_bytes().to_vec());
                }
                return;
            }
        }
    }
}

fn split_passfile_line(line: &str) -> Vec<String> {
    let mut fields = Vec::new();
    let mut current = String::new();
    let mut chars = line.chars();
    while let Some(ch) = chars.next() {
        match ch {
            '\\' => {
                if let Some(next) = chars.next() {
                    current.push(next);
                }
            }
            ':' if fields.len() < 4 => fields.push(core::mem::take(&mut current)),
            other => current.push(other),
        }
    }
    fields.push(current);
    fields
}

fn parse_channel_binding(v: &str) -> Result<ChannelBindingPolicy, ConnInfoError> {
    Ok(match v {
        "disable" => ChannelBindingPolicy::Disable,
        "prefer" => ChannelBindingPolicy::Prefer,
        "require" => ChannelBindingPolicy::Require,
        _ => return Err(err("invalid channel_binding")),
    })
}

fn parse_port(p: &str) -> Result<u16, ConnInfoError> {
    p.parse()
        .ok()
        .filter(|p| *p != 0)
        .ok_or_else(|| err(alloc::format!("invalid port {p:?}")))
}

fn parse_protocol(v: &str) -> Result<ProtocolVersion, ConnInfoError> {
    match v {
        "3.0" => Ok(ProtocolVersion::V3_0),
        "3.2" | "latest" => Ok(ProtocolVersion::V3_2),
        _ => Err(err(alloc::format!("unsupported protocol version {v:?}"))),
    }
}

fn percent_decode(s: &str) -> Result<String, ConnInfoError> {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while let Some(&b) = bytes.get(i) {
        if b == b'%' {
            let hex = bytes
                .get(i + 1..i + 3)
                .and_then(|h| core::str::from_utf8(h).ok())
                .and_then(|h| u8::from_str_radix(h, 16).ok())
                .ok_or_else(|| err("invalid percent-encoding"))?;
            out.push(hex);
            i += 3;
        } else {
            out.push(b);
            i += 1;
        }
    }
    String::from_utf8(out).map_err(|_| err("percent-encoding is not UTF-8"))
}

/// Splits `key=value key2='quoted \' value'` as libpq does.
fn parse_key_values(s: &str) -> Result<Vec<(String, String)>, ConnInfoError> {
    let mut out = Vec::new();
    let mut chars = s.chars().peekable();
    loop {
        while chars.peek().is_some_and(|c| c.is_whitespace()) {
            chars.next();
        }
        if chars.peek().is_none() {
            break;
        }
        let mut key = String::new();
        while let Some(&c) = chars.peek() {
            if c == '=' || c.is_whitespace() {
                break;
            }
            key.push(c);
            chars.next();
        }
        while chars.peek().is_some_and(|c| c.is_whitespace()) {
            chars.next();
        }
        if chars.next() != Some('=') {
            return Err(err(alloc::format!("missing \"=\" after {key:?}")));
        }
        while chars.peek().is_some_and(|c| c.is_whitespace()) {
            chars.next();
        }
        let mut value = String::new();
        if chars.peek() == Some(&'\'') {
            chars.next();
            loop {
                match chars.next() {
                    Some('\\') => match chars.next() {
                        Some(c) => value.push(c),
                        None => return Err(err("unterminated quoted string")),
                    },
                    Some('\'') => break,
                    Some(c) => value.push(c),
                    None => return Err(err("unterminated quoted string")),
                }
            }
        } else {
            while let Some(&c) = chars.peek() {
                if c.is_whitespace() {
                    break;
                }
                chars.next();
                if c == '\\' {
                    if let Some(n) = chars.next() {
                        value.push(n);
                    }
                } else {
                    value.push(c);
                }
            }
        }
        out.push((key, value));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_with_several_hosts_and_ipv6() {
        let i = ConnInfo::parse("postgresql://u@h1:1,h2,[::1]:3/db").unwrap();
        assert_eq!(
            i.hosts,
            [("h1".into(), 1), ("h2".into(), 5432), ("::1".into(), 3)]
        );
        let i = ConnInfo::parse("postgres://%2Ftmp%2Fsock/db?port=5439").unwrap();
        assert_eq!(i.hosts, [("/tmp/sock".into(), 5439)]);
        assert!(ConnInfo::parse("postgresql://h/db?bogus=1").is_err());
        assert!(ConnInfo::parse("postgresql://h:0/db").is_err());
    }

    #[test]
    fn key_values_quoting_and_policy() {
        let i = ConnInfo::parse(
            r"host=a,b port=1,2 password='it\'s' require_auth=!password channel_binding=require sslmode=verify-full",
        )
        .unwrap();
        assert_eq!(i.hosts, [("a".into(), 1), ("b".into(), 2)]);
        assert_eq!(i.config.password.as_deref(), Some(&b"it's"[..]));
        assert_eq!(i.config.channel_binding, ChannelBindingPolicy::Require);
        assert_eq!(i.config.ssl_mode, SslMode::VerifyFull);
        assert!(ConnInfo::parse("host").is_err());
        assert!(ConnInfo::parse("password='open").is_err());
        assert!(ConnInfo::parse("sslmode=sometimes").is_err());
    }

    #[test]
    fn environment_and_passfile() {
        let mut i = ConnInfo::parse("dbname=shop").unwrap();
        let env = |k: &str| match k {
            "PGHOST" => Some("dbhost".to_string()),
            "PGPORT" => Some("6000".to_string()),
            "PGUSER" => Some("envuser".to_string()),
            "PGSSLMODE" => Some("disable".to_string()),
            _ => None,
        };
        i.apply_env(env, "osuser").unwrap();
        assert_eq!(i.hosts, [("dbhost".into(), 6000)]);
        assert_eq!(i.config.user, "envuser");
        assert_eq!(i.config.ssl_mode, SslMode::Disable);
        i.password_from_passfile(
            "# comment\nother:*:*:*:no\ndbhost:6000:shop:envuser:pa\\:ss\n*:*:*:*:fallback\n",
            "dbhost",
            6000,
        );
        assert_eq!(i.config.password.as_deref(), Some(&b"pa:ss"[..]));

        let mut j = ConnInfo::parse("port=7000").unwrap();
        j.apply_env(|_| None, "me").unwrap();
        assert_eq!(j.hosts, [("localhost".into(), 7000)]);
        assert_eq!(j.config.user, "me");
    }
}
