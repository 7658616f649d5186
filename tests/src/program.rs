//! A server program under test, run as a child process: started, asked where it listens
//! (from the `listening on ADDR` line it prints to stderr), killed on drop.

use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::process::{Child, Command, Stdio};

/// A running server program; killed when dropped.
#[derive(Debug)]
pub struct Program {
    child: Child,
    /// Where it listens.
    pub addr: SocketAddr,
}

impl Program {
    /// Starts `cmd` and waits for the `listening on ADDR` line on its stderr (the rest of
    /// its stderr is passed through). An error if it exits first.
    pub fn start(cmd: &mut Command) -> std::io::Result<Self> {
        let mut child = cmd.stdin(Stdio::null()).stderr(Stdio::piped()).spawn()?;
        let Some(stderr) = child.stderr.take() else {
            return Err(std::io::Error::other("no stderr"));
        };
        let mut lines = BufReader::new(stderr).lines();
        let addr = lines.by_ref().map_while(Result::ok).find_map(|line| {
            eprintln!("{line}");
            line.split("listening on ")
                .nth(1)?
                .split_whitespace()
                .next()?
                .parse()
                .ok()
        });
        let Some(addr) = addr else {
            let status = child.wait()?;
            return Err(std::io::Error::other(format!(
                "exited before listening: {status}"
            )));
        };
        // Keep draining stderr, so that the program never blocks writing to it.
        std::thread::spawn(move || lines.map_while(Result::ok).for_each(|l| eprintln!("{l}")));
        Ok(Self { child, addr })
    }
}

impl Drop for Program {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
