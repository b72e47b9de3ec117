//! Pages and opaque cursors.

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

/// A cursor of the ranked list: `l.` pinned (`0` or `1`) `.` the score's 64 bits in hex (a
/// finite number) `.` the slug. Any string of this form is a valid position.
pub const LIST_CURSOR_PATTERN: &str =
    "^l\\.[01]\\.(?!7ff|fff)[0-9a-f]{16}\\.[a-z0-9]+(-[a-z0-9]+)*(/[a-z0-9]+(-[a-z0-9]+)*){0,5}$";
/// A cursor of search results: `s.` the offset.
pub const SEARCH_CURSOR_PATTERN: &str = "^s\\.[0-9]{1,9}$";
/// A cursor of a prompt's versions: `v.` the version the next page starts before.
pub const VERSIONS_CURSOR_PATTERN: &str = "^v\\.[0-9]{1,9}$";
/// A cursor of label moves: `m.` the move the next page starts before.
pub const MOVES_CURSOR_PATTERN: &str = "^m\\.-?[0-9]{1,18}$";

/// A decoded cursor: a position, written so that clients need not (but may) understand it and
/// any string of the documented form is a valid position.
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

/// `s` as a number of at most `max_digits` ASCII digits (an optional `-` when `signed`).
fn digits<T: std::str::FromStr>(s: &str, max_digits: usize, signed: bool) -> Result<T> {
    let unsigned = if signed {
        s.strip_prefix('-').unwrap_or(s)
    } else {
        s
    };
    if unsigned.is_empty()
        || unsigned.len() > max_digits
        || !unsigned.bytes().all(|b| b.is_ascii_digit())
    {
        return Err(bad_cursor());
    }
    s.parse().map_err(|_| bad_cursor())
}

impl Cursor {
    pub(crate) fn encode(&self) -> String {
        match self {
            Self::List(p) => format!(
                "l.{}.{:016x}.{}",
                u8::from(p.pinned),
                p.score.to_bits(),
                p.slug
            ),
            Self::Search { offset } => format!("s.{offset}"),
            Self::Versions { before } => format!("v.{before}"),
            Self::Moves { before } => format!("m.{before}"),
        }
    }

    pub(crate) fn decode(s: &str) -> Result<Self> {
        if s.len() > MAX_CURSOR_LEN {
            return Err(bad_cursor());
        }
        let (kind, rest) = s.split_once('.').ok_or_else(bad_cursor)?;
        match kind {
            "l" => {
                let mut parts = rest.splitn(3, '.');
                let pinned = match parts.next() {
                    Some("0") => false,
                    Some("1") => true,
                    _ => return Err(bad_cursor()),
                };
                let hex = parts.next().ok_or_else(bad_cursor)?;
                if hex.len() != 16 || !hex.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f')) {
                    return Err(bad_cursor());
                }
                let bits = u64::from_str_radix(hex, 16).map_err(|_| bad_cursor())?;
                let score = f64::from_bits(bits);
                let slug = parts.next().ok_or_else(bad_cursor)?;
                if !score.is_finite() || crate::validate::slug(slug).is_err() {
                    return Err(bad_cursor());
                }
                Ok(Self::List(ListPosition {
                    pinned,
                    score,
                    slug: slug.to_owned(),
                }))
            }
            "s" => digits(rest, 9, false).map(|offset| Self::Search { offset }),
            "v" => digits(rest, 9, false).map(|before| Self::Versions { before }),
            "m" => digits(rest, 18, true).map(|before| Self::Moves { before }),
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
            Cursor::Moves { before: -3 },
        ];
        let patterns = [
            LIST_CURSOR_PATTERN,
            SEARCH_CURSOR_PATTERN,
            VERSIONS_CURSOR_PATTERN,
            MOVES_CURSOR_PATTERN,
        ];
        for (c, pattern) in cursors.into_iter().zip(patterns) {
            let text = c.encode();
            assert_eq!(Cursor::decode(&text).unwrap(), c);
            assert_eq!(&text[..1], &pattern[1..2], "{text} and {pattern}");
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
            "l.1.zzzzzzzzzzzzzzzz.slug",
            "l.1.7ff0000000000000.slug",
            "l.1.3FF0000000000000.slug",
            "s.+5",
            "v.1234567890",
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
