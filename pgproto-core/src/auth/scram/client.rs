//! The client side of a SCRAM-SHA-256(-PLUS) exchange.

use alloc::string::String;
use alloc::vec::Vec;

use super::parse::{self, Fields};
use super::{
    b64, check_nonce_str, client_key, encode_nonce, hmac, salted_password, server_key, sha256, xor,
    ChannelBinding, DEFAULT_MAX_ITERATIONS, KEY_LEN,
};
use crate::auth::{ct_eq, saslprep_password, AuthError, ScramMessage};

extern crate alloc;

/// The client side of a SCRAM-SHA-256 or SCRAM-SHA-256-PLUS exchange.
///
/// 1. Create it with the password, the channel-binding choice and a fresh random nonce;
///    send [`mechanism`](Self::mechanism) and
///    [`client_first_message`](Self::client_first_message) in a SASLInitialResponse.
/// 2. Pass the AuthenticationSASLContinue data to
///    [`handle_server_first`](Self::handle_server_first); send the result in a
///    SASLResponse.
/// 3. Pass the AuthenticationSASLFinal data to
///    [`handle_server_final`](Self::handle_server_final). Only if it returns `Ok` has
///    the server proved that it knows the password: accept AuthenticationOk only then.
///
/// Calls out of order return [`AuthError::OutOfOrder`]; after an error, every call
/// returns that error again.
///
/// The client sends an empty user name (`n=`), as PostgreSQL clients do; see
/// [`set_username`](Self::set_username) for other SCRAM servers.
///
/// ```
/// use pgproto_core::auth::scram::{ChannelBinding, ScramClient};
/// let client = ScramClient::new(b"pencil", ChannelBinding::Unsupported, &[0x42; 18]).unwrap();
/// assert_eq!(client.mechanism(), "SCRAM-SHA-256");
/// assert_eq!(client.client_first_message(), b"n,,n=,r=QkJCQkJCQkJCQkJCQkJCQkJC");
/// ```
#[derive(Clone)]
pub struct ScramClient {
    /// The SASLprep'd password; cleared once the proof is computed.
    password: Vec<u8>,
    channel_binding: ChannelBinding,
    nonce: String,
    /// GS2 header followed by client-first-message-bare.
    client_first: Vec<u8>,
    max_iterations: u32,
    state: State,
}

#[derive(Clone)]
enum State {
    ServerFirst,
    ServerFinal { server_signature: [u8; KEY_LEN] },
    Complete,
    Failed(AuthError),
}

impl State {
    fn name(&self) -> &'static str {
        match self {
            Self::ServerFirst => "waiting for the server-first-message",
            Self::ServerFinal { .. } => "waiting for the server-final-message",
            Self::Complete => "exchange complete",
            Self::Failed(_) => "exchange failed",
        }
    }
}

impl core::fmt::Debug for ScramClient {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("ScramClient")
            .field("mechanism", &self.mechanism())
            .field("channel_binding", &self.channel_binding)
            .field("nonce", &self.nonce)
            .field("max_iterations", &self.max_iterations)
            .field("state", &self.state.name())
            .finish_non_exhaustive()
    }
}

impl ScramClient {
    /// Starts an exchange. `client_nonce_raw` MUST be at least
    /// [`MIN_RAW_NONCE_LEN`](super::MIN_RAW_NONCE_LEN) fresh random bytes; they are
    /// base64-encoded into the nonce. The password is SASLprep'd, falling back to its raw
    /// bytes as PostgreSQL does ([`saslprep_password`]).
    ///
    /// Fails with [`AuthError::InvalidNonce`] if the nonce is too short.
    pub fn new(
        password: &[u8],
        channel_binding: ChannelBinding,
        client_nonce_raw: &[u8],
    ) -> Result<Self, AuthError> {
        let nonce = encode_nonce(client_nonce_raw)?;
        Ok(Self::build(password, channel_binding, nonce))
    }

    /// Starts an exchange with an already encoded nonce: printable ASCII without `,`
    /// (replaying a recorded exchange, test vectors). The nonce MUST still carry enough
    /// randomness.
    ///
    /// Fails with [`AuthError::InvalidNonce`] if the nonce is empty or not printable.
    pub fn with_nonce_str(
        password: &[u8],
        channel_binding: ChannelBinding,
        nonce: &str,
    ) -> Result<Self, AuthError> {
        check_nonce_str(nonce)?;
        Ok(Self::build(password, channel_binding, nonce.into()))
    }

