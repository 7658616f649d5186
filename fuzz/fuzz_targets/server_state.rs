//! Fuzz target: see `pgproto_core::testing::fuzz_server`.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| pgproto_core::testing::fuzz_server(data));
