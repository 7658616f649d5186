//! The server side of a SCRAM-SHA-256(-PLUS) exchange.

use alloc::string::{String, ToString};
use alloc::vec::Vec;

use super::parse::{self, Fields};
use super::{
    b64, check_nonce_str, encode_nonce, hmac, sha256, xor, ScramVerifier, KEY_LEN, SCRAM_SHA_256,
    SCRAM_SHA_256_PLUS, TLS_SERVER_END_POINT,
};
use crate::auth::{ct_eq, AuthError, ScramMessage};

extern crate alloc;

/// What the server knows about the user who is authenticating.
#[derive(Debug, Clone)]
pub enum ScramCredential<'a> {
    /// The user's stored SCRAM secret.
    Verifier(ScramVerifier),
    /// The user does not exist, or has no SCRAM secret (an MD5 password, no password).
    /// The exchange runs all the same with a made-up secret, whose salt is derived from
    /// the user name and `mock_secret`, and fails at the end with
    /// [`AuthError::InvalidClientProof`], exactly like a wrong password: an attacker
    /// cannot probe for user names (PostgreSQL does the same).
    Unknown {
        /// The user name from the StartupMessage.
        username: &'a [u8],
        /// A random secret, generated once per server (or cluster) and kept across
        /// connections, so that a user's fake salt is stable like a real one.
        mock_secret: &'a [u8],
        /// The iteration count the server uses for new secrets (PostgreSQL:
        /// `scram_iterations`, default 4096), so that fake and real users look alike.
        iterations: u32,
    },
}

impl From<ScramVerifier> for ScramCredential<'_> {
    fn from(verifier: ScramVerifier) -> Self {
        Self::Verifier(verifier)
    }
}

/// The server side of a SCRAM-SHA-256 or SCRAM-SHA-256-PLUS exchange.
///
/// 1. Create it with the user's [`ScramCredential`], a fresh random nonce and, on a TLS
///    connection, the tls-server-end-point hash of the server's certificate
///    ([`tls_server_end_point`](super::tls_server_end_point)); send
///    [`mechanisms`](Self::mechanisms) in AuthenticationSASL.
/// 2. Pass the client's SASLInitialResponse (mechanism and data) to
///    [`handle_client_first`](Self::handle_client_first); send the result in
///    AuthenticationSASLContinue.
/// 3. Pass the SASLResponse data to [`handle_client_final`](Self::handle_client_final);
///    on `Ok`, send the result in AuthenticationSASLFinal, then AuthenticationOk.
///
/// On any error, send an ErrorResponse (PostgreSQL: SQLSTATE 28P01 "password
/// authentication failed for user ...", the same for every failure that could depend on
/// the user) and close the connection. Calls out of order return
/// [`AuthError::OutOfOrder`]; after an error, every call returns that error again.
///
/// Channel binding follows PostgreSQL: SCRAM-SHA-256-PLUS is offered only with TLS;
/// a client that says it supports channel binding (`y`) while the server offers PLUS is
/// refused as a downgrade attack.
#[derive(Clone)]
pub struct ScramServer {
    verifier: ScramVerifier,
    /// The user is unknown: the exchange must fail.
    doomed: bool,
    /// The server's part of the nonce.
    nonce: String,
    channel_binding: Option<Vec<u8>>,
    state: State,
}

#[derive(Clone)]
enum State {
    ClientFirst,
    ClientFinal {
        /// GS2 header and channel-binding data: what `c=` must decode to.
        cbind_input: Vec<u8>,
        /// Client nonce followed by server nonce.
        nonce: Vec<u8>,
        /// `client-first-message-bare "," server-first-message ","`.
        auth_prefix: Vec<u8>,
    },
    Complete,
    Failed(AuthError),
}

impl State {
    fn name(&self) -> &'static str {
        match self {
            Self::ClientFirst => "waiting for the client-first-message",
            Self::ClientFinal { .. } => "waiting for the client-final-message",
            Self::Complete => "exchange complete",
            Self::Failed(_) => "exchange failed",
        }
    }
}

