//! Replays the checked-in fuzz corpora (`fuzz/corpus/<target>/`) through the same entry
//! points the cargo-fuzz targets call, so every seed and every past crasher stays covered
//! by plain `cargo test`.

use std::path::PathBuf;

fn replay(target: &str, entry: fn(&[u8])) {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../fuzz/corpus")
        .join(target);
    let mut n = 0;
    for entry_path in std::fs::read_dir(&dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display())) {
        let path = entry_path.unwrap().path();
        let data = std::fs::read(&path).unwrap();
        let result = std::panic::catch_unwind(|| entry(&data));
        assert!(result.is_ok(), "corpus input {} panics", path.display());
        n += 1;
    }
    assert!(
        n >= 3,
        "expected a seeded corpus in {}, found {n} files",
        dir.display()
    );
}

#[test]
fn backend_decode_corpus() {
    replay("backend_decode", pgproto_core::testing::fuzz_backend_stream);
}

#[test]
fn frontend_decode_corpus() {
    replay(
        "frontend_decode",
        pgproto_core::testing::fuzz_frontend_stream,
    );
}

#[test]
fn client_state_corpus() {
    replay("client_state", pgproto_core::testing::fuzz_client);
}

#[test]
fn server_state_corpus() {
    replay("server_state", pgproto_core::testing::fuzz_server);
}

#[test]
fn scram_corpus() {
    replay("scram", pgproto_core::testing::fuzz_scram);
}

#[test]
fn types_corpus() {
    replay("types", pgproto_core::testing::fuzz_types);
}
