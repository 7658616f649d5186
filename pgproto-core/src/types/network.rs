//! `inet` and `cidr`: [`PgInet`] (an address with a prefix length) and
//! `core::net::IpAddr` (the address alone).
//!
//! Binary (`inet_send`): family (2 = IPv4, 3 = IPv6, PostgreSQL's own numbers), prefix
//! bits, an is-cidr flag, the address length (4 or 16), the address bytes. Text is
//! `192.168.0.1/24`, with the prefix omitted for a full-length `inet` (`192.168.0.1`,
//! `::1`) but always shown for `cidr`; IPv6 is compressed exactly as PostgreSQL's
//! `inet_net_ntop` does (longest run of two or more zero groups, first on ties; IPv4 in
//! dotted form after `::` or `::ffff:`).
//!
//! Encoding a `cidr` rejects addresses with bits set to the right of the prefix, as the
//! server would. Decoding text accepts PostgreSQL's output, not its abbreviated `cidr`
//! input (`10/8`).

use core::fmt;
use core::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use core::str::FromStr;

use bytes::{BufMut, BytesMut};

use super::codec::{invalid, natural_type, owned_from_sql, trimmed, wrong_type, BinReader};
use super::{oid, Format, FromSql, IsNull, Oid, ToSql, TypeError};

/// `PGSQL_AF_INET`.
const FAMILY_INET: u8 = 2;
/// `PGSQL_AF_INET6` (`AF_INET + 1`, whatever the platform's `AF_INET6`).
const FAMILY_INET6: u8 = 3;

/// An `inet` or `cidr` value: an address and a prefix length (netmask bits).
///
/// ```
/// use pgproto_core::types::PgInet;
/// let net: PgInet = "2001:db8::1/64".parse().unwrap();
/// assert_eq!(net.prefix(), 64);
/// assert_eq!(net.to_string(), "2001:db8::1/64");
/// assert_eq!("::ffff:1.2.3.4".parse::<PgInet>().unwrap().to_string(), "::ffff:1.2.3.4");
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct PgInet {
    addr: IpAddr,
    prefix: u8,
}

impl PgInet {
    /// `addr/prefix`; `None` if `prefix` exceeds the address length (32 or 128).
    pub fn new(addr: IpAddr, prefix: u8) -> Option<Self> {
        (prefix <= max_prefix(addr)).then_some(Self { addr, prefix })
    }

    /// The address.
    pub fn addr(&self) -> IpAddr {
        self.addr
    }

    /// The prefix length in bits.
    pub fn prefix(&self) -> u8 {
        self.prefix
    }

    /// Whether no bit right of the prefix is set, as a `cidr` requires.
    pub fn is_network(&self) -> bool {
        let bits = self.prefix;
        match self.addr {
            IpAddr::V4(a) => u32::from(a).checked_shl(u32::from(bits)).unwrap_or(0) == 0,
            IpAddr::V6(a) => u128::from(a).checked_shl(u32::from(bits)).unwrap_or(0) == 0,
        }
    }

    /// Writes the text form; `cidr` always shows the prefix.
    fn write_text(&self, f: &mut impl fmt::Write, cidr: bool) -> fmt::Result {
        match self.addr {
            IpAddr::V4(a) => write!(f, "{a}")?,
            IpAddr::V6(a) => write_ipv6(f, &a)?,
        }
        if cidr || self.prefix != max_prefix(self.addr) {
            write!(f, "/{}", self.prefix)?;
        }
        Ok(())
    }
}

fn max_prefix(addr: IpAddr) -> u8 {
    match addr {
        IpAddr::V4(_) => 32,
        IpAddr::V6(_) => 128,
    }
}

impl From<IpAddr> for PgInet {
    /// A single host: the full prefix length.
    fn from(addr: IpAddr) -> Self {
        Self {
            addr,
            prefix: max_prefix(addr),
        }
    }
}

