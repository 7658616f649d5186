//! The client over TLS against PostgreSQL 15 and 18: verify-full, SCRAM-SHA-256-PLUS
//! with channel_binding=require, data larger than TLS records, cancelling, wrong
//! passwords and CAs, direct TLS against 18 and its clean failure against 15.

use std::time::{Duration, Instant};

use pgproto_core::client::AuthMethod;
use pgproto_core::sqlstate::SqlState;
use pgproto_tests::harness::tls::generate;
use pgproto_tests::harness::{HbaMethod, PasswordEncryption, PgCluster, PgVersion};

use crate::adapter::{self, Client, Error};

maybe_async! {
    /// Whether the backend serving `c` runs over TLS, by PostgreSQL's own account.
    fn server_sees_tls(c: &mut Client) -> bool {
        let sets = aw!(c
            .simple_query("select ssl from pg_stat_ssl where pid = pg_backend_pid()"))
            .unwrap();
        sets[0].rows[0].raw(0usize) == Some(Some(&b"t"[..]))
    }
}

maybe_async! {
    fn client_against_postgres(version: PgVersion) {
        let pg = PgCluster::builder()
            .version(version)
            .auth(HbaMethod::ScramSha256)
            .tls(true)
            .start()
            .unwrap();
        pg.create_role("tls_user", "pw", PasswordEncryption::ScramSha256)
            .unwrap();
        let ca = pg.ca_cert_path().unwrap().display().to_string();
        let base = pg.connection_string("tls_user", Some("pw"));
        let verified = format!("{base} sslmode=verify-full sslrootcert={ca}");

        // verify-full and SCRAM-SHA-256-PLUS, required.
        let mut c = aw!(adapter::connect(&format!("{verified} channel_binding=require")))
            .unwrap_or_else(|e| panic!("{version:?}: {e}"));
        assert!(c.is_tls());
        assert!(c.used_channel_binding(), "{version:?}: no -PLUS");
        assert_eq!(c.auth_method(), Some(AuthMethod::ScramSha256));
        assert!(aw!(server_sees_tls(&mut c)));
        // Data larger than a TLS record and the socket buffers, both ways.
        let big = "y".repeat(3_000_000);
        let row = aw!(c.query_one("select $1::text as v", &[&big])).unwrap();
        assert_eq!(row.get::<String, _>("v").unwrap(), big);
        let st = aw!(c
            .prepare("select g, repeat('z', 100) from generate_series(1, 20000) g"))
            .unwrap();
        let mut rows = 0;
        aw!(c.query_batched(&st, &[], 5000, |batch| {
            rows += batch.len();
            Ok(())
        }))
        .unwrap();
        assert_eq!(rows, 20000);
        async_only! {
            // Concurrent requests and results larger than TLS records and socket buffers,
            // pipelined automatically.
            let big = "y".repeat(2_000_000);
            let (a, b) = super::client_async::zip(
                c.query_one("select $1::text as v", &[&big]),
                c.query_one("select length($1::text)", &[&big]),
            )
            .await;
            assert_eq!(a.unwrap().get::<String, _>("v").unwrap(), big);
            assert_eq!(b.unwrap().get::<i32, _>(0usize).unwrap(), 2_000_000);
        }
        // Cancelling over TLS connections works with the plain CancelRequest.
        let canceller = adapter::cancel_later(c.canceller().unwrap(), Duration::from_millis(300));
        let slow = aw!(c.simple_query("select pg_sleep(30)"));
        aw!(adapter::joined(canceller));
        assert_eq!(
            slow.unwrap_err().as_db_error().unwrap().code,
            SqlState::QueryCanceled
        );
        aw!(c.close()).unwrap();

        // channel_binding=disable over TLS: plain SCRAM.
        let c = aw!(adapter::connect(&format!("{verified} channel_binding=disable"))).unwrap();
        assert!(c.is_tls() && !c.used_channel_binding());
        aw!(c.close()).unwrap();

        // A wrong password over TLS is still the server's 28P01.
        let err = aw!(adapter::connect(&format!(
            "{} sslmode=verify-full sslrootcert={ca}",
            pg.connection_string("tls_user", Some("wrong"))
        )))
        .unwrap_err();
        assert_eq!(
            err.as_db_error().map(|e| e.code),
            Some(SqlState::InvalidPassword),
            "{err}"
        );

        // sslmode=require without a root file encrypts without verifying.
        let mut c = aw!(adapter::connect(&format!("{base} sslmode=require"))).unwrap();
        assert!(aw!(server_sees_tls(&mut c)));
        drop(c);

        // A CA that did not sign the server's certificate fails verification.
        let other_ca =
            std::env::temp_dir().join(format!("pgproto-other-ca-{}.pem", pg.port()));
        std::fs::write(&other_ca, generate().unwrap().ca_cert_pem).unwrap();
        let err = aw!(adapter::connect(&format!(
            "{base} sslmode=verify-ca sslrootcert={}",
            other_ca.display()
        )))
        .unwrap_err();
        let _ = std::fs::remove_file(other_ca);
        assert!(matches!(err, Error::Tls(_)), "{err}");

        // channel_binding=require without TLS: refused before any password is sent.
        let err =
            aw!(adapter::connect(&format!("{base} sslmode=disable channel_binding=require"))).unwrap_err();
        assert!(err.to_string().contains("channel binding"), "{err}");

        // Direct TLS (sslnegotiation=direct): PostgreSQL 17+ accepts it; 15 reads the
        // ClientHello as a startup packet of absurd length and hangs up, which must end
        // in a TLS error at once rather than a hang.
        let direct = format!("{verified} sslnegotiation=direct channel_binding=require");
        let started = Instant::now();
        match version {
            PgVersion::V15 => {
                let err = aw!(adapter::connect(&format!("{direct} connect_timeout=10"))).unwrap_err();
                assert!(matches!(err, Error::Tls(_) | Error::Io(_)), "{err:?}");
                assert!(started.elapsed() < Duration::from_secs(5));
            }
            PgVersion::V18 => {
                let mut c = aw!(adapter::connect(&direct)).unwrap();
                assert!(c.used_channel_binding());
                assert!(aw!(server_sees_tls(&mut c)));
                aw!(c.close()).unwrap();
            }
        }
    }
}

conformance_test! {
    fn client_tls_pg15() {
        aw!(client_against_postgres(PgVersion::V15));
    }
}

conformance_test! {
    fn client_tls_pg18() {
        aw!(client_against_postgres(PgVersion::V18));
    }
}
