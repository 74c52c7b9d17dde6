//! A mergeable distinct-count sketch of people: the exact set of their 64-bit
//! hashes while it holds at most [`EXACT_MAX`] of them, a dense HyperLogLog
//! (p = 12: 4096 one-byte registers, standard error 1.04 / √4096 ≈ 1.6 %)
//! beyond. Pure Rust, no dependencies, a stable byte format:
//!
//! - empty bytes: the empty sketch (what a row holds before its first write);
//! - `[1]` then the hashes as little-endian `u64`s, ascending: exact;
//! - `[2]` then the 4096 registers: dense.
//!
//! A union of exact sketches stays exact whatever its size (it is only ever
//! built at query time), so small projects — and every test — get exact counts;
//! one dense input makes the union dense. Stored sketches go dense on the
//! insert that takes them past [`EXACT_MAX`], and dense registers do not
//! depend on the order of inserts, so ingest and a rebuild store the same bytes.

use std::collections::BTreeSet;

/// The most hashes a stored sketch keeps exactly.
pub const EXACT_MAX: usize = 256;
/// Register index bits.
pub const P: u32 = 12;
/// Registers of a dense sketch.
pub const M: usize = 1 << P;

const KIND_EXACT: u8 = 1;
const KIND_DENSE: u8 = 2;

/// The person hash: 64-bit FNV-1a over the UTF-8 bytes of `site_user_id`,
/// then murmur3's `fmix64` finalizer (FNV-1a alone mixes its high bits
/// poorly, and HyperLogLog reads the top 12 bits as the register index).
/// Stable across versions and platforms: stored sketches depend on it.
pub fn person_hash(site_user_id: &str) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in site_user_id.as_bytes() {
        h ^= u64::from(*b);
        h = h.wrapping_mul(0x0000_0100_0000_01b3);
    }
    fmix64(h)
}

fn fmix64(mut k: u64) -> u64 {
    k ^= k >> 33;
    k = k.wrapping_mul(0xff51_afd7_ed55_8ccd);
    k ^= k >> 33;
    k = k.wrapping_mul(0xc4ce_b9fe_1a85_ec53);
    k ^= k >> 33;
    k
}

/// A distinct count of person hashes (see the module docs).
#[derive(Clone, PartialEq, Eq)]
pub enum Sketch {
    Exact(BTreeSet<u64>),
    Dense(Box<[u8; M]>),
}

impl Default for Sketch {
    fn default() -> Self {
        Self::Exact(BTreeSet::new())
    }
}

impl std::fmt::Debug for Sketch {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Exact(s) => f.debug_tuple("Exact").field(s).finish(),
            Self::Dense(_) => write!(f, "Dense(≈{})", self.count()),
        }
    }
}

