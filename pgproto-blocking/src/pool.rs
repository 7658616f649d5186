//! An `r2d2` connection manager (feature `r2d2`).
//!
//! A connection is checked when it is handed out (r2d2's `test_on_check_out`, on by
//! default): it must answer an empty simple query. A connection whose socket failed or
//! whose session the server ended is discarded when it comes back to the pool.
//!
//! ```no_run
//! # fn demo() -> Result<(), Box<dyn std::error::Error>> {
//! use pgproto_blocking::pool::Manager;
//! let pool = r2d2::Pool::builder().max_size(16).build(Manager::new("host=localhost user=postgres"))?;
//! let mut client = pool.get()?;
//! client.simple_query("select 1")?;
//! # Ok(()) }
//! ```

use crate::{Client, Error};

/// Creates [`Client`]s from a conninfo string and checks them.
#[derive(Debug, Clone)]
pub struct Manager {
    conninfo: String,
}

impl Manager {
    /// A manager connecting with `conninfo` (URL or `key=value`, completed by the `PG*`
    /// environment as [`Client::connect`]).
    pub fn new(conninfo: impl Into<String>) -> Self {
        Self {
            conninfo: conninfo.into(),
        }
    }
}

impl r2d2::ManageConnection for Manager {
    type Connection = Client;
    type Error = Error;

    fn connect(&self) -> Result<Client, Error> {
        Client::connect(&self.conninfo)
    }

    fn is_valid(&self, client: &mut Client) -> Result<(), Error> {
        if client.is_closed() {
            return Err(Error::ConnectionClosed);
        }
        client.simple_query("").map(drop)
    }

    fn has_broken(&self, client: &mut Client) -> bool {
        client.is_closed()
    }
}
