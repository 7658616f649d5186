//! The `tls-server-end-point` channel binding (RFC 5929 section 4.1).

use alloc::vec::Vec;

use sha2::{Digest, Sha224, Sha256, Sha384, Sha512};

use crate::auth::AuthError;

extern crate alloc;

/// The tls-server-end-point channel-binding data for a certificate whose signature uses
/// MD5, SHA-1 or SHA-256: the SHA-256 hash of the certificate's DER encoding.
///
/// This is what almost every PostgreSQL server certificate needs. For certificates
/// signed with SHA-384, SHA-512 or SHA-224, RFC 5929 requires that hash instead: use
/// [`tls_server_end_point`], which reads the signature algorithm from the certificate.
pub fn tls_server_end_point_sha256(cert_der: &[u8]) -> [u8; 32] {
    Sha256::digest(cert_der).into()
}

/// The tls-server-end-point channel-binding data for a server certificate (DER), as
/// RFC 5929 defines it and PostgreSQL computes it: the certificate hashed with the hash
/// function of its signature algorithm, except that MD5 and SHA-1 are replaced by
/// SHA-256.
///
/// The client passes the server's certificate, the server its own. Recognised
/// algorithms: RSA PKCS #1 v1.5, RSASSA-PSS, ECDSA and DSA with MD5, SHA-1 or SHA-2.
/// Fails with [`AuthError::UnsupportedCertificate`] for signatures without a single
/// hash function (Ed25519, Ed448), unknown algorithms and input that is not a DER
/// certificate; such connections cannot use SCRAM-SHA-256-PLUS (PostgreSQL cannot
/// either).
///
/// ```
/// use pgproto_core::auth::scram::tls_server_end_point;
/// assert!(tls_server_end_point(b"not a certificate").is_err());
/// ```
pub fn tls_server_end_point(cert_der: &[u8]) -> Result<Vec<u8>, AuthError> {
    let hash = signature_hash(cert_der)?;
    Ok(match hash {
        Hash::Md5 | Hash::Sha1 | Hash::Sha256 => Sha256::digest(cert_der).to_vec(),
        Hash::Sha224 => Sha224::digest(cert_der).to_vec(),
        Hash::Sha384 => Sha384::digest(cert_der).to_vec(),
        Hash::Sha512 => Sha512::digest(cert_der).to_vec(),
    })
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Hash {
    Md5,
    Sha1,
    Sha224,
    Sha256,
    Sha384,
    Sha512,
}

const TAG_SEQUENCE: u8 = 0x30;
const TAG_OID: u8 = 0x06;
/// `[0]` constructed, explicit: RSASSA-PSS-params.hashAlgorithm.
const TAG_CONTEXT_0: u8 = 0xa0;

/// 1.2.840.113549.1.1 (PKCS #1) prefix.
const PKCS1: &[u8] = &[0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01];
/// 1.2.840.10045.4 (ECDSA signatures) prefix.
const ECDSA: &[u8] = &[0x2a, 0x86, 0x48, 0xce, 0x3d, 0x04];
/// 1.2.840.10040.4.3 dsa-with-sha1.
const DSA_SHA1: &[u8] = &[0x2a, 0x86, 0x48, 0xce, 0x38, 0x04, 0x03];
/// 2.16.840.1.101.3.4.3 (DSA with SHA-2) prefix.
const DSA_SHA2: &[u8] = &[0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x03];
/// 2.16.840.1.101.3.4.2 (SHA-2 hash algorithms) prefix.
const SHA2: &[u8] = &[0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02];
/// 1.3.14.3.2.26 SHA-1.
const SHA1: &[u8] = &[0x2b, 0x0e, 0x03, 0x02, 0x1a];
/// 1.3.14.3.2.29 sha1WithRSASignature (OIW).
const OIW_SHA1_RSA: &[u8] = &[0x2b, 0x0e, 0x03, 0x02, 0x1d];

fn unsupported(reason: &'static str) -> AuthError {
    AuthError::UnsupportedCertificate { reason }
}

/// Reads one DER element: `(tag, contents, rest)`.
fn der(input: &[u8]) -> Option<(u8, &[u8], &[u8])> {
    let (&tag, rest) = input.split_first()?;
    let (&first, rest) = rest.split_first()?;
    let (len, rest) = if first < 0x80 {
        (usize::from(first), rest)
    } else {
        let n = usize::from(first & 0x7f);
        if n == 0 || n > 4 {
            return None;
        }
        let mut len = 0usize;
        for &b in rest.get(..n)? {
            len = len.checked_mul(256)?.checked_add(usize::from(b))?;
        }
        (len, rest.get(n..)?)
    };
    let contents = rest.get(..len)?;
    Some((tag, contents, rest.get(len..)?))
}

/// Reads a DER element that must have `tag`.
fn expect(input: &[u8], tag: u8) -> Result<(&[u8], &[u8]), AuthError> {
    match der(input) {
        Some((t, contents, rest)) if t == tag => Ok((contents, rest)),
        _ => Err(unsupported("not a DER X.509 certificate")),
    }
}

/// The hash function of the certificate's `signatureAlgorithm`.
fn signature_hash(cert_der: &[u8]) -> Result<Hash, AuthError> {
    // Certificate ::= SEQUENCE { tbsCertificate, signatureAlgorithm, signatureValue }
    let (cert, trailing) = expect(cert_der, TAG_SEQUENCE)?;
    if !trailing.is_empty() {
        return Err(unsupported("trailing bytes after the certificate"));
    }
    let (_tbs, rest) = expect(cert, TAG_SEQUENCE)?;
    // AlgorithmIdentifier ::= SEQUENCE { algorithm OID, parameters ANY OPTIONAL }
    let (algorithm, _signature) = expect(rest, TAG_SEQUENCE)?;
    let (oid, params) = expect(algorithm, TAG_OID)?;

    if let Some(&[last]) = oid.strip_prefix(PKCS1) {
        return match last {
            0x04 => Ok(Hash::Md5),
            0x05 => Ok(Hash::Sha1),
            0x0a => pss_hash(params),
            0x0b => Ok(Hash::Sha256),
            0x0c => Ok(Hash::Sha384),
            0x0d => Ok(Hash::Sha512),
            0x0e => Ok(Hash::Sha224),
            _ => Err(unsupported("unsupported RSA signature algorithm")),
        };
    }
    if oid == OIW_SHA1_RSA || oid == DSA_SHA1 {
        return Ok(Hash::Sha1);
    }
    if let Some(suffix) = oid.strip_prefix(ECDSA) {
        return match suffix {
            [0x01] => Ok(Hash::Sha1),
            [0x03, 0x01] => Ok(Hash::Sha224),
            [0x03, 0x02] => Ok(Hash::Sha256),
            [0x03, 0x03] => Ok(Hash::Sha384),
            [0x03, 0x04] => Ok(Hash::Sha512),
            _ => Err(unsupported("unsupported ECDSA signature algorithm")),
        };
    }
    if let Some(&[last]) = oid.strip_prefix(DSA_SHA2) {
        return match last {
            0x01 => Ok(Hash::Sha224),
            0x02 => Ok(Hash::Sha256),
            0x03 => Ok(Hash::Sha384),
            0x04 => Ok(Hash::Sha512),
            _ => Err(unsupported("unsupported DSA signature algorithm")),
        };
    }
    Err(unsupported(
        "the signature algorithm has no single hash function (e.g. Ed25519) or is unknown",
    ))
}

/// The hash of RSASSA-PSS parameters:
/// `SEQUENCE { hashAlgorithm [0] EXPLICIT AlgorithmIdentifier DEFAULT sha1, ... }`.
fn pss_hash(params: &[u8]) -> Result<Hash, AuthError> {
    let (params, _) = expect(params, TAG_SEQUENCE)?;
    let Some((TAG_CONTEXT_0, hash_algorithm, _)) = der(params) else {
        return Ok(Hash::Sha1);
    };
    let (algorithm, _) = expect(hash_algorithm, TAG_SEQUENCE)?;
    let (oid, _) = expect(algorithm, TAG_OID)?;
    if oid == SHA1 {
        return Ok(Hash::Sha1);
    }
    match oid.strip_prefix(SHA2) {
        Some([0x01]) => Ok(Hash::Sha256),
        Some([0x02]) => Ok(Hash::Sha384),
        Some([0x03]) => Ok(Hash::Sha512),
        Some([0x04]) => Ok(Hash::Sha224),
        _ => Err(unsupported("unsupported RSASSA-PSS hash algorithm")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A minimal "certificate": SEQUENCE { SEQUENCE {}, SEQUENCE { OID }, BIT STRING }.
    fn fake_cert(alg: &[u8]) -> Vec<u8> {
        let mut alg_id = vec![TAG_SEQUENCE, u8::try_from(alg.len()).unwrap()];
        alg_id.extend_from_slice(alg);
        let mut body = vec![TAG_SEQUENCE, 0];
        body.extend_from_slice(&alg_id);
        body.extend_from_slice(&[0x03, 0x01, 0x00]);
        let mut cert = vec![TAG_SEQUENCE, u8::try_from(body.len()).unwrap()];
        cert.extend_from_slice(&body);
        cert
    }

    fn oid(bytes: &[u8]) -> Vec<u8> {
        let mut v = vec![TAG_OID, u8::try_from(bytes.len()).unwrap()];
        v.extend_from_slice(bytes);
        v
    }

    #[test]
    fn algorithms() {
        let rsa = |last: u8| {
            let mut o = PKCS1.to_vec();
            o.push(last);
            let mut alg = oid(&o);
            alg.extend_from_slice(&[0x05, 0x00]); // NULL parameters
            fake_cert(&alg)
        };
        assert_eq!(signature_hash(&rsa(0x04)), Ok(Hash::Md5));
        assert_eq!(signature_hash(&rsa(0x05)), Ok(Hash::Sha1));
        assert_eq!(signature_hash(&rsa(0x0b)), Ok(Hash::Sha256));
        assert_eq!(signature_hash(&rsa(0x0c)), Ok(Hash::Sha384));
        assert_eq!(signature_hash(&rsa(0x0d)), Ok(Hash::Sha512));
        assert_eq!(signature_hash(&rsa(0x0e)), Ok(Hash::Sha224));
        assert!(signature_hash(&rsa(0x02)).is_err());
        assert_eq!(signature_hash(&fake_cert(&oid(DSA_SHA1))), Ok(Hash::Sha1));
        assert_eq!(
            signature_hash(&fake_cert(&oid(&[DSA_SHA2, &[0x02]].concat()))),
            Ok(Hash::Sha256)
        );
        // PSS with default parameters: SHA-1.
        let mut pss = oid(&[PKCS1, &[0x0a]].concat());
        pss.extend_from_slice(&[TAG_SEQUENCE, 0]);
        assert_eq!(signature_hash(&fake_cert(&pss)), Ok(Hash::Sha1));
        // PSS without parameters at all: not valid.
        assert!(signature_hash(&fake_cert(&oid(&[PKCS1, &[0x0a]].concat()))).is_err());
        // Ed25519.
        assert!(signature_hash(&fake_cert(&oid(&[0x2b, 0x65, 0x70]))).is_err());
    }

    #[test]
    fn der_edge_cases() {
        assert_eq!(der(&[]), None);
        assert_eq!(der(&[0x30]), None);
        assert_eq!(der(&[0x30, 0x01]), None);
        assert_eq!(der(&[0x30, 0x80]), None); // indefinite length
        assert_eq!(der(&[0x30, 0x85, 1, 1, 1, 1, 1]), None);
        assert_eq!(der(&[0x30, 0x84, 0xff, 0xff, 0xff, 0xff]), None);
        assert_eq!(
            der(&[0x30, 0x81, 0x01, 0x07, 0x09]),
            Some((0x30, &[7u8][..], &[9u8][..]))
        );
        assert!(tls_server_end_point(&[]).is_err());
        let mut cert = fake_cert(&oid(&[PKCS1, &[0x0b]].concat()));
        cert.push(0);
        assert!(tls_server_end_point(&cert).is_err());
    }
}
