//! # pgproto-tls
//!
//! TLS configuration shared by pgproto's adapters (the runtime glue lives in each adapter;
//! this crate only builds [`rustls`] configurations and computes channel-binding data):
//!
//! - [`client_config`]: libpq's `sslmode` semantics — `require` encrypts without checking
//!   the certificate, `verify-ca` checks the chain, `verify-full` also the host name —
//!   with the roots from `sslrootcert` or the system store, an optional client
//!   certificate, and ALPN `postgresql` (needed for direct TLS).
//! - [`server_config`]: a certificate chain and key from PEM, ALPN `postgresql`.
//! - [`channel_binding`]: the `tls-server-end-point` data SCRAM-SHA-256-PLUS binds to.
//!
//! Choose it to give your own event loop over `pgproto-core` TLS that behaves like
//! libpq's, or to configure an adapter server's TLS ([`ServerTls`],
//! [`ServerOptions::with_tls`]). It performs no I/O and has no cargo features.
#![forbid(unsafe_code)]
#![deny(missing_docs)]

use std::fmt;
use std::sync::Arc;

use pgproto_core::client::SslMode;
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::{verify_tls12_signature, verify_tls13_signature, CryptoProvider};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, ServerName, UnixTime};
use rustls::{DigitallySignedStruct, RootCertStore, SignatureScheme};

pub use rustls;

mod args;
pub use args::{unknown_option, ServerArgs};

/// The ALPN protocol name PostgreSQL registered.
pub const ALPN_POSTGRESQL: &[u8] = b"postgresql";

/// Why a TLS configuration could not be built.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TlsError(pub String);

impl fmt::Display for TlsError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for TlsError {}

impl From<TlsError> for pgproto_core::adapter::Error {
    fn from(e: TlsError) -> Self {
        Self::Tls(Box::new(e))
    }
}

fn err(e: impl fmt::Display) -> TlsError {
    TlsError(e.to_string())
}

/// The crypto provider every configuration here uses: *ring* (it builds from the crates
/// registry alone, with no C toolchain beyond the one `cc` finds).
///
/// rustls 0.23.48 deprecated `ring::default_provider` because *ring* has no
/// post-quantum key exchange; the classical groups it offers are what PostgreSQL's
/// OpenSSL negotiates today.
pub fn crypto_provider() -> Arc<CryptoProvider> {
    #[allow(deprecated)]
    Arc::new(rustls::crypto::ring::default_provider())
}

/// Parses PEM certificates.
pub fn certificates_from_pem(pem: &[u8]) -> Result<Vec<CertificateDer<'static>>, TlsError> {
    let certs: Vec<_> = CertificateDer::pem_slice_iter(pem)
        .collect::<Result<_, _>>()
        .map_err(|e| err(format!("invalid certificate PEM: {e}")))?;
    if certs.is_empty() {
        return Err(err("no certificate in PEM"));
    }
    Ok(certs)
}

fn key_from_pem(pem: &[u8]) -> Result<PrivateKeyDer<'static>, TlsError> {
    PrivateKeyDer::from_pem_slice(pem).map_err(|e| err(format!("invalid private key PEM: {e}")))
}

/// Where trusted CA certificates come from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Roots {
    /// The operating system's store.
    System,
    /// These PEM certificates (`sslrootcert`).
    Pem(Vec<u8>),
}

/// Verifies like webpki, but accepts a certificate that does not name the host
/// (`verify-ca`), or accepts any certificate (`require`), while still checking the
/// handshake signatures.
#[derive(Debug)]
struct RelaxedVerifier {
    inner: Option<Arc<rustls::client::WebPkiServerVerifier>>,
    provider: Arc<CryptoProvider>,
}

impl ServerCertVerifier for RelaxedVerifier {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        server_name: &ServerName<'_>,
        ocsp: &[u8],
        now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        let Some(inner) = &self.inner else {
            return Ok(ServerCertVerified::assertion());
        };
        match inner.verify_server_cert(end_entity, intermediates, server_name, ocsp, now) {
            Ok(v) => Ok(v),
            Err(rustls::Error::InvalidCertificate(rustls::CertificateError::NotValidForName))
            | Err(rustls::Error::InvalidCertificate(
                rustls::CertificateError::NotValidForNameContext { .. },
            )) => Ok(ServerCertVerified::assertion()),
            Err(e) => Err(e),
        }
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        verify_tls12_signature(
            message,
            cert,
            dss,
            &self.provider.signature_verification_algorithms,
        )
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        verify_tls13_signature(
            message,
            cert,
            dss,
            &self.provider.signature_verification_algorithms,
        )
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.provider
            .signature_verification_algorithms
            .supported_schemes()
    }
}

