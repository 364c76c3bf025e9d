//! Recovery codes: ten single-use codes made when an authenticator app is enrolled (and again
//! on request, which voids the old set), shown once and kept only as keyed hashes
//! (`secret::SecretHasher`, like every machine secret). Each is ten characters from an alphabet
//! without look-alikes (50 bits), written `xxxxx-xxxxx`; case, dashes and spaces do not matter
//! when typed back.

use crate::secret::SecretHasher;

/// Codes in a set.
pub const COUNT: usize = 10;
/// At or below this many left, the pages warn.
pub const FEW_LEFT: u64 = 3;
/// Characters of a code, without the dash.
const LEN: usize = 10;
/// 32 characters, so each is five random bits; no `0`/`o`, `1`/`l`.
const ALPHABET: &[u8; 32] = b"abcdefghijkmnpqrstuvwxyz23456789";

/// A new set of codes, as shown to the person.
pub fn generate() -> Vec<String> {
    (0..COUNT)
        .map(|_| {
            let bytes = crate::secret::random_bytes::<LEN>();
            let chars: String = bytes
                .iter()
                .map(|b| char::from(ALPHABET[usize::from(b & 31)]))
                .collect();
            format!("{}-{}", &chars[..LEN / 2], &chars[LEN / 2..])
        })
        .collect()
}

/// A typed code in its canonical form, when it can be one.
pub fn normalize(typed: &str) -> Option<String> {
    let code: String = typed
        .chars()
        .filter(|c| !c.is_whitespace() && *c != '-')
        .map(|c| c.to_ascii_lowercase())
        .collect();
    (code.len() == LEN && code.bytes().all(|b| ALPHABET.contains(&b))).then_some(code)
}

/// What storage keeps for a person's code: the keyed hash of the canonical code, bound to the
/// person so a code is never anyone else's.
pub fn stored_hash(hasher: &SecretHasher, user_id: &str, code: &str) -> Option<String> {
    normalize(code).map(|c| hasher.hash(&format!("recovery:{user_id}:{c}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_set_is_ten_distinct_well_formed_codes() {
        let set = generate();
        assert_eq!(set.len(), COUNT);
        for code in &set {
            assert_eq!(code.len(), LEN + 1);
            assert_eq!(normalize(code).map(|c| c.len()), Some(LEN));
        }
        let mut unique = set.clone();
        unique.sort();
        unique.dedup();
        assert_eq!(unique.len(), COUNT);
    }

    #[test]
    fn typing_variations_hash_alike_and_people_apart() {
        let h = SecretHasher::new(b"k");
        let a = stored_hash(&h, "u1", "abcde-fghij").unwrap();
        assert_eq!(stored_hash(&h, "u1", " ABCDE FGHIJ ").unwrap(), a);
        assert_ne!(stored_hash(&h, "u2", "abcde-fghij").unwrap(), a);
        assert_eq!(
            stored_hash(&h, "u1", "abcde-fghi0"),
            None,
            "not in the alphabet"
        );
        assert_eq!(stored_hash(&h, "u1", "short"), None);
    }
}
