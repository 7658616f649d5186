//! Frames and decodes arbitrary bytes as a server's stream (what a client reads).
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| pgproto_core::testing::fuzz_backend_stream(data));