/// IPv6 as PostgreSQL's `inet_net_ntop_ipv6` prints it.
fn write_ipv6(f: &mut impl fmt::Write, addr: &Ipv6Addr) -> fmt::Result {
    let words = addr.segments();
    // Longest run of zero words (first one on ties), if at least 2 long.
    let (mut best_base, mut best_len) = (0usize, 0usize);
    let (mut cur_base, mut cur_len) = (0usize, 0usize);
    for (i, &w) in words.iter().enumerate() {
        if w == 0 {
            if cur_len == 0 {
                cur_base = i;
            }
            cur_len += 1;
            if cur_len > best_len {
                (best_base, best_len) = (cur_base, cur_len);
            }
        } else {
            cur_len = 0;
        }
    }
    let run = (best_len >= 2).then_some(best_base..best_base + best_len);
    let word = |i: usize| words.get(i).copied().unwrap_or(0);
    let mut i = 0;
    while i < 8 {
        if let Some(run) = run.as_ref().filter(|r| r.contains(&i)) {
            if i == run.start {
                f.write_char(':')?;
            }
            i += 1;
            continue;
        }
        if i != 0 {
            f.write_char(':')?;
        }
        // An embedded IPv4 address: ::a.b.c.d or ::ffff:a.b.c.d.
        if i == 6 && best_base == 0 && (best_len == 6 || (best_len == 5 && word(5) == 0xffff)) {
            let [.., a, b, c, d] = addr.octets();
            return write!(f, "{a}.{b}.{c}.{d}");
        }
        write!(f, "{:x}", word(i))?;
        i += 1;
    }
    if run.is_some_and(|r| r.end == 8) {
        f.write_char(':')?;
    }
    Ok(())
}

impl fmt::Display for PgInet {
    /// The `inet` text form (see [`PgInet`] for `cidr`'s, which always has the prefix).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.write_text(f, false)
    }
}

impl FromStr for PgInet {
    type Err = TypeError;

    /// `address[/prefix]`, IPv4 dotted quad or any IPv6 form.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let (addr, prefix) = match s.split_once('/') {
            Some((a, p)) => (a, Some(p)),
            None => (s, None),
        };
        let addr = if addr.contains(':') {
            Ipv6Addr::from_str(addr).map(IpAddr::V6)
        } else {
            Ipv4Addr::from_str(addr).map(IpAddr::V4)
        }
        .map_err(|_| invalid("inet", "invalid address"))?;
        let prefix = match prefix {
            None => max_prefix(addr),
            Some(p) if !p.is_empty() && p.len() <= 3 && p.bytes().all(|b| b.is_ascii_digit()) => p
                .parse()
                .map_err(|_| invalid("inet", "invalid prefix length"))?,
            Some(_) => return Err(invalid("inet", "invalid prefix length")),
        };
        Self::new(addr, prefix).ok_or(invalid("inet", "prefix length too large"))
    }
}

fn decode(oid: Oid, format: Format, raw: &[u8]) -> Result<PgInet, TypeError> {
    let type_name = if oid == oid::CIDR { "cidr" } else { "inet" };
    let v = match format {
        Format::Text => trimmed(type_name, raw)?.parse::<PgInet>()?,
        Format::Binary => {
            let mut r = BinReader::new(type_name, raw);
            let family = r.u8()?;
            let bits = r.u8()?;
            let _is_cidr = r.u8()?;
            let len = r.u8()?;
            let addr = match (family, len) {
                (FAMILY_INET, 4) => IpAddr::V4(Ipv4Addr::from(r.array::<4>()?)),
                (FAMILY_INET6, 16) => IpAddr::V6(Ipv6Addr::from(r.array::<16>()?)),
                (FAMILY_INET | FAMILY_INET6, _) => {
                    return Err(invalid(type_name, "invalid address length"))
                }
                _ => return Err(invalid(type_name, "invalid address family")),
            };
            r.finish()?;
            PgInet::new(addr, bits).ok_or(invalid(type_name, "invalid prefix length"))?
        }
    };
    if oid == oid::CIDR && !v.is_network() {
        return Err(invalid("cidr", "bits set to the right of the prefix"));
    }
    Ok(v)
}

