//! Certificates for TLS-enabled clusters: a throwaway CA and a server
//! certificate signed by it, valid for `localhost`, `127.0.0.1` and `::1`.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use rcgen::{
    BasicConstraints, CertificateParams, DistinguishedName, DnType, ExtendedKeyUsagePurpose, IsCa,
    KeyPair, KeyUsagePurpose, SanType,
};

use super::error::{HarnessError, HarnessResult};

/// PEM-encoded material for a TLS-enabled cluster.
#[derive(Debug, Clone)]
pub struct TlsMaterial {
    /// The CA certificate clients should trust (`sslrootcert`).
    pub ca_cert_pem: String,
    /// The server certificate (`ssl_cert_file`).
    pub server_cert_pem: String,
    /// The server's private key (`ssl_key_file`).
    pub server_key_pem: String,
}

fn rcgen_error(what: &str, err: rcgen::Error) -> HarnessError {
    HarnessError::new(format!("generating {what}: {err}"))
}

/// Generates a fresh CA and a server certificate signed by it.
pub fn generate() -> HarnessResult<TlsMaterial> {
    let ca_key = KeyPair::generate().map_err(|e| rcgen_error("CA key", e))?;
    let mut ca_params = CertificateParams::default();
    ca_params.distinguished_name = DistinguishedName::new();
    ca_params
        .distinguished_name
        .push(DnType::CommonName, "pgproto-tests throwaway CA");
    ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    ca_params.key_usages = vec![
        KeyUsagePurpose::KeyCertSign,
        KeyUsagePurpose::CrlSign,
        KeyUsagePurpose::DigitalSignature,
    ];
    let ca_cert = ca_params
        .self_signed(&ca_key)
        .map_err(|e| rcgen_error("CA certificate", e))?;

    let server_key = KeyPair::generate().map_err(|e| rcgen_error("server key", e))?;
    let mut params = CertificateParams::default();
    params.distinguished_name = DistinguishedName::new();
    params
        .distinguished_name
        .push(DnType::CommonName, "localhost");
    params.subject_alt_names = vec![
        SanType::DnsName(
            "localhost"
                .try_into()
                .map_err(|e| rcgen_error("server SAN", e))?,
        ),
        SanType::IpAddress(IpAddr::V4(Ipv4Addr::LOCALHOST)),
        SanType::IpAddress(IpAddr::V6(Ipv6Addr::LOCALHOST)),
    ];
    params.key_usages = vec![
        KeyUsagePurpose::DigitalSignature,
        KeyUsagePurpose::KeyEncipherment,
    ];
    params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
    let server_cert = params
        .signed_by(&server_key, &ca_cert, &ca_key)
        .map_err(|e| rcgen_error("server certificate", e))?;

    Ok(TlsMaterial {
        ca_cert_pem: ca_cert.pem(),
        server_cert_pem: server_cert.pem(),
        server_key_pem: server_key.serialize_pem(),
    })
}