    fn build(password: &[u8], channel_binding: ChannelBinding, nonce: String) -> Self {
        let mut client = Self {
            password: saslprep_password(password).into_owned(),
            channel_binding,
            nonce,
            client_first: Vec::new(),
            max_iterations: DEFAULT_MAX_ITERATIONS,
            state: State::ServerFirst,
        };
        client.build_client_first(b"");
        client
    }

    fn build_client_first(&mut self, escaped_username: &[u8]) {
        let gs2 = self.channel_binding.gs2_header();
        let mut msg = Vec::with_capacity(gs2.len() + 6 + escaped_username.len() + self.nonce.len());
        msg.extend_from_slice(gs2);
        msg.extend_from_slice(b"n=");
        msg.extend_from_slice(escaped_username);
        msg.extend_from_slice(b",r=");
        msg.extend_from_slice(self.nonce.as_bytes());
        self.client_first = msg;
    }

    /// Sets the user name sent in the client-first-message (escaped as RFC 5802
    /// requires). PostgreSQL ignores it, and its clients send an empty one: this is for
    /// other SCRAM servers and test vectors. Only allowed before
    /// [`handle_server_first`](Self::handle_server_first).
    ///
    /// ```
    /// use pgproto_core::auth::scram::{ChannelBinding, ScramClient};
    /// let mut client = ScramClient::with_nonce_str(b"pencil", ChannelBinding::Unsupported, "fyko+d2lbbFgONRv9qkxdawL").unwrap();
    /// client.set_username("us,er=").unwrap();
    /// assert_eq!(client.client_first_message(), b"n,,n=us=2Cer=3D,r=fyko+d2lbbFgONRv9qkxdawL");
    /// ```
    pub fn set_username(&mut self, username: &str) -> Result<(), AuthError> {
        if !matches!(self.state, State::ServerFirst) {
            return Err(self.out_of_order("set_username"));
        }
        let mut escaped = Vec::with_capacity(username.len());
        for b in username.bytes() {
            match b {
                b',' => escaped.extend_from_slice(b"=2C"),
                b'=' => escaped.extend_from_slice(b"=3D"),
                b => escaped.push(b),
            }
        }
        self.build_client_first(&escaped);
        Ok(())
    }

    /// Sets the highest iteration count accepted from the server (default
    /// [`DEFAULT_MAX_ITERATIONS`]): a malicious server could otherwise make the client
    /// spend minutes of CPU. Counts above it fail with
    /// [`AuthError::IterationCountTooHigh`].
    pub fn set_max_iterations(&mut self, max: u32) {
        self.max_iterations = max;
    }

