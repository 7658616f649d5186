//! Connection managers for the pools users already run: `deadpool` (feature
//! `deadpool`, module `deadpool`) and `bb8` (feature `bb8`, module `bb8`). (Not
//! links: with one feature on, the other crate is not there to link to.)
//!
//! Both check a connection when it is handed out again: a closed connection is
//! discarded at once, an open one must answer an empty simple query (one round trip, no
//! work on the server). A connection whose task ended (the server went away, or
//! `pg_terminate_backend`) is never handed out.

use crate::{Client, Error};

/// What both managers run: connect with a conninfo string.
#[derive(Debug, Clone)]
struct Connector {
    conninfo: String,
}

impl Connector {
    async fn connect(&self) -> Result<Client, Error> {
        Client::connect(&self.conninfo).await
    }

    /// The health check: open, idle enough to take a query, and answering.
    async fn check(client: &Client) -> Result<(), Error> {
        if client.is_closed() {
            return Err(Error::ConnectionClosed);
        }
        client.simple_query("").await.map(drop)
    }
}

/// A [`deadpool`](::deadpool) manager of [`Client`]s.
///
/// ```no_run
/// # async fn demo() -> Result<(), Box<dyn std::error::Error>> {
/// use pgproto_tokio::pool::deadpool::{Manager, Pool};
/// let pool = Pool::builder(Manager::new("host=localhost user=postgres")).max_size(16).build()?;
/// let client = pool.get().await?;
/// client.simple_query("select 1").await?;
/// # Ok(()) }
/// ```
#[cfg(feature = "deadpool")]
pub mod deadpool {
    use super::Connector;
    use crate::{Client, Error};
    use deadpool::managed::{Metrics, RecycleError, RecycleResult};

    /// A pool of [`Client`]s.
    pub type Pool = deadpool::managed::Pool<Manager>;
    /// A [`Client`] checked out of a [`Pool`] (dereferences to it).
    pub type Object = deadpool::managed::Object<Manager>;

    /// Creates connections from a conninfo string and checks them on recycle.
    #[derive(Debug, Clone)]
    pub struct Manager {
        connector: Connector,
    }

    impl Manager {
        /// A manager connecting with `conninfo` (URL or `key=value`, completed by the
        /// `PG*` environment as [`Client::connect`]).
        pub fn new(conninfo: impl Into<String>) -> Self {
            Self {
                connector: Connector {
                    conninfo: conninfo.into(),
                },
            }
        }
    }

    impl deadpool::managed::Manager for Manager {
        type Type = Client;
        type Error = Error;

        async fn create(&self) -> Result<Client, Error> {
            self.connector.connect().await
        }

        async fn recycle(&self, client: &mut Client, _: &Metrics) -> RecycleResult<Error> {
            Connector::check(client)
                .await
                .map_err(RecycleError::Backend)
        }
    }
}

/// A [`bb8`](::bb8) manager of [`Client`]s.
///
/// ```no_run
/// # async fn demo() -> Result<(), Box<dyn std::error::Error>> {
/// use pgproto_tokio::pool::bb8::Manager;
/// let pool = bb8::Pool::builder().max_size(16).build(Manager::new("host=localhost user=postgres")).await?;
/// let client = pool.get().await?;
/// client.simple_query("select 1").await?;
/// # Ok(()) }
/// ```
#[cfg(feature = "bb8")]
pub mod bb8 {
    use super::Connector;
    use crate::{Client, Error};

    /// Creates connections from a conninfo string; checks them on checkout (bb8's
    /// `test_on_check_out`, on by default) and discards closed ones when returned.
    #[derive(Debug, Clone)]
    pub struct Manager {
        connector: Connector,
    }

    impl Manager {
        /// A manager connecting with `conninfo` (URL or `key=value`, completed by the
        /// `PG*` environment as [`Client::connect`]).
        pub fn new(conninfo: impl Into<String>) -> Self {
            Self {
                connector: Connector {
                    conninfo: conninfo.into(),
                },
            }
        }
    }

    impl bb8::ManageConnection for Manager {
        type Connection = Client;
        type Error = Error;

        async fn connect(&self) -> Result<Client, Error> {
            self.connector.connect().await
        }

        async fn is_valid(&self, client: &mut Client) -> Result<(), Error> {
            Connector::check(client).await
        }

        fn has_broken(&self, client: &mut Client) -> bool {
            client.is_closed()
        }
    }
}