fn encode(v: &PgInet, oid: Oid, format: Format, out: &mut BytesMut) -> Result<IsNull, TypeError> {
    let cidr = oid == oid::CIDR;
    if cidr && !v.is_network() {
        return Err(invalid("cidr", "bits set to the right of the prefix"));
    }
    match format {
        Format::Text => {
            let _ = v.write_text(out, cidr);
        }
        Format::Binary => match v.addr {
            IpAddr::V4(a) => {
                out.put_slice(&[FAMILY_INET, v.prefix, u8::from(cidr), 4]);
                out.put_slice(&a.octets());
            }
            IpAddr::V6(a) => {
                out.put_slice(&[FAMILY_INET6, v.prefix, u8::from(cidr), 16]);
                out.put_slice(&a.octets());
            }
        },
    }
    Ok(IsNull::No)
}

fn is_network_type(oid: Oid) -> bool {
    matches!(oid, oid::INET | oid::CIDR | oid::UNSPECIFIED)
}

impl<'a> FromSql<'a> for PgInet {
    fn from_sql(oid: Oid, format: Format, raw: &'a [u8]) -> Result<Self, TypeError> {
        if !is_network_type(oid) {
            return Err(wrong_type::<Self>(oid));
        }
        decode(oid, format, raw)
    }

    fn accepts(oid: Oid) -> bool {
        is_network_type(oid)
    }

    owned_from_sql!();
}

impl ToSql for PgInet {
    fn to_sql(&self, oid: Oid, format: Format, out: &mut BytesMut) -> Result<IsNull, TypeError> {
        if !is_network_type(oid) {
            return Err(wrong_type::<Self>(oid));
        }
        encode(self, oid, format, out)
    }

    fn accepts(oid: Oid) -> bool {
        is_network_type(oid)
    }

    natural_type!(oid::INET);
}

impl<'a> FromSql<'a> for IpAddr {
    /// The address of an `inet` or `cidr`; the prefix length is dropped.
    fn from_sql(oid: Oid, format: Format, raw: &'a [u8]) -> Result<Self, TypeError> {
        if !is_network_type(oid) {
            return Err(wrong_type::<Self>(oid));
        }
        decode(oid, format, raw).map(|v| v.addr)
    }

    fn accepts(oid: Oid) -> bool {
        is_network_type(oid)
    }

    owned_from_sql!();
}

impl ToSql for IpAddr {
    /// A host address (full prefix length); as a `cidr` it is a one-address network.
    fn to_sql(&self, oid: Oid, format: Format, out: &mut BytesMut) -> Result<IsNull, TypeError> {
        if !is_network_type(oid) {
            return Err(wrong_type::<Self>(oid));
        }
        encode(&PgInet::from(*self), oid, format, out)
    }

    fn accepts(oid: Oid) -> bool {
        is_network_type(oid)
    }

    natural_type!(oid::INET);
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::string::ToString;
    use alloc::vec::Vec;
    use proptest::prelude::*;

    fn hex(s: &str) -> Vec<u8> {
        (0..s.len())
            .step_by(2)
            .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
            .collect()
    }

    fn enc(v: &dyn ToSql, oid: Oid, format: Format) -> Vec<u8> {
        let mut out = BytesMut::new();
        v.to_sql(oid, format, &mut out).unwrap();
        out.to_vec()
    }