impl core::fmt::Debug for ScramServer {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("ScramServer")
            .field("mechanisms", &self.mechanisms())
            .field("nonce", &self.nonce)
            .field("state", &self.state.name())
            .finish_non_exhaustive()
    }
}

const PLUS_AND_PLAIN: &[&str] = &[SCRAM_SHA_256_PLUS, SCRAM_SHA_256];
const PLAIN: &[&str] = &[SCRAM_SHA_256];

impl ScramServer {
    /// Prepares an exchange. `server_nonce_raw` MUST be at least
    /// [`MIN_RAW_NONCE_LEN`](super::MIN_RAW_NONCE_LEN) fresh random bytes (they are
    /// base64-encoded); `channel_binding` is the tls-server-end-point hash of the
    /// server's certificate on a TLS connection, `None` without TLS.
    ///
    /// Fails with [`AuthError::InvalidNonce`] if the nonce is too short and
    /// [`AuthError::InvalidIterationCount`] if an unknown user's iteration count is zero.
    pub fn new(
        credential: ScramCredential<'_>,
        server_nonce_raw: &[u8],
        channel_binding: Option<Vec<u8>>,
    ) -> Result<Self, AuthError> {
        let nonce = encode_nonce(server_nonce_raw)?;
        Self::build(credential, nonce, channel_binding)
    }

    /// Like [`new`](Self::new) with an already encoded nonce (printable ASCII without
    /// `,`), for test vectors and replays.
    pub fn with_nonce_str(
        credential: ScramCredential<'_>,
        nonce: &str,
        channel_binding: Option<Vec<u8>>,
    ) -> Result<Self, AuthError> {
        check_nonce_str(nonce)?;
        Self::build(credential, nonce.into(), channel_binding)
    }

    fn build(
        credential: ScramCredential<'_>,
        nonce: String,
        channel_binding: Option<Vec<u8>>,
    ) -> Result<Self, AuthError> {
        let (verifier, doomed) = match credential {
            ScramCredential::Verifier(v) => {
                if v.iterations == 0 {
                    return Err(AuthError::InvalidIterationCount);
                }
                (v, false)
            }
            ScramCredential::Unknown {
                username,
                mock_secret,
                iterations,
            } => {
                if iterations == 0 {
                    return Err(AuthError::InvalidIterationCount);
                }
                (ScramVerifier::mock(username, mock_secret, iterations), true)
            }
        };
        Ok(Self {
            verifier,
            doomed,
            nonce,
            channel_binding,
            state: State::ClientFirst,
        })
    }