/// Why stored bytes are not a sketch.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("not a uniques sketch: {0}")]
pub struct DecodeError(&'static str);

fn register_of(hash: u64) -> (usize, u8) {
    let index = (hash >> (64 - P)) as usize;
    // Leading zeros of the remaining 52 bits, plus one (1..=53).
    let rest = hash << P;
    let rank = (rest.leading_zeros().min(64 - P) + 1) as u8;
    (index, rank)
}

impl Sketch {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn is_exact(&self) -> bool {
        matches!(self, Self::Exact(_))
    }

    /// The exact hashes, when exact.
    pub fn exact(&self) -> Option<&BTreeSet<u64>> {
        match self {
            Self::Exact(s) => Some(s),
            Self::Dense(_) => None,
        }
    }

    /// Adds a hash; past [`EXACT_MAX`] hashes the sketch goes dense.
    pub fn insert(&mut self, hash: u64) {
        match self {
            Self::Exact(s) => {
                s.insert(hash);
                if s.len() > EXACT_MAX {
                    self.densify();
                }
            }
            Self::Dense(r) => {
                let (i, rank) = register_of(hash);
                if r[i] < rank {
                    r[i] = rank;
                }
            }
        }
    }

    /// Removes a hash: exact sketches only (true when it was there); a dense
    /// sketch cannot forget anyone and returns false.
    pub fn remove(&mut self, hash: u64) -> bool {
        match self {
            Self::Exact(s) => s.remove(&hash),
            Self::Dense(_) => false,
        }
    }

    /// Turns the sketch dense (its hashes into registers).
    pub fn densify(&mut self) {
        if let Self::Exact(s) = self {
            let mut r = Box::new([0u8; M]);
            for h in s.iter() {
                let (i, rank) = register_of(*h);
                r[i] = r[i].max(rank);
            }
            *self = Self::Dense(r);
        }
    }

    /// Adds everyone of `other`. Two exact sketches give an exact one of any
    /// size (query-time unions); otherwise the result is dense.
    pub fn union(&mut self, other: &Sketch) {
        match (&mut *self, other) {
            (Self::Exact(a), Self::Exact(b)) => a.extend(b.iter().copied()),
            (Self::Dense(a), Self::Dense(b)) => {
                for (x, y) in a.iter_mut().zip(b.iter()) {
                    *x = (*x).max(*y);
                }
            }
            (Self::Dense(a), Self::Exact(b)) => {
                for h in b {
                    let (i, rank) = register_of(*h);
                    a[i] = a[i].max(rank);
                }
            }
            (Self::Exact(_), Self::Dense(_)) => {
                self.densify();
                self.union(other);
            }
        }
    }

    /// Distinct people: exact, or the HyperLogLog estimate (with linear
    /// counting while registers are still empty and the raw estimate is at
    /// most 2.5 m; 64-bit hashes need no large-range correction).
    pub fn count(&self) -> i64 {
        match self {
            Self::Exact(s) => s.len() as i64,
            Self::Dense(r) => {
                let m = M as f64;
                let alpha = 0.7213 / (1.0 + 1.079 / m);
                let mut sum = 0.0;
                let mut zeros = 0usize;
                for &v in r.iter() {
                    sum += 1.0 / (1u64 << v) as f64;
                    if v == 0 {
                        zeros += 1;
                    }
                }
                let raw = alpha * m * m / sum;
                let est = if raw <= 2.5 * m && zeros > 0 {
                    m * (m / zeros as f64).ln()
                } else {
                    raw
                };
                est.round() as i64
            }
        }
    }

    /// The stored bytes (see the module docs for the format).
    pub fn to_bytes(&self) -> Vec<u8> {
        match self {
            Self::Exact(s) => {
                let mut out = Vec::with_capacity(1 + 8 * s.len());
                out.push(KIND_EXACT);
                for h in s {
                    out.extend_from_slice(&h.to_le_bytes());
                }
                out
            }
            Self::Dense(r) => {
                let mut out = Vec::with_capacity(1 + M);
                out.push(KIND_DENSE);
                out.extend_from_slice(&r[..]);
                out
            }
        }
    }

    /// Reads stored bytes; empty bytes are the empty sketch.
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, DecodeError> {
        let Some((&kind, body)) = bytes.split_first() else {
            return Ok(Self::default());
        };
        match kind {
            KIND_EXACT => {
                if body.len() % 8 != 0 {
                    return Err(DecodeError("exact sketch of a partial hash"));
                }
                let set = body
                    .chunks_exact(8)
                    .map(|c| u64::from_le_bytes(c.try_into().expect("8 bytes")))
                    .collect();
                Ok(Self::Exact(set))
            }
            KIND_DENSE => {
                let r: [u8; M] = body
                    .try_into()
                    .map_err(|_| DecodeError("dense sketch of the wrong size"))?;
                Ok(Self::Dense(Box::new(r)))
            }
            _ => Err(DecodeError("unknown kind")),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn people(n: usize, salt: &str) -> impl Iterator<Item = u64> + '_ {
        (0..n).map(move |i| person_hash(&format!("{salt}-person-{i}")))
    }

    #[test]
    fn the_hash_is_stable() {
        // Stored sketches depend on these values never changing.
        assert_eq!(person_hash(""), fmix64(0xcbf2_9ce4_8422_2325));
        assert_eq!(person_hash("a"), fmix64(0xaf63_dc4c_8601_ec8c));
        assert_ne!(person_hash("anon-1"), person_hash("anon-2"));
    }

    #[test]
    fn exact_up_to_256_then_dense() {
        let mut s = Sketch::new();
        for (i, h) in people(EXACT_MAX, "x").enumerate() {
            s.insert(h);
            s.insert(h);
            assert_eq!(s.count(), i as i64 + 1);
        }
        assert!(s.is_exact());
        s.insert(person_hash("one more"));
        assert!(!s.is_exact());
        assert!((s.count() - 257).abs() <= 8, "{}", s.count());
    }

    #[test]
    fn error_within_three_sigma() {
        let sigma = 1.04 / (M as f64).sqrt();
        for n in [10_000usize, 100_000, 1_000_000] {
            let mut s = Sketch::new();
            for h in people(n, "e") {
                s.insert(h);
            }
            let err = (s.count() as f64 - n as f64).abs() / n as f64;
            assert!(err <= 3.0 * sigma, "n = {n}: {} ({err})", s.count());
        }
    }

    #[test]
    fn unions() {
        // Exact ∪ exact stays exact past 256.
        let (mut a, mut b) = (Sketch::new(), Sketch::new());
        people(200, "a").for_each(|h| a.insert(h));
        people(200, "b").for_each(|h| b.insert(h));
        people(50, "a").for_each(|h| b.insert(h));
        let mut u = a.clone();
        u.union(&b);
        assert_eq!(u.count(), 400);
        assert!(u.is_exact());
        // Dense ∪ dense and dense ∪ exact match inserting everyone.
        let (mut d1, mut d2, mut all) = (Sketch::new(), Sketch::new(), Sketch::new());
        people(5_000, "d1").for_each(|h| d1.insert(h));
        people(5_000, "d2").for_each(|h| d2.insert(h));
        people(5_000, "d1")
            .chain(people(5_000, "d2"))
            .chain(people(200, "a"))
            .for_each(|h| all.insert(h));
        let mut u = d1.clone();
        u.union(&d2);
        u.union(&a);
        assert_eq!(u, all);
        let mut v = a.clone();
        v.union(&d1);
        v.union(&d2);
        assert_eq!(v, all);
        let err = (all.count() as f64 - 10_200.0).abs() / 10_200.0;
        assert!(err < 0.05, "{}", all.count());
    }

    #[test]
    fn bytes_roundtrip() {
        assert_eq!(Sketch::from_bytes(&[]).unwrap(), Sketch::new());
        let mut s = Sketch::new();
        for h in people(100, "r") {
            s.insert(h);
        }
        let bytes = s.to_bytes();
        assert_eq!((bytes[0], bytes.len()), (1, 1 + 800));
        assert_eq!(Sketch::from_bytes(&bytes).unwrap(), s);
        for h in people(1_000, "r") {
            s.insert(h);
        }
        let bytes = s.to_bytes();
        assert_eq!((bytes[0], bytes.len()), (2, 1 + M));
        assert_eq!(Sketch::from_bytes(&bytes).unwrap(), s);
        assert!(Sketch::from_bytes(&[1, 2, 3]).is_err());
        assert!(Sketch::from_bytes(&[2, 0]).is_err());
        assert!(Sketch::from_bytes(&[9]).is_err());
    }

    #[test]
    fn removal_in_exact_mode_only() {
        let mut s = Sketch::new();
        s.insert(person_hash("a"));
        s.insert(person_hash("b"));
        assert!(s.remove(person_hash("a")));
        assert!(!s.remove(person_hash("a")));
        assert_eq!(s.count(), 1);
        for h in people(300, "z") {
            s.insert(h);
        }
        assert!(!s.remove(person_hash("b")));
    }

    #[test]
    fn dense_order_does_not_matter() {
        let hs: Vec<u64> = people(1_000, "o").collect();
        let (mut f, mut r) = (Sketch::new(), Sketch::new());
        hs.iter().for_each(|h| f.insert(*h));
        hs.iter().rev().for_each(|h| r.insert(*h));
        assert_eq!(f.to_bytes(), r.to_bytes());
    }
}
