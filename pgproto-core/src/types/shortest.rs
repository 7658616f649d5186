//! The decimal digits PostgreSQL prints for a `float8`/`float4` (`extra_float_digits`
//! > 0, the default since PostgreSQL 12).
//!
//! PostgreSQL uses Ryu (`src/common/d2s.c`, `f2s.c`), built so that it never prints
//! the exact midpoint between two floats (`5.7462099999999997e+20` where `5.74621e+20`
//! would read back correctly under round-half-even), and Ryu breaks ties between two
//! shortest candidates towards an even last digit. Rust's `{:e}` differs in both, so
//! this module reproduces Ryu's decisions
//! exactly: the same `q`, the same trailing-zero tests and the same digit-removal loop,
//! with the products that Ryu reads from its tables computed by exact big-integer
//! arithmetic instead. That is slower than Ryu but small, and only text output uses it.

use alloc::vec::Vec;

/// An unsigned big integer, little-endian base-2^32 limbs.
struct Big(Vec<u32>);

/// 5^13, the largest power of 5 below 2^32.
const POW5_13: u32 = 1_220_703_125;

impl Big {
    fn from_u64(v: u64) -> Self {
        let [a, b, c, d, e, f, g, h] = v.to_le_bytes();
        Self(alloc::vec![
            u32::from_le_bytes([a, b, c, d]),
            u32::from_le_bytes([e, f, g, h])
        ])
    }

    fn mul_small(&mut self, m: u32) {
        let mut carry = 0u64;
        for limb in &mut self.0 {
            let v = u64::from(*limb) * u64::from(m) + carry;
            *limb = (v & 0xffff_ffff) as u32;
            carry = v >> 32;
        }
        if carry > 0 {
            self.0.push((carry & 0xffff_ffff) as u32);
        }
    }

    /// Divides in place, rounding down.
    fn div_small(&mut self, d: u32) {
        let mut rem = 0u64;
        for limb in self.0.iter_mut().rev() {
            let v = (rem << 32) | u64::from(*limb);
            *limb = (v / u64::from(d)) as u32;
            rem = v % u64::from(d);
        }
        self.trim();
    }

    fn trim(&mut self) {
        while self.0.last() == Some(&0) {
            self.0.pop();
        }
    }

    fn mul_pow5(&mut self, mut n: u32) {
        while n >= 13 {
            self.mul_small(POW5_13);
            n -= 13;
        }
        self.mul_small(5u32.pow(n));
    }

    /// floor(self / 5^n): repeated floor divisions equal one.
    fn div_pow5(&mut self, mut n: u32) {
        while n >= 13 {
            self.div_small(POW5_13);
            n -= 13;
        }
        self.div_small(5u32.pow(n));
    }

    fn shl(&mut self, bits: u32) {
        let words = (bits / 32) as usize;
        let bits = bits % 32;
        if bits > 0 {
            let mut carry = 0u32;
            for limb in &mut self.0 {
                let v = (*limb << bits) | carry;
                carry = *limb >> (32 - bits);
                *limb = v;
            }
            if carry > 0 {
                self.0.push(carry);
            }
        }
        let mut shifted = alloc::vec![0u32; words];
        shifted.append(&mut self.0);
        self.0 = shifted;
    }

    fn shr(&mut self, bits: u32) {
        let words = ((bits / 32) as usize).min(self.0.len());
        self.0.drain(..words);
        let bits = bits % 32;
        if bits > 0 {
            let mut carry = 0u32;
            for limb in self.0.iter_mut().rev() {
                let v = (*limb >> bits) | carry;
                carry = *limb << (32 - bits);
                *limb = v;
            }
        }
        self.trim();
    }

    /// The low 64 bits (the callers' values always fit).
    fn to_u64(&self) -> u64 {
        let lo = self.0.first().copied().unwrap_or(0);
        let hi = self.0.get(1).copied().unwrap_or(0);
        (u64::from(hi) << 32) | u64::from(lo)
    }
}