    /// The SASL mechanism to send in SASLInitialResponse: SCRAM-SHA-256-PLUS with
    /// [`ChannelBinding::TlsServerEndPoint`], SCRAM-SHA-256 otherwise.
    pub fn mechanism(&self) -> &'static str {
        self.channel_binding.mechanism()
    }

    /// The nonce this client sends (printable ASCII).
    pub fn nonce(&self) -> &str {
        &self.nonce
    }

    /// The client-first-message (GS2 header, `n=`, `r=`) to send as the initial response
    /// in SASLInitialResponse.
    pub fn client_first_message(&self) -> &[u8] {
        &self.client_first
    }

    /// Whether the exchange completed: the server's signature verified.
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

    /// Handles the server-first-message (AuthenticationSASLContinue data) and returns the
    /// client-final-message to send in a SASLResponse.
    ///
    /// Checks that the server's nonce extends the client's, the salt is non-empty
    /// base64, and the iteration count is positive and at most the maximum
    /// ([`set_max_iterations`](Self::set_max_iterations)). This is where the (slow) key
    /// derivation runs.
    pub fn handle_server_first(&mut self, data: &[u8]) -> Result<Vec<u8>, AuthError> {
        if !matches!(self.state, State::ServerFirst) {
            return Err(self.out_of_order("handle_server_first"));
        }
        match self.server_first(data) {
            Ok((client_final, server_signature)) => {
                self.password.clear();
                self.state = State::ServerFinal { server_signature };
                Ok(client_final)
            }
            Err(e) => {
                self.password.clear();
                self.state = State::Failed(e.clone());
                Err(e)
            }
        }
    }

    fn server_first(&self, data: &[u8]) -> Result<(Vec<u8>, [u8; KEY_LEN]), AuthError> {
        let mut fields = Fields::new(ScramMessage::ServerFirst, data);
        fields.refuse_mandatory_extension()?;
        let nonce = fields.nonce()?;
        let salt = fields.base64(b's', "missing or misplaced salt (s=)")?;
        let iterations = fields.expect(b'i', "missing or misplaced iteration count (i=)", false)?;
        fields.skip_extensions(None)?;
        fields.finish()?;

        match nonce.strip_prefix(self.nonce.as_bytes()) {
            Some(server_part) if !server_part.is_empty() => {}
            _ => return Err(AuthError::NonceMismatch),
        }
        if salt.is_empty() {
            return Err(fields.malformed("empty salt"));
        }
        let iterations = match parse::positive_number(iterations) {
            Ok(Some(n)) if n <= self.max_iterations => n,
            Ok(_) => {
                return Err(AuthError::IterationCountTooHigh {
                    max: self.max_iterations,
                })
            }
            Err(()) if iterations.iter().all(|&b| b == b'0') => {
                return Err(AuthError::InvalidIterationCount)
            }
            Err(()) => return Err(fields.malformed("iteration count is not a positive integer")),
        };

        let salted = salted_password(&self.password, &salt, iterations);
        let client_key = client_key(&salted);
        let stored_key = sha256(&client_key);

        let gs2 = self.channel_binding.gs2_header();
        let mut cbind_input = Vec::with_capacity(gs2.len() + self.channel_binding.data().len());
        cbind_input.extend_from_slice(gs2);
        cbind_input.extend_from_slice(self.channel_binding.data());

        let mut client_final = Vec::new();
        client_final.extend_from_slice(b"c=");
        client_final.extend_from_slice(b64(&cbind_input).as_bytes());
        client_final.extend_from_slice(b",r=");
        client_final.extend_from_slice(nonce);

        let bare = self.client_first.get(gs2.len()..).unwrap_or_default();
        let auth_message: [&[u8]; 5] = [bare, b",", data, b",", &client_final];
        let client_signature = hmac(&stored_key, &auth_message);
        let proof = xor(&client_key, &client_signature);
        let server_signature = hmac(&server_key(&salted), &auth_message);

        client_final.extend_from_slice(b",p=");
        client_final.extend_from_slice(b64(&proof).as_bytes());
        Ok((client_final, server_signature))
    }

    /// Handles the server-final-message (AuthenticationSASLFinal data): verifies the
    /// server's signature in constant time. An `e=` attribute becomes
    /// [`AuthError::ServerError`].
    pub fn handle_server_final(&mut self, data: &[u8]) -> Result<(), AuthError> {
        let State::ServerFinal { server_signature } = self.state else {
            return Err(self.out_of_order("handle_server_final"));
        };
        match Self::server_final(data, &server_signature) {
            Ok(()) => {
                self.state = State::Complete;
                Ok(())
            }
            Err(e) => {
                self.state = State::Failed(e.clone());
                Err(e)
            }
        }
    }

    fn server_final(data: &[u8], expected: &[u8; KEY_LEN]) -> Result<(), AuthError> {
        let mut fields = Fields::new(ScramMessage::ServerFinal, data);
        if fields.peek_name() == Some(b'e') {
            let value = fields.expect(b'e', "missing server error value", false)?;
            if value.contains(&b'=') || value.contains(&0) {
                return Err(fields.malformed("invalid server error value"));
            }
            return Err(AuthError::ServerError {
                value: String::from_utf8_lossy(value).into_owned(),
            });
        }
        let signature = fields.base64_array::<KEY_LEN>(b'v', "missing server signature (v=)")?;
        fields.skip_extensions(None)?;
        fields.finish()?;
        if ct_eq(&signature, expected) {
            Ok(())
        } else {
            Err(AuthError::ServerSignatureMismatch)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const NONCE: &str = "rOprNGfwEbeRWgbNEkqO";
    const SERVER_FIRST: &[u8] =
        b"r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096";
    const CLIENT_FINAL: &[u8] = b"c=biws,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ=";
    const SERVER_FINAL: &[u8] = b"v=6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4=";

    fn rfc_client() -> ScramClient {
        let mut c =
            ScramClient::with_nonce_str(b"pencil", ChannelBinding::Unsupported, NONCE).unwrap();
        c.set_username("user").unwrap();
        c
    }

    /// RFC 7677 section 3.
    #[test]
    fn rfc7677_vector() {
        let mut c = rfc_client();
        assert_eq!(
            c.client_first_message(),
            b"n,,n=user,r=rOprNGfwEbeRWgbNEkqO"
        );
        assert_eq!(c.handle_server_first(SERVER_FIRST).unwrap(), CLIENT_FINAL);
        assert!(!c.is_complete());
        c.handle_server_final(SERVER_FINAL).unwrap();
        assert!(c.is_complete());
        // Nothing more is allowed.
        assert!(matches!(
            c.handle_server_final(SERVER_FINAL),
            Err(AuthError::OutOfOrder { .. })
        ));
    }

    #[test]
    fn out_of_order_and_poisoning() {
        let mut c = rfc_client();
        assert!(matches!(
            c.handle_server_final(SERVER_FINAL),
            Err(AuthError::OutOfOrder { .. })
        ));
        // Still usable: an out-of-order call does not poison.
        c.handle_server_first(SERVER_FIRST).unwrap();
        assert!(matches!(
            c.handle_server_first(SERVER_FIRST),
            Err(AuthError::OutOfOrder { .. })
        ));
        assert!(c.set_username("x").is_err());
        let bad = b"v=AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=";
        assert_eq!(
            c.handle_server_final(bad),
            Err(AuthError::ServerSignatureMismatch)
        );
        // Poisoned: the same error again, even for the right signature.
        assert_eq!(
            c.handle_server_final(SERVER_FINAL),
            Err(AuthError::ServerSignatureMismatch)
        );
        assert!(!c.is_complete());
    }

    fn first_error(server_first: &[u8]) -> AuthError {
        rfc_client().handle_server_first(server_first).unwrap_err()
    }

    #[test]
    fn server_first_errors() {
        use AuthError::*;
        let malformed = |e: AuthError| {
            matches!(
                e,
                MalformedMessage {
                    message: ScramMessage::ServerFirst,
                    ..
                }
            )
        };
        assert_eq!(
            first_error(b"r=rOprNGfwEbeRWgbNEkqO,s=QUJD,i=1"),
            NonceMismatch
        );
        assert_eq!(
            first_error(b"r=XOprNGfwEbeRWgbNEkqOx,s=QUJD,i=1"),
            NonceMismatch
        );
        assert_eq!(first_error(b"r=rOprNGfwEbe,s=QUJD,i=1"), NonceMismatch);
        assert_eq!(
            first_error(b"r=rOprNGfwEbeRWgbNEkqOx,s=QUJD,i=0"),
            InvalidIterationCount
        );
        assert_eq!(
            first_error(b"r=rOprNGfwEbeRWgbNEkqOx,s=QUJD,i=000"),
            InvalidIterationCount
        );
        assert_eq!(
            first_error(b"r=rOprNGfwEbeRWgbNEkqOx,s=QUJD,i=10000001"),
            IterationCountTooHigh {
                max: DEFAULT_MAX_ITERATIONS
            }
        );
        assert_eq!(
            first_error(b"r=rOprNGfwEbeRWgbNEkqOx,s=QUJD,i=99999999999999999999"),
            IterationCountTooHigh {
                max: DEFAULT_MAX_ITERATIONS
            }
        );
        assert!(malformed(first_error(
            b"r=rOprNGfwEbeRWgbNEkqOx,s=QUJD,i=-1"
        )));
        assert!(malformed(first_error(
            b"r=rOprNGfwEbeRWgbNEkqOx,s=QUJD,i=01"
        )));
        assert!(malformed(first_error(
            b"r=rOprNGfwEbeRWgbNEkqOx,s=QUJD,i=4096x"
        )));
        assert!(malformed(first_error(b"r=rOprNGfwEbeRWgbNEkqOx,s=QUJD,i=")));
        assert!(malformed(first_error(b"r=rOprNGfwEbeRWgbNEkqOx,s=QUJD")));
        assert!(malformed(first_error(
            b"r=rOprNGfwEbeRWgbNEkqOx,i=1,s=QUJD"
        )));
        assert!(malformed(first_error(
            b"s=QUJD,r=rOprNGfwEbeRWgbNEkqOx,i=1"
        )));
        assert!(malformed(first_error(
            b"r=rOprNGfwEbeRWgbNEkqOx,r=a,s=QUJD,i=1"
        )));
        assert!(malformed(first_error(
            b"r=rOprNGfwEbeRWgbNEkqOx,s=QUJD,i=1,i=2"
        )));
        assert!(malformed(first_error(
            b"r=rOprNGfwEbeRWgbNEkqOx,s=QUJD,i=1,"
        )));
        assert!(malformed(first_error(b"r=rOprNGfwEbeRWgbNEkqOx,s=,i=1")));
        assert!(malformed(first_error(
            b"r=rOprNGfwEbeRWgbNEkqO\x7f,s=QUJD,i=1"
        )));
        assert!(malformed(first_error(
            b"r=rOprNGfwEbeRWgbNEkqO x,s=QUJD,i=1"
        )));
        assert!(malformed(first_error(b"")));
        assert_eq!(
            first_error(b"r=rOprNGfwEbeRWgbNEkqOx,s=QUJ,i=1"),
            InvalidBase64 {
                message: ScramMessage::ServerFirst,
                attribute: 's'
            }
        );
        assert_eq!(
            first_error(b"m=ext,r=rOprNGfwEbeRWgbNEkqOx,s=QUJD,i=1"),
            UnsupportedExtension {
                message: ScramMessage::ServerFirst
            }
        );
    }

    #[test]
    fn optional_extension_is_ignored_and_part_of_auth_message() {
        let mut c = rfc_client();
        let first = b"r=rOprNGfwEbeRWgbNEkqOx,s=QUJD,i=1,x=ext";
        assert!(c.handle_server_first(first).is_ok());
    }

    #[test]
    fn max_iterations_is_configurable() {
        let mut c = rfc_client();
        c.set_max_iterations(4095);
        assert_eq!(
            c.handle_server_first(SERVER_FIRST),
            Err(AuthError::IterationCountTooHigh { max: 4095 })
        );
    }

    #[test]
    fn server_final_errors() {
        let signed = || {
            let mut c = rfc_client();
            c.handle_server_first(SERVER_FIRST).unwrap();
            c
        };
        assert_eq!(
            signed().handle_server_final(b"e=invalid-proof"),
            Err(AuthError::ServerError {
                value: "invalid-proof".into()
            })
        );
        for bad in [
            &b""[..],
            b"v=",
            b"e=",
            b"e=a=b",
            b"x=1",
            b"v=6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4=,",
            b"v=6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4=,v=1",
            b"v=6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4",
            b"v=6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4=x",
            b"v=AAAA",
        ] {
            assert!(
                matches!(
                    signed().handle_server_final(bad),
                    Err(AuthError::MalformedMessage { .. } | AuthError::InvalidBase64 { .. })
                ),
                "{:?}",
                String::from_utf8_lossy(bad)
            );
        }
        // A trailing optional extension is accepted.
        signed()
            .handle_server_final(b"v=6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4=,x=y")
            .unwrap();
    }

    #[test]
    fn channel_binding_headers() {
        let c = ScramClient::with_nonce_str(b"p", ChannelBinding::NotUsed, "abc").unwrap();
        assert_eq!(c.client_first_message(), b"y,,n=,r=abc");
        assert_eq!(c.mechanism(), "SCRAM-SHA-256");
        let mut c = ScramClient::with_nonce_str(
            b"p",
            ChannelBinding::TlsServerEndPoint(vec![0xff; 32]),
            "abc",
        )
        .unwrap();
        assert_eq!(
            c.client_first_message(),
            b"p=tls-server-end-point,,n=,r=abc"
        );
        assert_eq!(c.mechanism(), "SCRAM-SHA-256-PLUS");
        let fin = c.handle_server_first(b"r=abcd,s=QUJD,i=1").unwrap();
        let mut expected_c = b"p=tls-server-end-point,,".to_vec();
        expected_c.extend_from_slice(&[0xff; 32]);
        let expected = alloc::format!("c={},r=abcd,p=", b64(&expected_c));
        assert!(fin.starts_with(expected.as_bytes()));
    }

    #[test]
    fn constructor_checks_nonce() {
        assert!(ScramClient::new(b"p", ChannelBinding::Unsupported, &[1; 17]).is_err());
        assert!(ScramClient::with_nonce_str(b"p", ChannelBinding::Unsupported, "").is_err());
        assert!(ScramClient::with_nonce_str(b"p", ChannelBinding::Unsupported, "a,b").is_err());
    }

    #[test]
    fn debug_hides_password() {
        let c = ScramClient::new(b"hunter2", ChannelBinding::Unsupported, &[0; 18]).unwrap();
        let s = alloc::format!("{c:?}");
        assert!(!s.contains("hunter2"));
        assert!(!s.contains("104, 117"));
    }
}
