//! Frames and decodes arbitrary bytes as a client's stream (what a server reads).
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| pgproto_core::testing::fuzz_frontend_stream(data));
