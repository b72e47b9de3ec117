//! The search query model and the text normalisation every backend indexes with.
//!
//! A query is words and tag filters: `review rust #cli tag:work`. Words match whole words or word
//! prefixes in the slug, name, tags, description and content; every word must match. `#tag` and
//! `tag:name` filter by exact tag. Text is compared after folding: lower case, accents removed,
//! anything that is not a letter or digit treated as a space. Backends index text through
//! [`index_text`] and receive already-folded terms, so the same query means the same thing on
//! every backend.

use serde::{Deserialize, Serialize};
use unicode_normalization::{UnicodeNormalization, char::is_combining_mark};

use crate::{
    Error, Result,
    page::Cursor,
    prompt::normalize_tags,
    validate::{self, MAX_QUERY_CHARS, MAX_QUERY_TERMS, MAX_TAG_FILTERS},
};

/// Decomposes `s` and drops combining marks: `é` becomes `e`.
pub fn fold(s: &str) -> impl Iterator<Item = char> + '_ {
    s.nfd().filter(|c| !is_combining_mark(*c))
}

/// The form of `s` that backends index: folded, lower-case, words separated by single spaces.
pub fn index_text(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut pending_space = false;
    for c in fold(s) {
        if c.is_alphanumeric() {
            if pending_space && !out.is_empty() {
                out.push(' ');
            }
            pending_space = false;
            out.extend(c.to_lowercase());
        } else {
            pending_space = true;
        }
    }
    out
}

/// Filters shared by listing and searching.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Filters {
    /// Only prompts carrying every one of these tags.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tags: Vec<String>,
    /// Only pinned (`true`) or unpinned (`false`) prompts.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pinned: Option<bool>,
    /// Only favourites (`true`) or non-favourites (`false`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub favorite: Option<bool>,
}

impl Filters {
    pub(crate) fn normalized(mut self) -> Result<Self> {
        if self.tags.len() > MAX_TAG_FILTERS {
            return Err(Error::invalid(
                "tags",
                format!("at most {MAX_TAG_FILTERS} tag filters are allowed"),
            ));
        }
        self.tags = normalize_tags(&self.tags)?;
        Ok(self)
    }
}

/// A request to list prompts in ranked order.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ListQuery {
    /// Filters.
    #[serde(flatten)]
    pub filters: Filters,
    /// Page size, 1 to 100 (default 20).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub limit: Option<u32>,
    /// The `next_cursor` of the previous page.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cursor: Option<String>,
}

/// A request to search prompts.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SearchQuery {
    /// Words and `#tag` filters.
    #[serde(default)]
    pub q: String,
    /// Further filters.
    #[serde(flatten)]
    pub filters: Filters,
    /// Page size, 1 to 100 (default 20).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub limit: Option<u32>,
    /// The `next_cursor` of the previous page.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cursor: Option<String>,
}

impl SearchQuery {
    /// A query for `q` with no other filters.
    pub fn new(q: impl Into<String>) -> Self {
        Self {
            q: q.into(),
            ..Self::default()
        }
    }
}

/// What a backend's list query receives: validated filters and where to continue.
#[derive(Debug, Clone, PartialEq)]
pub struct ListSpec {
    /// Validated filters.
    pub filters: Filters,
    /// Continue after this position (exclusive).
    pub after: Option<ListPosition>,
    /// Rows to return.
    pub limit: u32,
}

/// A position in the ranked list order.
#[derive(Debug, Clone, PartialEq)]
pub struct ListPosition {
    /// Pinned flag of the last row seen.
    pub pinned: bool,
    /// Score of the last row seen.
    pub score: f64,
    /// Slug of the last row seen.
    pub slug: String,
}

/// What a backend's search receives: folded terms and validated filters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SearchSpec {
    /// Folded words; each must match a word or word prefix. Never empty.
    pub terms: Vec<String>,
    /// Validated filters, tags from the query text included.
    pub filters: Filters,
}

/// Splits a search request into terms and filters and decodes its cursor.
pub(crate) fn parse(query: SearchQuery) -> Result<(SearchSpec, usize)> {
    let chars = query.q.chars().count();
    if chars > MAX_QUERY_CHARS {
        return Err(Error::invalid(
            "q",
            format!("must be at most {MAX_QUERY_CHARS} characters (got {chars})"),
        ));
    }
    let mut filters = query.filters;
    let mut terms: Vec<String> = Vec::new();
    for token in query.q.split_whitespace() {
        let tag = token
            .strip_prefix('#')
            .or_else(|| token.strip_prefix("tag:"));
        if let Some(tag) = tag {
            if !tag.is_empty() {
                let tag = validate::tag(tag).map_err(|r| Error::invalid("q", r))?;
                filters.tags.push(tag);
            }
            continue;
        }
        for term in index_text(token).split(' ').filter(|t| !t.is_empty()) {
            if !terms.iter().any(|t| t == term) {
                terms.push(term.to_owned());
            }
        }
    }
    if terms.len() > MAX_QUERY_TERMS {
        return Err(Error::invalid(
            "q",
            format!(
                "at most {MAX_QUERY_TERMS} words are allowed (got {})",
                terms.len()
            ),
        ));
    }
    let filters = filters.normalized()?;
    if terms.is_empty() && filters.tags.is_empty() {
        return Err(Error::invalid(
            "q",
            "give at least one word or #tag to search for",
        ));
    }
    let offset = match query.cursor.as_deref() {
        Some(c) => Cursor::decode(c)?.into_search()?,
        None => 0,
    };
    Ok((SearchSpec { terms, filters }, offset))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn index_text_folds_and_splits() {
        assert_eq!(index_text("Crème-Brûlée, v2.0!"), "creme brulee v2 0");
        assert_eq!(index_text("  ÅNGSTRÖM  日本語 "), "angstrom 日本語");
        assert_eq!(index_text("user@example.com"), "user example com");
        assert_eq!(index_text("\"*:()^-"), "");
    }

    #[test]
    fn parses_terms_and_tags() {
        let (spec, offset) = parse(SearchQuery {
            q: "Code-Review #Rust tag:cli café code".into(),
            filters: Filters {
                tags: vec!["Work".into()],
                ..Filters::default()
            },
            ..SearchQuery::default()
        })
        .unwrap();
        assert_eq!(spec.terms, vec!["code", "review", "cafe"]);
        assert_eq!(spec.filters.tags, vec!["work", "rust", "cli"]);
        assert_eq!(offset, 0);
    }

    #[test]
    fn rejects_empty_long_and_bad_tags() {
        assert_eq!(
            parse(SearchQuery::new("  !!! ")).unwrap_err().field(),
            Some("q")
        );
        assert_eq!(
            parse(SearchQuery::new("x".repeat(501)))
                .unwrap_err()
                .field(),
            Some("q")
        );
        let many: Vec<String> = (0..17).map(|i| format!("w{i}")).collect();
        assert_eq!(
            parse(SearchQuery::new(many.join(" "))).unwrap_err().field(),
            Some("q")
        );
        assert_eq!(
            parse(SearchQuery::new("#-bad")).unwrap_err().field(),
            Some("q")
        );
        // Tag-only searches are fine.
        assert!(parse(SearchQuery::new("#rust")).is_ok());
    }
}