fn root_store(roots: &Roots) -> Result<RootCertStore, TlsError> {
    let mut store = RootCertStore::empty();
    match roots {
        Roots::Pem(pem) => {
            for cert in certificates_from_pem(pem)? {
                store.add(cert).map_err(err)?;
            }
        }
        Roots::System => {
            let loaded = rustls_native_certs::load_native_certs();
            for cert in loaded.certs {
                let _ = store.add(cert);
            }
            if store.is_empty() {
                return Err(err("no trusted certificates found in the system store"));
            }
        }
    }
    Ok(store)
}

/// A client configuration for `mode`. `roots` matter for `verify-ca` and `verify-full`
/// (and, as libpq, for `require` when a root file is given, which then behaves like
/// `verify-ca`). `client_cert` is a PEM certificate chain and key.
pub fn client_config(
    mode: SslMode,
    roots: Option<&Roots>,
    client_cert: Option<(&[u8], &[u8])>,
) -> Result<Arc<rustls::ClientConfig>, TlsError> {
    let provider = crypto_provider();
    let builder = rustls::ClientConfig::builder_with_provider(provider.clone())
        .with_safe_default_protocol_versions()
        .map_err(err)?;
    let verify = match (mode, roots) {
        (SslMode::VerifyFull, r) => Some((true, r.cloned().unwrap_or(Roots::System))),
        (SslMode::VerifyCa, r) => Some((false, r.cloned().unwrap_or(Roots::System))),
        (SslMode::Require, Some(r)) => Some((false, r.clone())),
        _ => None,
    };
    let builder = match verify {
        Some((true, roots)) => builder.with_root_certificates(root_store(&roots)?),
        Some((false, roots)) => {
            let inner = rustls::client::WebPkiServerVerifier::builder_with_provider(
                Arc::new(root_store(&roots)?),
                provider.clone(),
            )
            .build()
            .map_err(err)?;
            builder
                .dangerous()
                .with_custom_certificate_verifier(Arc::new(RelaxedVerifier {
                    inner: Some(inner),
                    provider,
                }))
        }
        None => builder
            .dangerous()
            .with_custom_certificate_verifier(Arc::new(RelaxedVerifier {
                inner: None,
                provider,
            })),
    };
    let mut config = match client_cert {
        Some((cert, key)) => builder
            .with_client_auth_cert(certificates_from_pem(cert)?, key_from_pem(key)?)
            .map_err(err)?,
        None => builder.with_no_client_auth(),
    };
    config.alpn_protocols = vec![ALPN_POSTGRESQL.to_vec()];
    Ok(Arc::new(config))
}

/// The name to check the server certificate against (and send as SNI).
pub fn server_name(host: &str) -> Result<ServerName<'static>, TlsError> {
    ServerName::try_from(host.to_string())
        .map_err(|e| err(format!("invalid host name {host:?}: {e}")))
}

/// A server configuration from a PEM certificate chain and private key.
pub fn server_config(
    cert_pem: &[u8],
    key_pem: &[u8],
) -> Result<Arc<rustls::ServerConfig>, TlsError> {
    let mut config = rustls::ServerConfig::builder_with_provider(crypto_provider())
        .with_safe_default_protocol_versions()
        .map_err(err)?
        .with_no_client_auth()
        .with_single_cert(certificates_from_pem(cert_pem)?, key_from_pem(key_pem)?)
        .map_err(err)?;
    config.alpn_protocols = vec![ALPN_POSTGRESQL.to_vec()];
    Ok(Arc::new(config))
}

/// The `tls-server-end-point` channel-binding data for the server's certificate (the
/// first certificate of its chain), or `None` if its signature algorithm gives none.
pub fn channel_binding(server_cert: Option<&CertificateDer<'_>>) -> Option<Vec<u8>> {
    pgproto_core::auth::scram::tls_server_end_point(server_cert?.as_ref()).ok()
}

/// The channel-binding data of the certificate a server presents (for its own side of
/// SCRAM-SHA-256-PLUS).
pub fn server_channel_binding(cert_pem: &[u8]) -> Option<Vec<u8>> {
    let certs = certificates_from_pem(cert_pem).ok()?;
    channel_binding(certs.first())
}

