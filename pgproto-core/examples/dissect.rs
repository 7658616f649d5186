//! A protocol dissector: decodes a captured PostgreSQL byte stream (one direction) and
//! prints one line per message.
//!
//! ```sh
//! cargo run -p pgproto-core --example dissect -- pgproto-core/tests/data/pg15_psql.backend.bin
//! cargo run -p pgproto-core --example dissect -- --frontend pgproto-core/tests/data/pg15_psql.frontend.bin
//! ```
//! Without a file it dissects the recorded psql session shipped with the crate.

use std::collections::VecDeque;
use std::process::ExitCode;

use pgproto_core::message::{AuthResponseKind, BackendMessage, FrontendMessage};
use pgproto_core::wire::{Direction, Framer, Limits};

fn main() -> ExitCode {
    let mut args: Vec<String> = std::env::args().skip(1).collect();
    let direction = match args.iter().position(|a| a == "--frontend") {
        Some(i) => {
            args.remove(i);
            Direction::Frontend
        }
        None => Direction::Backend,
    };
    let path = args.pop().unwrap_or_else(|| {
        let side = if direction == Direction::Frontend {
            "frontend"
        } else {
            "backend"
        };
        format!(
            "{}/tests/data/pg15_psql.{side}.bin",
            env!("CARGO_MANIFEST_DIR")
        )
    });
    let bytes = match std::fs::read(&path) {
        Ok(b) => b,
        Err(e) => {
            eprintln!("{path}: {e}");
            return ExitCode::from(2);
        }
    };

    let mut framer = Framer::new(direction, Limits::default());
    framer.push(&bytes);
    // Without the server's side we cannot know what a client's `p` is; guess from the
    // password exchange's usual order.
    let mut auth_kinds = VecDeque::from([AuthResponseKind::SaslInitial, AuthResponseKind::Sasl]);
    let mut count = 0;
    loop {
        let frame = match framer.next_frame_ref() {
            Ok(Some(frame)) => frame,
            Ok(None) => break,
            Err(e) => {
                eprintln!("framing error after {count} messages: {e}");
                return ExitCode::FAILURE;
            }
        };
        count += 1;
        let line = match (direction, frame.tag) {
            (Direction::Backend, Some(tag)) => match BackendMessage::decode(tag, frame.body) {
                Ok(msg) => format!("{msg:?}"),
                Err(e) => format!("undecodable: {e}"),
            },
            (_, tag) => {
                let kind = if tag == Some(b'p') {
                    auth_kinds.pop_front().unwrap_or(AuthResponseKind::Password)
                } else {
                    AuthResponseKind::Password
                };
                match FrontendMessage::decode(tag, frame.body, kind).or_else(|_| {
                    FrontendMessage::decode(tag, frame.body, AuthResponseKind::Password)
                }) {
                    Ok(msg) => format!("{msg:?}"),
                    Err(e) => format!("undecodable: {e}"),
                }
            }
        };
        println!("{count:5} {line}");
    }
    if framer.buffered_len() > 0 {
        eprintln!(
            "{} bytes of an incomplete message at the end",
            framer.buffered_len()
        );
        return ExitCode::FAILURE;
    }
    eprintln!("{count} messages");
    ExitCode::SUCCESS
}
