//! Comparing short texts (field names, keys, printed arguments) without a `memcmp` call.
//!
//! `==` on strings calls the C library's `memcmp`. On some CPUs (seen: AMD EPYC under
//! virtualization, glibc's EVEX variant) a call costs ~100 cycles whatever the length, from
//! its masked vector load; the planner and the store compare names at every step of every
//! look-up, and that fixed cost was a fifth of planning the public benchmark's query.

/// From this length on, `memcmp`'s fixed cost is small beside the comparison.
const LONG: usize = 64;

/// Whether `a` and `b` are the same text: short ones compared word by word, long ones (where
/// the call's cost is spread over many bytes) by `==`.
pub fn same(a: &str, b: &str) -> bool {
    let (a, b) = (a.as_bytes(), b.as_bytes());
    if a.len() != b.len() {
        return false;
    }
    if a.len() > LONG {
        return a == b;
    }
    let mut words_a = a.chunks_exact(8);
    let mut words_b = b.chunks_exact(8);
    for (x, y) in (&mut words_a).zip(&mut words_b) {
        if u64::from_ne_bytes(x.try_into().unwrap_or_default())
            != u64::from_ne_bytes(y.try_into().unwrap_or_default())
        {
            return false;
        }
    }
    words_a
        .remainder()
        .iter()
        .zip(words_b.remainder())
        .all(|(x, y)| x == y)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_agrees_with_string_equality_at_every_length_and_place() {
        for len in 0..(LONG + 20) {
            let a: String = (0..len).map(|i| (b'a' + (i % 26) as u8) as char).collect();
            assert!(same(&a, &a.clone()));
            for at in 0..len {
                let mut b = a.clone().into_bytes();
                b[at] = b'Z';
                let b = String::from_utf8(b).unwrap_or_default();
                assert!(!same(&a, &b), "{a} vs {b}");
            }
            assert!(!same(&a, &format!("{a}x")));
        }
    }
}