/// The client configuration a connection string asks for (`sslmode`, `sslrootcert`,
/// `sslcert`/`sslkey`), reading the files it names; `None` when TLS is not requested.
/// `sslrootcert=system` selects the system store, as libpq.
pub fn client_config_for(
    info: &pgproto_core::client::ConnInfo,
) -> Result<Option<Arc<rustls::ClientConfig>>, TlsError> {
    let mode = info.config.ssl_mode;
    if !mode.requests_tls() {
        return Ok(None);
    }
    let roots = match info.ssl_root_cert.as_deref() {
        Some("system") => Some(Roots::System),
        Some(path) => Some(Roots::Pem(
            std::fs::read(path).map_err(|e| err(format!("sslrootcert {path}: {e}")))?,
        )),
        None => None,
    };
    let client_cert = match &info.ssl_cert {
        Some((cert, key)) if !cert.is_empty() && !key.is_empty() => Some((
            std::fs::read(cert).map_err(|e| err(format!("sslcert {cert}: {e}")))?,
            std::fs::read(key).map_err(|e| err(format!("sslkey {key}: {e}")))?,
        )),
        _ => None,
    };
    client_config(
        mode,
        roots.as_ref(),
        client_cert
            .as_ref()
            .map(|(c, k)| (c.as_slice(), k.as_slice())),
    )
    .map(Some)
}

/// A server's TLS: the rustls configuration (ALPN `postgresql`) and its certificate's
/// channel-binding data, shared by the adapters' servers.
#[derive(Clone)]
pub struct ServerTls {
    config: Arc<rustls::ServerConfig>,
    channel_binding: Option<Vec<u8>>,
}

impl fmt::Debug for ServerTls {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ServerTls").finish_non_exhaustive()
    }
}

impl ServerTls {
    /// TLS from a PEM certificate chain and private key.
    pub fn from_pem(cert_pem: &[u8], key_pem: &[u8]) -> Result<Self, TlsError> {
        Ok(Self {
            config: server_config(cert_pem, key_pem)?,
            channel_binding: server_channel_binding(cert_pem),
        })
    }

    /// The rustls configuration for the acceptor.
    pub fn config(&self) -> Arc<rustls::ServerConfig> {
        self.config.clone()
    }

    /// The tls-server-end-point data to hand to
    /// [`Server::handle_tls_established`](pgproto_core::server::Server::handle_tls_established),
    /// after checking the negotiated ALPN: PostgreSQL refuses a direct TLS connection
    /// (no SSLRequest) that did not negotiate `postgresql`, against protocol confusion
    /// attacks.
    pub fn established(
        &self,
        direct: bool,
        alpn: Option<&[u8]>,
    ) -> Result<Option<Vec<u8>>, TlsError> {
        if direct && alpn != Some(ALPN_POSTGRESQL) {
            return Err(err("direct TLS without ALPN postgresql"));
        }
        Ok(self.channel_binding.clone())
    }
}

/// How an adapter's server runs: authentication and startup parameters, TLS, framing
/// limits and the startup timeout. The same for every adapter.
#[derive(Debug, Clone)]
pub struct ServerOptions {
    /// Authentication, startup parameters, TLS availability.
    pub setup: Arc<pgproto_core::server::SessionSetup>,
    /// TLS, if offered (set it with [`ServerOptions::with_tls`]).
    tls: Option<ServerTls>,
    /// Framing limits and other core settings.
    pub config: pgproto_core::server::ServerConfig,
    /// Time allowed for startup and authentication (PostgreSQL's
    /// `authentication_timeout`, default 60 s).
    pub startup_timeout: std::time::Duration,
}

impl ServerOptions {
    /// Options with `auth` and the defaults.
    pub fn new(auth: pgproto_core::server::ServerAuth) -> Self {
        Self {
            setup: Arc::new(pgproto_core::server::SessionSetup::new(auth)),
            tls: None,
            config: pgproto_core::server::ServerConfig::default(),
            startup_timeout: std::time::Duration::from_secs(60),
        }
    }

    /// Offers TLS (SSLRequest is accepted, and direct TLS with ALPN `postgresql`).
    pub fn with_tls(mut self, tls: ServerTls) -> Self {
        let mut setup = (*self.setup).clone();
        setup.tls_available = true;
        self.setup = Arc::new(setup);
        self.tls = Some(tls);
        self
    }

    /// The TLS configuration, if offered.
    pub fn tls(&self) -> Option<&ServerTls> {
        self.tls.as_ref()
    }
}

/// The README's examples, compiled as doctests so that they stay true.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
struct ReadmeDoctests;
