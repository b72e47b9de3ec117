//! Identifiers: users, prompts and drafts are UUIDv7 (time-ordered), prompts also have a slug.

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::{Error, validate};

macro_rules! uuid_id {
    ($(#[$doc:meta])* $name:ident, $what:literal) => {
        $(#[$doc])*
        #[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize)]
        #[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
        #[serde(transparent)]
        pub struct $name(uuid::Uuid);

        impl $name {
            /// A fresh, time-ordered identifier.
            pub fn new() -> Self {
                Self(uuid::Uuid::now_v7())
            }

            /// Wraps an existing UUID.
            pub const fn from_uuid(uuid: uuid::Uuid) -> Self {
                Self(uuid)
            }

            /// The UUID inside.
            pub const fn as_uuid(&self) -> &uuid::Uuid {
                &self.0
            }

            /// Parses the identifier from user input, naming `field` on failure.
            pub fn parse(field: &str, input: &str) -> Result<Self, $crate::Error> {
                input.parse().map_err(|_| {
                    $crate::Error::invalid(field, concat!("not a valid ", $what, " id (expected a UUID)"))
                })
            }
        }

        impl Default for $name {
            fn default() -> Self {
                Self::new()
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                std::fmt::Display::fmt(&self.0, f)
            }
        }

        impl std::fmt::Debug for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                write!(f, "{}({})", stringify!($name), self.0)
            }
        }

        impl std::str::FromStr for $name {
            type Err = uuid::Error;
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                uuid::Uuid::parse_str(s).map(Self)
            }
        }

        impl From<uuid::Uuid> for $name {
            fn from(uuid: uuid::Uuid) -> Self {
                Self(uuid)
            }
        }
    };
}

pub(crate) use uuid_id;

uuid_id!(
    /// A PromptDB user: the owner of prompts, drafts and preferences.
    UserId,
    "user"
);
uuid_id!(
    /// A prompt's permanent identifier (the slug is its human handle).
    PromptId,
    "prompt"
);
uuid_id!(
    /// A draft's identifier.
    DraftId,
    "draft"
);

/// A prompt's handle: lower-case ASCII letters and digits in words joined by single hyphens,
/// optionally in `/`-separated folders (`support/triage`), unique per user, at most
/// [`validate::MAX_SLUG_LEN`] characters.
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(transparent)]
pub struct Slug(String);

impl Slug {
    /// Validates `input` as a slug, naming `field` on failure.
    pub fn parse(field: &str, input: &str) -> Result<Self, Error> {
        validate::slug(input).map_err(|reason| Error::invalid(field, reason))?;
        Ok(Self(input.to_owned()))
    }

    /// Derives a slug from a prompt name: folds accents, lower-cases, and joins the ASCII words
    /// with hyphens. A name without ASCII letters or digits (`日本語`) gets `prompt-` and eight
    /// hex digits of a hash of the name: the same name always gives the same slug.
    pub fn derive_from(name: &str) -> Self {
        match Self::derive_ascii(name) {
            Some(slug) => slug,
            None => {
                use sha2::{Digest, Sha256};
                let hash = Sha256::digest(name.as_bytes());
                Self(format!(
                    "prompt-{:02x}{:02x}{:02x}{:02x}",
                    hash[0], hash[1], hash[2], hash[3]
                ))
            }
        }
    }

    fn derive_ascii(name: &str) -> Option<Self> {
        const MAX: usize = validate::MAX_DERIVED_SLUG_LEN;
        let mut out = String::with_capacity(name.len().min(MAX));
        for c in crate::search::fold(name) {
            if c.is_ascii_alphanumeric() {
                if out.len() == MAX {
                    break;
                }
                out.push(c.to_ascii_lowercase());
            } else if !out.is_empty() && !out.ends_with('-') {
                if out.len() + 2 > MAX {
                    break;
                }
                out.push('-');
            }
        }
        while out.ends_with('-') {
            out.pop();
        }
        (!out.is_empty()).then_some(Self(out))
    }

    /// The slug as a string slice.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The folder the slug is in (`support` for `support/triage`), if any.
    pub fn folder(&self) -> Option<&str> {
        self.0.rsplit_once('/').map(|(folder, _)| folder)
    }

    /// Wraps a string that a storage backend read back; the backend only stores validated slugs.
    #[doc(hidden)]
    pub fn from_trusted(s: String) -> Self {
        Self(s)
    }
}

impl<'de> Deserialize<'de> for Slug {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let s = String::deserialize(deserializer)?;
        validate::slug(&s).map_err(serde::de::Error::custom)?;
        Ok(Self(s))
    }
}

#[cfg(feature = "schema")]
impl schemars::JsonSchema for Slug {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "Slug".into()
    }

    fn json_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
        schemars::json_schema!({
            "type": "string",
            "description": "A prompt's handle: lower-case letters and digits in words joined by single hyphens, like `code-review`, optionally in `/`-separated folders (`support/triage`). Unique per user.",
            "pattern": validate::SLUG_PATTERN,
            "minLength": 1,
            "maxLength": validate::MAX_SLUG_LEN,
        })
    }
}

impl AsRef<str> for Slug {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Slug {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl fmt::Debug for Slug {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&self.0, f)
    }
}

impl PartialEq<str> for Slug {
    fn eq(&self, other: &str) -> bool {
        self.0 == other
    }
}

impl PartialEq<&str> for Slug {
    fn eq(&self, other: &&str) -> bool {
        self.0 == *other
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slugs_are_validated() {
        assert!(Slug::parse("slug", "code-review-2").is_ok());
        assert_eq!(
            Slug::parse("slug", "support/triage-2").unwrap().folder(),
            Some("support")
        );
        assert_eq!(Slug::parse("slug", "a/b/c").unwrap().folder(), Some("a/b"));
        for bad in [
            "",
            "Code",
            "a--b",
            "-a",
            "a-",
            "a_b",
            "a b",
            "é",
            "/a",
            "a/",
            "a//b",
            "a/-b",
            "a/b/c/d/e/f/g",
        ] {
            let err = Slug::parse("slug", bad).unwrap_err();
            assert_eq!(err.field(), Some("slug"), "{bad:?}");
        }
        assert!(Slug::parse("slug", &"a".repeat(validate::MAX_SLUG_LEN + 1)).is_err());
    }

    #[test]
    fn slugs_derive_from_names() {
        let derive = |s: &str| Slug::derive_from(s).0;
        assert_eq!(derive("Code Review: Rust!"), "code-review-rust");
        assert_eq!(derive("  Crème brûlée  "), "creme-brulee");
        let cjk = derive("日本語");
        assert!(cjk.starts_with("prompt-") && cjk.len() == 15, "{cjk}");
        assert_eq!(cjk, derive("日本語"));
        assert_ne!(cjk, derive("中文"));
        assert!(Slug::parse("slug", &cjk).is_ok());
        let long = derive(&"word ".repeat(40));
        assert!(long.len() <= validate::MAX_DERIVED_SLUG_LEN && !long.ends_with('-'));
        assert!(Slug::parse("slug", &long).is_ok());
    }

    #[test]
    fn ids_round_trip_and_order_by_time() {
        let a = PromptId::new();
        let b = PromptId::new();
        assert!(a < b);
        assert_eq!(a.to_string().parse::<PromptId>().unwrap(), a);
        assert_eq!(
            PromptId::parse("id", "nope").unwrap_err().field(),
            Some("id")
        );
    }
}