    /// `inet_out` and `inet_send` in PostgreSQL 15.x; the first column is the input.
    const INET: &[(&str, &str, &str)] = &[
        ("192.168.0.1/24", "192.168.0.1/24", "02180004c0a80001"),
        ("192.168.0.1", "192.168.0.1", "02200004c0a80001"),
        ("10.0.0.0/8", "10.0.0.0/8", "020800040a000000"),
        ("::1", "::1", "0380001000000000000000000000000000000001"),
        ("::", "::", "0380001000000000000000000000000000000000"),
        (
            "2001:db8::1/64",
            "2001:db8::1/64",
            "0340001020010db8000000000000000000000001",
        ),
        (
            "fe80::1:2:3:4",
            "fe80::1:2:3:4",
            "03800010fe800000000000000001000200030004",
        ),
        (
            "::ffff:1.2.3.4",
            "::ffff:1.2.3.4",
            "0380001000000000000000000000ffff01020304",
        ),
        (
            "::1.2.3.4",
            "::1.2.3.4",
            "0380001000000000000000000000000001020304",
        ),
        (
            "1:0:0:1:0:0:0:1",
            "1:0:0:1::1",
            "0380001000010000000000010000000000000001",
        ),
        (
            "1:0:0:0:1:0:0:1",
            "1::1:0:0:1",
            "0380001000010000000000000001000000000001",
        ),
        (
            "2001:db8:0:0:1:0:0:0",
            "2001:db8:0:0:1::",
            "0380001020010db8000000000001000000000000",
        ),
        ("1::", "1::", "0380001000010000000000000000000000000000"),
        (
            "::2:3:4:5:6:7:8",
            "0:2:3:4:5:6:7:8",
            "0380001000000002000300040005000600070008",
        ),
        (
            "1:2:3:4:5:6:7:8",
            "1:2:3:4:5:6:7:8",
            "0380001000010002000300040005000600070008",
        ),
        (
            "::ffff:0:0",
            "::ffff:0.0.0.0",
            "0380001000000000000000000000ffff00000000",
        ),
        (
            "0:0:0:0:0:1:0:0",
            "::1:0:0",
            "0380001000000000000000000000000100000000",
        ),
        (
            "::0.0.1.0",
            "::100",
            "0380001000000000000000000000000000000100",
        ),
        ("0.0.0.0/0", "0.0.0.0/0", "0200000400000000"),
        ("255.255.255.255/32", "255.255.255.255", "02200004ffffffff"),
        (
            "::ffff:1.2.3.4/120",
            "::ffff:1.2.3.4/120",
            "0378001000000000000000000000ffff01020304",
        ),
        (
            "::1:0:0:0",
            "::1:0:0:0",
            "0380001000000000000000000001000000000000",
        ),
        (
            "::fffe:1.2.3.4",
            "::fffe:102:304",
            "0380001000000000000000000000fffe01020304",
        ),
        (
            "::1:ffff:1.2.3.4",
            "::1:ffff:102:304",
            "0380001000000000000000000001ffff01020304",
        ),
        (
            "1:0:1:0:1:0:1:0",
            "1:0:1:0:1:0:1:0",
            "0380001000010000000100000001000000010000",
        ),
        (
            "::0:0.0.0.1",
            "::1",
            "0380001000000000000000000000000000000001",
        ),
    ];

    /// `cidr_out` and `cidr_send` in PostgreSQL 15.x.
    const CIDR: &[(&str, &str)] = &[
        ("192.168.0.0/24", "02180104c0a80000"),
        ("10.0.0.0/8", "020801040a000000"),
        ("2001:db8::/32", "0320011020010db8000000000000000000000000"),
        ("1.2.3.4/32", "0220010401020304"),
        ("::/0", "0300011000000000000000000000000000000000"),
        ("::1/128", "0380011000000000000000000000000000000001"),
    ];

    #[test]
    fn inet_vectors() {
        for &(input, shown, bin) in INET {
            let bin = hex(bin);
            let v: PgInet = input.parse().unwrap();
            assert_eq!(v.to_string(), shown, "{input}");
            assert_eq!(enc(&v, oid::INET, Format::Binary), bin, "{input}");
            assert_eq!(PgInet::from_sql(oid::INET, Format::Binary, &bin), Ok(v));
            assert_eq!(
                PgInet::from_sql(oid::INET, Format::Text, shown.as_bytes()),
                Ok(v)
            );
        }
    }