/// floor(m × 2^e2 / 10^e10) for the two shapes Ryu uses: `e2 >= 0` with `e10 = q`, or
/// `e2 < 0` with `e10 = q + e2`.
fn scaled(m: u64, e2: i32, q: u32) -> u64 {
    let mut b = Big::from_u64(m);
    if e2 >= 0 {
        // m × 2^(e2 - q) / 5^q, and q <= e2.
        b.shl(e2.unsigned_abs().saturating_sub(q));
        b.div_pow5(q);
    } else {
        // m × 5^(-e2 - q) / 2^q, and q <= -e2.
        b.mul_pow5(e2.unsigned_abs().saturating_sub(q));
        b.shr(q);
    }
    b.to_u64()
}

/// floor(e × log10(2)), Ryu's `log10Pow2` (exact for 0 <= e <= 1650).
fn log10_pow2(e: u32) -> u32 {
    (e * 78_913) >> 18
}

/// floor(e × log10(5)), Ryu's `log10Pow5` (exact for 0 <= e <= 2620).
fn log10_pow5(e: u32) -> u32 {
    (e * 732_923) >> 20
}

fn multiple_of_pow5(v: u64, p: u32) -> bool {
    5u64.checked_pow(p).is_some_and(|d| v % d == 0)
}

fn multiple_of_pow2(v: u64, p: u32) -> bool {
    p < 64 && v & ((1u64 << p) - 1) == 0
}

/// Ryu's digit removal: `(output, removed)`.
#[allow(clippy::too_many_arguments)]
fn remove_digits(
    mut vr: u64,
    mut vp: u64,
    mut vm: u64,
    mut vm_trailing_zeros: bool,
    mut vr_trailing_zeros: bool,
    accept_bounds: bool,
    mut last_removed: u64,
) -> (u64, i32) {
    let mut removed = 0;
    if vm_trailing_zeros || vr_trailing_zeros {
        while vp / 10 > vm / 10 {
            vm_trailing_zeros &= vm % 10 == 0;
            vr_trailing_zeros &= last_removed == 0;
            last_removed = vr % 10;
            vr /= 10;
            vp /= 10;
            vm /= 10;
            removed += 1;
        }
        if vm_trailing_zeros {
            while vm % 10 == 0 && vm != 0 {
                vr_trailing_zeros &= last_removed == 0;
                last_removed = vr % 10;
                vr /= 10;
                vm /= 10;
                removed += 1;
            }
        }
        if vr_trailing_zeros && last_removed == 5 && vr % 2 == 0 {
            // Round to even when the exact value is ...50000.
            last_removed = 4;
        }
        let up = (vr == vm && (!accept_bounds || !vm_trailing_zeros)) || last_removed >= 5;
        (vr + u64::from(up), removed)
    } else {
        while vp / 10 > vm / 10 {
            last_removed = vr % 10;
            vr /= 10;
            vp /= 10;
            vm /= 10;
            removed += 1;
        }
        (vr + u64::from(vr == vm || last_removed >= 5), removed)
    }
}

/// Strips trailing decimal zeros into the exponent (the small-integer path).
fn small_int(mut m: u64) -> (u64, i32) {
    let mut e = 0;
    while m != 0 && m % 10 == 0 {
        m /= 10;
        e += 1;
    }
    (m, e)
}

