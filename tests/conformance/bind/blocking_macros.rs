//! The conformance suite's macros for the blocking adapter (see `../mod.rs`):
//! scenarios are plain `fn`s, `aw!` is the expression itself, tests run on their own
//! thread.

/// A plain `fn`.
macro_rules! maybe_async {
    ($(#[$m:meta])* fn $($rest:tt)*) => { $(#[$m])* fn $($rest)* };
}

/// The expression, unchanged.
macro_rules! aw {
    ($e:expr) => {
        $e
    };
}

/// A `#[test]` running the body.
macro_rules! conformance_test {
    ($(#[$m:meta])* fn $name:ident() $body:block) => {
        $(#[$m])*
        #[test]
        fn $name() $body
    };
}

/// Nothing: the async-only scenarios are not compiled.
#[allow(unused_macros)]
macro_rules! async_only {
    ($($tokens:tt)*) => {};
}
