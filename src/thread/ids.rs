//! Entry-IDs: 26-character ULIDs, the idempotency key of every entry.

/// A valid Entry-ID (uppercase ULID), parsed once at the edge of the service
/// (persisted as a plain string).
#[derive(
    Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize, serde::Deserialize,
)]
#[serde(transparent)]
pub struct EntryId(String);

impl EntryId {
    /// A 26-character ULID, in any case; `None` for anything else.
    pub fn parse(s: &str) -> Option<EntryId> {
        let t = s.trim().to_ascii_uppercase();
        match ulid::Ulid::from_string(&t) {
            Ok(_) if t.len() == 26 => Some(EntryId(t)),
            _ => None,
        }
    }

    /// A new id from a time and random bits.
    pub fn new(now_ms: u64, random_hi: u64, random_lo: u64) -> EntryId {
        let random = (u128::from(random_hi) << 64) | u128::from(random_lo);
        EntryId(ulid::Ulid::from_parts(now_ms, random).to_string())
    }

    /// The id as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl std::ops::Deref for EntryId {
    type Target = str;
    fn deref(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Display for EntryId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_ulids_in_upper_case() {
        assert_eq!(
            EntryId::parse("01arz3ndektsv4rrffq69g5fav")
                .unwrap()
                .as_str(),
            "01ARZ3NDEKTSV4RRFFQ69G5FAV"
        );
        assert_eq!(EntryId::parse("nope"), None);
        let id = EntryId::new(1_772_442_900_000, 1, 2);
        assert_eq!(EntryId::parse(&id), Some(id));
    }
}