    /// The mechanisms to advertise in AuthenticationSASL, preferred first:
    /// `["SCRAM-SHA-256-PLUS", "SCRAM-SHA-256"]` with TLS channel binding,
    /// `["SCRAM-SHA-256"]` without.
    pub fn mechanisms(&self) -> &'static [&'static str] {
        if self.channel_binding.is_some() {
            PLUS_AND_PLAIN
        } else {
            PLAIN
        }
    }

    /// Whether the exchange completed: the client proved it knows the password.
    pub fn is_complete(&self) -> bool {
        matches!(self.state, State::Complete)
    }

    fn out_of_order(&self, called: &'static str) -> AuthError {
        match &self.state {
            State::Failed(e) => e.clone(),
            state => AuthError::OutOfOrder {
                called,
                state: state.name(),
            },
        }
    }

    fn fail(&mut self, e: AuthError) -> AuthError {
        self.state = State::Failed(e.clone());
        e
    }

    /// Handles SASLInitialResponse: the selected `mechanism` and the
    /// client-first-message. Returns the server-first-message to send in
    /// AuthenticationSASLContinue.
    ///
    /// Checks the mechanism against [`mechanisms`](Self::mechanisms) and the GS2
    /// channel-binding flag against the mechanism and the server's offer.
    pub fn handle_client_first(
        &mut self,
        mechanism: &str,
        data: &[u8],
    ) -> Result<Vec<u8>, AuthError> {
        if !matches!(self.state, State::ClientFirst) {
            return Err(self.out_of_order("handle_client_first"));
        }
        match self.client_first(mechanism, data) {
            Ok((server_first, next)) => {
                self.state = next;
                Ok(server_first)
            }
            Err(e) => Err(self.fail(e)),
        }
    }

    fn client_first(&self, mechanism: &str, data: &[u8]) -> Result<(Vec<u8>, State), AuthError> {
        let plus = match mechanism {
            SCRAM_SHA_256 => false,
            SCRAM_SHA_256_PLUS if self.channel_binding.is_some() => true,
            _ => {
                return Err(AuthError::UnsupportedMechanism {
                    mechanism: mechanism.into(),
                })
            }
        };
        let malformed = |reason| AuthError::MalformedMessage {
            message: ScramMessage::ClientFirst,
            reason,
        };
        let negotiation = |reason| AuthError::ChannelBindingNegotiation { reason };

        // gs2-header = gs2-cbind-flag "," [ authzid ] ","
        let mut parts = data.splitn(3, |&b| b == b',');
        let flag = parts.next().unwrap_or_default();
        let authzid = parts.next().ok_or(malformed("missing GS2 header"))?;
        let bare = parts.next().ok_or(malformed("missing GS2 header"))?;
        let gs2_len = flag.len() + authzid.len() + 2;
        let gs2_header = data.get(..gs2_len).unwrap_or_default();

        let cb_data: &[u8] = match flag {
            b"n" if plus => {
                return Err(negotiation(
                    "the client selected SCRAM-SHA-256-PLUS, but the SCRAM message does not include channel binding data",
                ))
            }
            b"n" => &[],
            b"y" if plus => {
                return Err(negotiation(
                    "the client selected SCRAM-SHA-256-PLUS, but the SCRAM message does not include channel binding data",
                ))
            }
            b"y" if self.channel_binding.is_some() => {
                return Err(negotiation(
                    "the client supports SCRAM channel binding but thinks the server does not; this server does support channel binding",
                ))
            }
            b"y" => &[],
            [b'p', b'=', cb_type @ ..] => {
                if !plus {
                    return Err(negotiation(
                        "the client selected SCRAM-SHA-256 without channel binding, but the SCRAM message includes channel binding data",
                    ));
                }
                if cb_type != TLS_SERVER_END_POINT.as_bytes() {
                    return Err(negotiation("unsupported SCRAM channel-binding type"));
                }
                self.channel_binding.as_deref().unwrap_or_default()
            }
            _ => return Err(malformed("unexpected channel-binding flag")),
        };
        match authzid {
            [] => {}
            [b'a', b'=', ..] => return Err(AuthError::UnsupportedAuthzid),
            _ => return Err(malformed("invalid authorization identity")),
        }

        let mut fields = Fields::new(ScramMessage::ClientFirst, bare);
        fields.refuse_mandatory_extension()?;
        let username = fields.expect(b'n', "missing or misplaced user name (n=)", true)?;
        if !parse::is_saslname(username) {
            return Err(fields.malformed("invalid user name encoding"));
        }
        let client_nonce = fields.nonce()?;
        fields.skip_extensions(None)?;
        fields.finish()?;

        let mut nonce = Vec::with_capacity(client_nonce.len() + self.nonce.len());
        nonce.extend_from_slice(client_nonce);
        nonce.extend_from_slice(self.nonce.as_bytes());

        let mut server_first = Vec::new();
        server_first.extend_from_slice(b"r=");
        server_first.extend_from_slice(&nonce);
        server_first.extend_from_slice(b",s=");
        server_first.extend_from_slice(b64(&self.verifier.salt).as_bytes());
        server_first.extend_from_slice(b",i=");
        server_first.extend_from_slice(self.verifier.iterations.to_string().as_bytes());

        let mut auth_prefix = Vec::with_capacity(bare.len() + server_first.len() + 2);
        auth_prefix.extend_from_slice(bare);
        auth_prefix.push(b',');
        auth_prefix.extend_from_slice(&server_first);
        auth_prefix.push(b',');

        let mut cbind_input = Vec::with_capacity(gs2_header.len() + cb_data.len());
        cbind_input.extend_from_slice(gs2_header);
        cbind_input.extend_from_slice(cb_data);

        Ok((
            server_first,
            State::ClientFinal {
                cbind_input,
                nonce,
                auth_prefix,
            },
        ))
    }

    /// Handles SASLResponse: the client-final-message. Returns the server-final-message
    /// (`v=...`) to send in AuthenticationSASLFinal, followed by AuthenticationOk.
    ///
    /// Checks the channel-binding data (`c=`), the nonce, and the client's proof in
    /// constant time. A wrong password and an unknown user both give
    /// [`AuthError::InvalidClientProof`].
    pub fn handle_client_final(&mut self, data: &[u8]) -> Result<Vec<u8>, AuthError> {
        let State::ClientFinal {
            cbind_input,
            nonce,
            auth_prefix,
        } = &self.state
        else {
            return Err(self.out_of_order("handle_client_final"));
        };
        match self.client_final(cbind_input, nonce, auth_prefix, data) {
            Ok(server_final) => {
                self.state = State::Complete;
                Ok(server_final)
            }
            Err(e) => Err(self.fail(e)),
        }
    }

    fn client_final(
        &self,
        cbind_input: &[u8],
        nonce: &[u8],
        auth_prefix: &[u8],
        data: &[u8],
    ) -> Result<Vec<u8>, AuthError> {
        let mut fields = Fields::new(ScramMessage::ClientFinal, data);
        let channel_binding = fields.base64(b'c', "missing or misplaced channel binding (c=)")?;
        if !ct_eq(&channel_binding, cbind_input) {
            return Err(AuthError::ChannelBindingMismatch);
        }
        let final_nonce = fields.nonce()?;
        if final_nonce != nonce {
            return Err(AuthError::NonceMismatch);
        }
        fields.skip_extensions(Some(b'p'))?;
        let without_proof_len = fields.position().saturating_sub(1);
        let proof = fields.base64_array::<KEY_LEN>(b'p', "missing client proof (p=)")?;
        fields.finish()?;

        let without_proof = data.get(..without_proof_len).unwrap_or_default();
        let auth_message: [&[u8]; 2] = [auth_prefix, without_proof];
        let client_signature = hmac(&self.verifier.stored_key, &auth_message);
        let client_key = xor(&proof, &client_signature);
        let proof_ok = ct_eq(&sha256(&client_key), &self.verifier.stored_key);
        if !proof_ok || self.doomed {
            return Err(AuthError::InvalidClientProof);
        }
        let server_signature = hmac(&self.verifier.server_key, &auth_message);
        let mut server_final = b"v=".to_vec();
        server_final.extend_from_slice(b64(&server_signature).as_bytes());
        Ok(server_final)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const CLIENT_FIRST: &[u8] = b"n,,n=user,r=rOprNGfwEbeRWgbNEkqO";
    const SERVER_FIRST: &[u8] =
        b"r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096";
    const CLIENT_FINAL: &[u8] = b"c=biws,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ=";
    const SERVER_FINAL: &[u8] = b"v=6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4=";
    const SERVER_NONCE: &str = "%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0";

    fn rfc_verifier() -> ScramVerifier {
        use base64::Engine as _;
        let salt = base64::engine::general_purpose::STANDARD
            .decode("W22ZaJ0SNY7soEsUEjb6gQ==")
            .unwrap();
        ScramVerifier::generate(b"pencil", &salt, 4096).unwrap()
    }

    fn rfc_server(cb: Option<Vec<u8>>) -> ScramServer {
        ScramServer::with_nonce_str(rfc_verifier().into(), SERVER_NONCE, cb).unwrap()
    }

    /// RFC 7677 section 3, server side.
    #[test]
    fn rfc7677_vector() {
        let mut s = rfc_server(None);
        assert_eq!(s.mechanisms(), ["SCRAM-SHA-256"]);
        assert_eq!(
            s.handle_client_first("SCRAM-SHA-256", CLIENT_FIRST)
                .unwrap(),
            SERVER_FIRST
        );
        assert_eq!(s.handle_client_final(CLIENT_FINAL).unwrap(), SERVER_FINAL);
        assert!(s.is_complete());
        assert!(matches!(
            s.handle_client_final(CLIENT_FINAL),
            Err(AuthError::OutOfOrder { .. })
        ));
    }

    #[test]
    fn unknown_user_fails_like_wrong_password() {
        let mut s = ScramServer::with_nonce_str(
            ScramCredential::Unknown {
                username: b"user",
                mock_secret: b"mock",
                iterations: 4096,
            },
            SERVER_NONCE,
            None,
        )
        .unwrap();
        let first = s
            .handle_client_first("SCRAM-SHA-256", CLIENT_FIRST)
            .unwrap();
        assert!(first.starts_with(b"r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,s="));
        assert!(first.ends_with(b",i=4096"));
        // The client's final message is for another salt, but it is well formed.
        assert_eq!(
            s.handle_client_final(CLIENT_FINAL),
            Err(AuthError::InvalidClientProof)
        );
        assert_eq!(
            s.handle_client_final(CLIENT_FINAL),
            Err(AuthError::InvalidClientProof)
        );
    }

    #[test]
    fn wrong_proof() {
        let mut s = rfc_server(None);
        s.handle_client_first("SCRAM-SHA-256", CLIENT_FIRST)
            .unwrap();
        let mut bad = CLIENT_FINAL.to_vec();
        let n = bad.len();
        bad[n - 3] = b'B';
        assert_eq!(
            s.handle_client_final(&bad),
            Err(AuthError::InvalidClientProof)
        );
    }

    fn first_err(cb: Option<Vec<u8>>, mechanism: &str, data: &[u8]) -> AuthError {
        rfc_server(cb)
            .handle_client_first(mechanism, data)
            .unwrap_err()
    }

    #[test]
    fn client_first_errors() {
        use AuthError::*;
        let neg = |e: AuthError| matches!(e, ChannelBindingNegotiation { .. });
        let malformed = |e: AuthError| {
            matches!(
                e,
                MalformedMessage {
                    message: ScramMessage::ClientFirst,
                    ..
                }
            )
        };
        let tls = || Some(vec![1u8; 32]);
        assert!(matches!(
            first_err(
                None,
                "SCRAM-SHA-256-PLUS",
                b"p=tls-server-end-point,,n=,r=abc"
            ),
            UnsupportedMechanism { .. }
        ));
        assert!(matches!(
            first_err(None, "SCRAM-SHA-1", b"n,,n=,r=abc"),
            UnsupportedMechanism { .. }
        ));
        // Flag vs mechanism.
        assert!(neg(first_err(tls(), "SCRAM-SHA-256-PLUS", b"n,,n=,r=abc")));
        assert!(neg(first_err(tls(), "SCRAM-SHA-256-PLUS", b"y,,n=,r=abc")));
        assert!(neg(first_err(
            tls(),
            "SCRAM-SHA-256",
            b"p=tls-server-end-point,,n=,r=abc"
        )));
        assert!(neg(first_err(
            None,
            "SCRAM-SHA-256",
            b"p=tls-server-end-point,,n=,r=abc"
        )));
        // Downgrade: the client thinks the server has no channel binding.
        assert!(neg(first_err(tls(), "SCRAM-SHA-256", b"y,,n=,r=abc")));
        assert!(neg(first_err(
            tls(),
            "SCRAM-SHA-256-PLUS",
            b"p=tls-unique,,n=,r=abc"
        )));
        // Syntax.
        assert_eq!(
            first_err(None, "SCRAM-SHA-256", b"n,a=admin,n=,r=abc"),
            UnsupportedAuthzid
        );
        assert_eq!(
            first_err(None, "SCRAM-SHA-256", b"n,,m=ext,n=,r=abc"),
            UnsupportedExtension {
                message: ScramMessage::ClientFirst
            }
        );
        for bad in [
            &b""[..],
            b"n",
            b"n,",
            b"x,,n=,r=abc",
            b"n,,",
            b"n,b=x,n=,r=abc",
            b"n,,r=abc",
            b"n,,n=,r=",
            b"n,,n=,r=a c",
            b"n,,n=,r=abc,",
            b"n,,n=,r=abc,r=def",
            b"n,,n=a=b,r=abc",
            b"n,,n=\xff,r=abc",
            b"n,,r=abc,n=",
            b"n,,n=,n=,r=abc",
            b"p,,n=,r=abc",
        ] {
            let e = first_err(None, "SCRAM-SHA-256", bad);
            assert!(
                malformed(e.clone()),
                "{:?}: {e:?}",
                String::from_utf8_lossy(bad)
            );
        }
        // Extensions after the nonce are ignored.
        rfc_server(None)
            .handle_client_first("SCRAM-SHA-256", b"n,,n=,r=abc,x=y")
            .unwrap();
        // "y" without TLS is fine.
        rfc_server(None)
            .handle_client_first("SCRAM-SHA-256", b"y,,n=,r=abc")
            .unwrap();
    }

    fn final_err(data: &[u8]) -> AuthError {
        let mut s = rfc_server(None);
        s.handle_client_first("SCRAM-SHA-256", CLIENT_FIRST)
            .unwrap();
        s.handle_client_final(data).unwrap_err()
    }

    #[test]
    fn client_final_errors() {
        use AuthError::*;
        let nonce = "rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0";
        let proof = "dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ=";
        let f = |s: String| final_err(s.as_bytes());
        assert_eq!(
            f(format!("c=eSws,r={nonce},p={proof}")),
            ChannelBindingMismatch
        );
        assert_eq!(
            f(format!(
                "c=cD10bHMtc2VydmVyLWVuZC1wb2ludCws,r={nonce},p={proof}"
            )),
            ChannelBindingMismatch
        );
        assert_eq!(f(format!("c=biws,r={nonce}x,p={proof}")), NonceMismatch);
        assert_eq!(
            f(format!("c=biws,r=rOprNGfwEbeRWgbNEkqO,p={proof}")),
            NonceMismatch
        );
        assert_eq!(
            f(format!("c=biws,r={nonce},p=AAAA")),
            InvalidBase64 {
                message: ScramMessage::ClientFinal,
                attribute: 'p'
            }
        );
        assert_eq!(
            f(format!("c=biw,r={nonce},p={proof}")),
            InvalidBase64 {
                message: ScramMessage::ClientFinal,
                attribute: 'c'
            }
        );
        for bad in [
            String::new(),
            format!("r={nonce},c=biws,p={proof}"),
            format!("c=biws,p={proof}"),
            format!("c=biws,r={nonce}"),
            format!("c=biws,r={nonce},"),
            format!("c=biws,r={nonce},p={proof},"),
            format!("c=biws,r={nonce},p={proof},x=1"),
            format!("c=biws,r={nonce},p={proof},p={proof}"),
            format!("c=biws,r={nonce},r={nonce},p={proof}"),
            format!("c=biws,r={nonce},m=1,p={proof}"),
        ] {
            assert!(
                matches!(
                    f(bad.clone()),
                    MalformedMessage {
                        message: ScramMessage::ClientFinal,
                        ..
                    }
                ),
                "{bad}"
            );
        }
        // An extension before the proof is allowed, and covered by the proof: the RFC
        // proof no longer matches.
        assert_eq!(
            f(format!("c=biws,r={nonce},x=1,p={proof}")),
            InvalidClientProof
        );
    }

    #[test]
    fn mechanisms_and_constructor() {
        assert_eq!(
            rfc_server(Some(vec![0; 32])).mechanisms(),
            ["SCRAM-SHA-256-PLUS", "SCRAM-SHA-256"]
        );
        assert!(ScramServer::new(rfc_verifier().into(), &[0; 17], None).is_err());
        assert!(ScramServer::new(rfc_verifier().into(), &[0; 18], None).is_ok());
        assert_eq!(
            ScramServer::new(
                ScramCredential::Unknown {
                    username: b"u",
                    mock_secret: b"s",
                    iterations: 0
                },
                &[0; 18],
                None
            )
            .unwrap_err(),
            AuthError::InvalidIterationCount
        );
        let mut s = rfc_server(None);
        assert!(matches!(
            s.handle_client_final(CLIENT_FINAL),
            Err(AuthError::OutOfOrder { .. })
        ));
        assert!(!format!("{s:?}").contains("stored"));
    }
}