    #[test]
    fn cidr_vectors() {
        for &(text, bin) in CIDR {
            let bin = hex(bin);
            let v = PgInet::from_sql(oid::CIDR, Format::Text, text.as_bytes()).unwrap();
            assert_eq!(enc(&v, oid::CIDR, Format::Binary), bin, "{text}");
            assert_eq!(enc(&v, oid::CIDR, Format::Text), text.as_bytes());
            assert_eq!(PgInet::from_sql(oid::CIDR, Format::Binary, &bin), Ok(v));
        }
        let host: PgInet = "192.168.0.1/24".parse().unwrap();
        let mut out = BytesMut::new();
        assert!(host.to_sql(oid::CIDR, Format::Binary, &mut out).is_err());
        assert!(PgInet::from_sql(oid::CIDR, Format::Text, b"192.168.0.1/24").is_err());
        assert!(PgInet::from_sql(oid::CIDR, Format::Binary, &hex("02180104c0a80001")).is_err());
    }

    #[test]
    fn ip_addr() {
        let a: IpAddr = "::1".parse().unwrap();
        assert_eq!(enc(&a, 0, Format::Text), b"::1");
        assert_eq!(enc(&a, oid::CIDR, Format::Text), b"::1/128");
        assert_eq!(
            IpAddr::from_sql(oid::INET, Format::Text, b"10.1.2.3/8"),
            Ok("10.1.2.3".parse().unwrap())
        );
    }

    #[test]
    fn bad_input() {
        for bad in [
            "",
            "1.2.3",
            "1.2.3.4/33",
            "::/129",
            "1.2.3.4/",
            "1.2.3.4/-1",
            "x",
            "1.2.3.4/ 8",
        ] {
            assert!(bad.parse::<PgInet>().is_err(), "{bad}");
        }
        for bad in [
            "",
            "0220000401020304ff",
            "022000050102030405",
            "0420000401020304",
            "0221000401020304",
            "0381001000000000000000000000000000000001",
            "03800004ffffffff",
        ] {
            assert!(
                PgInet::from_sql(oid::INET, Format::Binary, &hex(bad)).is_err(),
                "{bad}"
            );
        }
    }

    fn arb_inet() -> impl Strategy<Value = PgInet> {
        prop_oneof![
            (any::<[u8; 4]>(), 0u8..=32)
                .prop_map(|(a, p)| PgInet::new(IpAddr::from(a), p).unwrap()),
            (any::<[u16; 8]>(), 0u8..=128, 0usize..8, 0usize..8).prop_map(|(mut w, p, zs, zl)| {
                // Plenty of zero runs, to exercise the compression.
                for x in w.iter_mut().skip(zs).take(zl) {
                    *x = 0;
                }
                PgInet::new(IpAddr::from(w), p).unwrap()
            }),
        ]
    }

    proptest! {
        #[test]
        fn roundtrips(v in arb_inet()) {
            for format in [Format::Binary, Format::Text] {
                let bytes = enc(&v, oid::INET, format);
                prop_assert_eq!(PgInet::from_sql(oid::INET, format, &bytes), Ok(v));
            }
            // The compressed IPv6 text is a valid address that the standard parser reads back.
            prop_assert_eq!(v.to_string().parse::<PgInet>(), Ok(v));
        }

        #[test]
        fn random_bytes_never_panic(raw in proptest::collection::vec(any::<u8>(), 0..24)) {
            for o in [oid::INET, oid::CIDR] {
                for format in [Format::Binary, Format::Text] {
                    let _ = PgInet::from_sql(o, format, &raw);
                }
            }
        }
    }
}
