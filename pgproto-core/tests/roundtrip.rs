//! Property tests: for every message in both directions, decoding what was encoded gives
//! the message back, re-encoding the decoded message gives the same bytes, and a stream of
//! messages split at random boundaries frames and decodes identically.

mod support;

use bytes::BytesMut;
use pgproto_core::message::{BackendMessage, FrontendMessage};
use pgproto_core::wire::Direction;
use proptest::prelude::*;
use support::*;

fn check_frontend_roundtrip(owned: &OwnedFrontend) {
    let bytes = encode_frontend(owned);
    let mut framer_frames = frames(Direction::Frontend, &bytes, &[bytes.len()]).map(|mut f| {
        assert_eq!(f.len(), 1, "one message gives one frame");
        f.remove(0)
    });
    // Tagged messages are framed after a startup phase; set it up by framing with a
    // StartupMessage in front when needed.
    if !owned.is_startup_packet() {
        let mut stream = encode_frontend(&OwnedFrontend::Startup(0, vec![]));
        stream.extend_from_slice(&bytes);
        framer_frames = frames(Direction::Frontend, &stream, &[stream.len()]).map(|mut f| {
            assert_eq!(f.len(), 2);
            f.remove(1)
        });
    }
    let frame = framer_frames.expect("frames");
    owned.with(|msg| {
        assert_eq!(frame.tag, msg.tag());
        let decoded =
            FrontendMessage::decode(frame.tag, &frame.body, owned.auth_kind()).expect("decodes");
        assert_eq!(decoded, msg);
        let mut again = BytesMut::new();
        decoded.encode(&mut again).expect("re-encodes");
        assert_eq!(again, bytes);
    });
}

fn check_backend_roundtrip(owned: &OwnedBackend) {
    let bytes = encode_backend(owned);
    let frames = frames(Direction::Backend, &bytes, &[bytes.len()]).expect("frames");
    assert_eq!(frames.len(), 1);
    let frame = &frames[0];
    owned.with(|msg| {
        assert_eq!(frame.tag, Some(msg.tag()));
        let decoded = BackendMessage::decode(msg.tag(), &frame.body).expect("decodes");
        assert_eq!(decoded, msg);
        let mut again = BytesMut::new();
        decoded.encode(&mut again).expect("re-encodes");
        assert_eq!(again, bytes);
    });
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    #[test]
    fn frontend_messages_roundtrip(owned in any_frontend()) {
        check_frontend_roundtrip(&owned);
    }

    #[test]
    fn backend_messages_roundtrip(owned in any_backend()) {
        check_backend_roundtrip(&owned);
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(300))]

    #[test]
    fn backend_stream_is_chunking_invariant(
        msgs in proptest::collection::vec(any_backend(), 1..40),
        splits in proptest::collection::vec(1usize..64, 1..16),
    ) {
        let mut stream = BytesMut::new();
        for m in &msgs {
            stream.extend_from_slice(&encode_backend(m));
        }
        let whole = frames(Direction::Backend, &stream, &[stream.len()]).unwrap();
        let split = frames(Direction::Backend, &stream, &splits).unwrap();
        prop_assert_eq!(&whole, &split);
        prop_assert_eq!(whole.len(), msgs.len());
        let whole_msgs = decode_backend(&whole).unwrap();
        let split_msgs = decode_backend(&split).unwrap();
        prop_assert_eq!(&whole_msgs, &split_msgs);
        let expected: Vec<String> = msgs.iter().map(|m| m.with(|m| format!("{m:?}"))).collect();
        prop_assert_eq!(whole_msgs, expected);
    }

    #[test]
    fn frontend_stream_is_chunking_invariant(
        ssl_first in any::<bool>(),
        startup in (prop_oneof![Just(0u16), Just(2u16)], proptest::collection::vec((name(), text()), 1..4)),
        msgs in proptest::collection::vec(tagged_frontend(), 0..40),
        splits in proptest::collection::vec(1usize..64, 1..16),
    ) {
        let mut all = Vec::new();
        if ssl_first {
            all.push(OwnedFrontend::SslRequest);
        }
        all.push(OwnedFrontend::Startup(startup.0, startup.1));
        all.extend(msgs);
        let mut stream = BytesMut::new();
        for m in &all {
            stream.extend_from_slice(&encode_frontend(m));
        }
        let whole = frames(Direction::Frontend, &stream, &[stream.len()]).unwrap();
        let split = frames(Direction::Frontend, &stream, &splits).unwrap();
        prop_assert_eq!(&whole, &split);
        prop_assert_eq!(whole.len(), all.len());
        for (frame, owned) in whole.iter().zip(&all) {
            let decoded = FrontendMessage::decode(frame.tag, &frame.body, owned.auth_kind()).unwrap();
            owned.with(|msg| assert_eq!(decoded, msg));
        }
    }

    /// Arbitrary bytes never panic the framer or the decoders, whatever the direction.
    #[test]
    fn random_bytes_never_panic(
        bytes in proptest::collection::vec(any::<u8>(), 0..256),
        piece in 1usize..16,
    ) {
        use pgproto_core::message::AuthResponseKind;
        use pgproto_core::wire::{Framer, Limits};
        for direction in [Direction::Frontend, Direction::Backend] {
            let mut framer = Framer::new(direction, Limits::default());
            'feed: for chunk in bytes.chunks(piece) {
                framer.push(chunk);
                loop {
                    match framer.next_frame_ref() {
                        Ok(Some(f)) => match (direction, f.tag) {
                            (Direction::Backend, Some(tag)) => {
                                let _ = BackendMessage::decode(tag, f.body);
                            }
                            (_, tag) => {
                                for kind in [
                                    AuthResponseKind::Password,
                                    AuthResponseKind::SaslInitial,
                                    AuthResponseKind::Sasl,
                                    AuthResponseKind::Gss,
                                ] {
                                    let _ = FrontendMessage::decode(tag, f.body, kind);
                                }
                            }
                        },
                        Ok(None) => break,
                        Err(_) => break 'feed,
                    }
                }
            }
        }
        // Bodies decoded directly, without framing.
        for tag in 0u8..=255 {
            let _ = BackendMessage::decode(tag, &bytes);
            let _ = FrontendMessage::decode(Some(tag), &bytes, AuthResponseKind::SaslInitial);
        }
        let _ = FrontendMessage::decode(None, &bytes, AuthResponseKind::Password);
    }
}
