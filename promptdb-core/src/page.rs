//! Pages and opaque cursors.

use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
use serde::{Deserialize, Serialize};

use crate::{
    Error, Result,
    search::ListPosition,
    validate::{DEFAULT_PAGE_LIMIT, MAX_CURSOR_LEN, MAX_PAGE_LIMIT},
};

/// One page of results and the cursor for the next one.
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Page<T> {
    /// The items on this page.
    pub items: Vec<T>,
    /// Pass this as `cursor` to get the next page; absent on the last page.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next_cursor: Option<String>,
}

impl<T> Page<T> {
    /// A page with no successor.
    pub fn last(items: Vec<T>) -> Self {
        Self {
            items,
            next_cursor: None,
        }
    }
}

/// Validates a requested page size.
pub(crate) fn limit(requested: Option<u32>) -> Result<u32> {
    match requested {
        None => Ok(DEFAULT_PAGE_LIMIT),
        Some(n @ 1..=MAX_PAGE_LIMIT) => Ok(n),
        Some(n) => Err(Error::invalid(
            "limit",
            format!("must be between 1 and {MAX_PAGE_LIMIT} (got {n})"),
        )),
    }
}

/// A decoded cursor. Cursors are opaque to clients: base64url of a tagged position.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Cursor {
    List(ListPosition),
    Search { offset: usize },
    Versions { before: u32 },
    Moves { before: i64 },
}

fn bad_cursor() -> Error {
    Error::invalid(
        "cursor",
        "not a cursor from this kind of listing; pass back `next_cursor` unchanged",
    )
}

impl Cursor {
    pub(crate) fn encode(&self) -> String {
        let raw = match self {
            Self::List(p) => format!(
                "l{}{:016x}{}",
                u8::from(p.pinned),
                p.score.to_bits(),
                p.slug
            ),
            Self::Search { offset } => format!("s{offset}"),
            Self::Versions { before } => format!("v{before}"),
            Self::Moves { before } => format!("m{before}"),
        };
        URL_SAFE_NO_PAD.encode(raw)
    }

    pub(crate) fn decode(s: &str) -> Result<Self> {
        if s.len() > MAX_CURSOR_LEN {
            return Err(bad_cursor());
        }
        let raw = URL_SAFE_NO_PAD.decode(s).map_err(|_| bad_cursor())?;
        let raw = String::from_utf8(raw).map_err(|_| bad_cursor())?;
        let (kind, rest) = raw.split_at_checked(1).ok_or_else(bad_cursor)?;
        match kind {
            "l" => {
                let pinned = match rest.get(..1) {
                    Some("0") => false,
                    Some("1") => true,
                    _ => return Err(bad_cursor()),
                };
                let bits = rest
                    .get(1..17)
                    .and_then(|h| u64::from_str_radix(h, 16).ok())
                    .ok_or_else(bad_cursor)?;
                let score = f64::from_bits(bits);
                let slug = rest.get(17..).ok_or_else(bad_cursor)?;
                if !score.is_finite() || crate::validate::slug(slug).is_err() {
                    return Err(bad_cursor());
                }
                Ok(Self::List(ListPosition {
                    pinned,
                    score,
                    slug: slug.to_owned(),
                }))
            }
            "s" => rest
                .parse()
                .map(|offset| Self::Search { offset })
                .map_err(|_| bad_cursor()),
            "v" => rest
                .parse()
                .map(|before| Self::Versions { before })
                .map_err(|_| bad_cursor()),
            "m" => rest
                .parse()
                .map(|before| Self::Moves { before })
                .map_err(|_| bad_cursor()),
            _ => Err(bad_cursor()),
        }
    }

    pub(crate) fn into_list(self) -> Result<ListPosition> {
        match self {
            Self::List(p) => Ok(p),
            _ => Err(bad_cursor()),
        }
    }

    pub(crate) fn into_search(self) -> Result<usize> {
        match self {
            Self::Search { offset } => Ok(offset),
            _ => Err(bad_cursor()),
        }
    }

    pub(crate) fn into_versions(self) -> Result<u32> {
        match self {
            Self::Versions { before } => Ok(before),
            _ => Err(bad_cursor()),
        }
    }

    pub(crate) fn into_moves(self) -> Result<i64> {
        match self {
            Self::Moves { before } => Ok(before),
            _ => Err(bad_cursor()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursors_round_trip() {
        let cursors = [
            Cursor::List(ListPosition {
                pinned: true,
                score: -1234.5678,
                slug: "a-b".into(),
            }),
            Cursor::Search { offset: 40 },
            Cursor::Versions { before: 7 },
        ];
        for c in cursors {
            assert_eq!(Cursor::decode(&c.encode()).unwrap(), c);
        }
    }

    #[test]
    fn garbage_cursors_are_rejected_by_field() {
        for bad in [
            "",
            "!!!",
            "bDE",
            "eDE",
            &"a".repeat(600),
            &URL_SAFE_NO_PAD.encode("l1zzzzzzzzzzzzzzzzslug"),
        ] {
            assert_eq!(
                Cursor::decode(bad).unwrap_err().field(),
                Some("cursor"),
                "{bad}"
            );
        }
        assert!(
            Cursor::decode(&Cursor::Search { offset: 1 }.encode())
                .unwrap()
                .into_list()
                .is_err()
        );
    }

    #[test]
    fn limits_are_checked() {
        assert_eq!(limit(None).unwrap(), DEFAULT_PAGE_LIMIT);
        assert_eq!(limit(Some(100)).unwrap(), 100);
        assert_eq!(limit(Some(0)).unwrap_err().field(), Some("limit"));
        assert_eq!(limit(Some(101)).unwrap_err().field(), Some("limit"));
    }
}