/// Shortest digits of a finite, non-zero `f64` magnitude as PostgreSQL's `d2s.c`
/// computes them: `(digits, exponent)` with value = digits × 10^exponent.
pub(crate) fn f64_digits(v: f64) -> (u64, i32) {
    const MANTISSA_BITS: u32 = 52;
    const BIAS: i32 = 1023;
    let bits = v.to_bits();
    let ieee_mantissa = bits & ((1u64 << MANTISSA_BITS) - 1);
    let ieee_exponent = i32::try_from((bits >> MANTISSA_BITS) & 0x7ff).unwrap_or(0);

    // d2d_small_int: integers in [1, 2^53).
    let e2 = ieee_exponent - BIAS - MANTISSA_BITS as i32;
    if ieee_exponent != 0 && (-(MANTISSA_BITS as i32)..=0).contains(&e2) {
        let shift = e2.unsigned_abs();
        if ieee_mantissa & ((1u64 << shift) - 1) == 0 {
            return small_int(((1u64 << MANTISSA_BITS) | ieee_mantissa) >> shift);
        }
    }

    let (e2, m2) = if ieee_exponent == 0 {
        (1 - BIAS - MANTISSA_BITS as i32 - 2, ieee_mantissa)
    } else {
        (
            ieee_exponent - BIAS - MANTISSA_BITS as i32 - 2,
            (1u64 << MANTISSA_BITS) | ieee_mantissa,
        )
    };
    // PostgreSQL builds Ryu with STRICTLY_SHORTEST 0: never print the exact midpoint
    // between two floats, even where round-half-even would read it back correctly.
    let accept_bounds = false;
    let mv = 4 * m2;
    let mm_shift = u64::from(ieee_mantissa != 0 || ieee_exponent <= 1);
    let mp = mv + 2;
    let mm = mv - 1 - mm_shift;
    let mut vm_trailing_zeros = false;
    let mut vr_trailing_zeros = false;
    let (e10, vr, mut vp, vm);
    if e2 >= 0 {
        let e = e2.unsigned_abs();
        let q = log10_pow2(e) - u32::from(e2 > 3);
        e10 = i32::try_from(q).unwrap_or(0);
        vr = scaled(mv, e2, q);
        vp = scaled(mp, e2, q);
        vm = scaled(mm, e2, q);
        if q <= 21 {
            if mv % 5 == 0 {
                vr_trailing_zeros = multiple_of_pow5(mv, q);
            } else if accept_bounds {
                vm_trailing_zeros = multiple_of_pow5(mm, q);
            } else {
                vp = vp.wrapping_sub(u64::from(multiple_of_pow5(mp, q)));
            }
        }
    } else {
        let e = e2.unsigned_abs();
        let q = log10_pow5(e) - u32::from(e > 1);
        e10 = i32::try_from(q).unwrap_or(0) + e2;
        vr = scaled(mv, e2, q);
        vp = scaled(mp, e2, q);
        vm = scaled(mm, e2, q);
        if q <= 1 {
            vr_trailing_zeros = true;
            if accept_bounds {
                vm_trailing_zeros = mm_shift == 1;
            } else {
                vp = vp.wrapping_sub(1);
            }
        } else if q < 63 {
            vr_trailing_zeros = multiple_of_pow2(mv, q - 1);
        }
    }
    let (output, removed) = remove_digits(
        vr,
        vp,
        vm,
        vm_trailing_zeros,
        vr_trailing_zeros,
        accept_bounds,
        0,
    );
    (output, e10 + removed)
}

