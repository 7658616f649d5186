//! The conformance suite's macros for the async adapters (see `../mod.rs`): scenarios
//! are `async fn`s, `aw!` awaits, and each test hands a fresh scenario future to the
//! adapter's `run_each` (once per executor it runs under).

/// An `async fn`.
macro_rules! maybe_async {
    ($(#[$m:meta])* fn $($rest:tt)*) => { $(#[$m])* async fn $($rest)* };
}

/// `expr.await`.
macro_rules! aw {
    ($e:expr) => {
        $e.await
    };
}

/// A `#[test]` running the body on each of the adapter's runtimes.
macro_rules! conformance_test {
    ($(#[$m:meta])* fn $name:ident() $body:block) => {
        $(#[$m])*
        #[test]
        fn $name() {
            crate::adapter::run_each(|| async move $body);
        }
    };
}

/// Items or statements only the async adapters compile (concurrent calls on one client).
macro_rules! async_only {
    ($($tokens:tt)*) => { $($tokens)* };
}