/// Shortest digits of a finite, non-zero `f32` magnitude as PostgreSQL's `f2s.c`
/// computes them.
pub(crate) fn f32_digits(v: f32) -> (u64, i32) {
    const MANTISSA_BITS: u32 = 23;
    const BIAS: i32 = 127;
    let bits = v.to_bits();
    let ieee_mantissa = u64::from(bits & ((1u32 << MANTISSA_BITS) - 1));
    let ieee_exponent = i32::try_from((bits >> MANTISSA_BITS) & 0xff).unwrap_or(0);

    // f2d_small_int: integers in [1, 2^24).
    let e2 = ieee_exponent - BIAS - MANTISSA_BITS as i32;
    if ieee_exponent != 0 && (-(MANTISSA_BITS as i32)..=0).contains(&e2) {
        let shift = e2.unsigned_abs();
        if ieee_mantissa & ((1u64 << shift) - 1) == 0 {
            return small_int(((1u64 << MANTISSA_BITS) | ieee_mantissa) >> shift);
        }
    }

    let (e2, m2) = if ieee_exponent == 0 {
        (1 - BIAS - MANTISSA_BITS as i32 - 2, ieee_mantissa)
    } else {
        (
            ieee_exponent - BIAS - MANTISSA_BITS as i32 - 2,
            (1u64 << MANTISSA_BITS) | ieee_mantissa,
        )
    };
    // PostgreSQL builds Ryu with STRICTLY_SHORTEST 0: never print the exact midpoint
    // between two floats, even where round-half-even would read it back correctly.
    let accept_bounds = false;
    let mv = 4 * m2;
    let mp = mv + 2;
    let mm_shift = u64::from(ieee_mantissa != 0 || ieee_exponent <= 1);
    let mm = mv - 1 - mm_shift;
    let mut vm_trailing_zeros = false;
    let mut vr_trailing_zeros = false;
    let mut last_removed = 0;
    let (e10, vr, mut vp, vm);
    if e2 >= 0 {
        let q = log10_pow2(e2.unsigned_abs());
        e10 = i32::try_from(q).unwrap_or(0);
        vr = scaled(mv, e2, q);
        vp = scaled(mp, e2, q);
        vm = scaled(mm, e2, q);
        if q != 0 && vp.wrapping_sub(1) / 10 <= vm / 10 {
            last_removed = scaled(mv, e2, q - 1) % 10;
        }
        if q <= 9 {
            if mv % 5 == 0 {
                vr_trailing_zeros = multiple_of_pow5(mv, q);
            } else if accept_bounds {
                vm_trailing_zeros = multiple_of_pow5(mm, q);
            } else {
                vp = vp.wrapping_sub(u64::from(multiple_of_pow5(mp, q)));
            }
        }
    } else {
        let q = log10_pow5(e2.unsigned_abs());
        e10 = i32::try_from(q).unwrap_or(0) + e2;
        vr = scaled(mv, e2, q);
        vp = scaled(mp, e2, q);
        vm = scaled(mm, e2, q);
        if q != 0 && vp.wrapping_sub(1) / 10 <= vm / 10 {
            last_removed = scaled(mv, e2, q - 1) % 10;
        }
        if q <= 1 {
            vr_trailing_zeros = true;
            if accept_bounds {
                vm_trailing_zeros = mm_shift == 1;
            } else {
                vp = vp.wrapping_sub(1);
            }
        } else if q < 31 {
            vr_trailing_zeros = multiple_of_pow2(mv, q - 1);
        }
    }
    let (output, removed) = remove_digits(
        vr,
        vp,
        vm,
        vm_trailing_zeros,
        vr_trailing_zeros,
        accept_bounds,
        last_removed,
    );
    (output, e10 + removed)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn big_arithmetic() {
        assert_eq!(scaled(12345, 10, 2), 12345 * 1024 / 100);
        assert_eq!(scaled(12345, -10, 2), 12345 * 5u64.pow(8) / 4);
        let mut b = Big::from_u64(u64::MAX);
        b.shl(100);
        b.shr(100);
        assert_eq!(b.to_u64(), u64::MAX);
        b.mul_pow5(40);
        b.div_pow5(40);
        assert_eq!(b.to_u64(), u64::MAX);
    }

    #[test]
    fn ryu_cases() {
        // Where Ryu (and so PostgreSQL) is not the shortest round-trip, or breaks a
        // tie towards even; checked against PostgreSQL 15.x.
        assert_eq!(
            f64_digits(f64::from_bits(0x443f2677e30707bc)),
            (57462099999999997, 4)
        );
        assert_eq!(f32_digits(f32::from_bits(0x4898d324)), (31298512, -2));
        assert_eq!(f64_digits(1.0), (1, 0));
        assert_eq!(f64_digits(0.1), (1, -1));
        assert_eq!(f64_digits(5e-324), (5, -324));
        assert_eq!(f64_digits(f64::MAX), (17976931348623157, 292));
        assert_eq!(f32_digits(1e-45), (1, -45));
        assert_eq!(f32_digits(f32::MAX), (34028235, 31));
        assert_eq!(f64_digits(123456789012345678.0), (12345678901234568, 1));
    }
}
