//! Releases: labels that name a version of a prompt (or a weighted A/B split of versions), their
//! move history, and the assignment of a subject to a variant.
//!
//! - `latest` always names the newest version; it is not stored and cannot be moved.
//! - `production` is what [`crate::PromptDb::resolve`] serves when no label is asked for. It is
//!   protected by default (see [`crate::Config::protected_labels`]): moving it needs the
//!   release scope.
//! - A split sends each subject (a user or session id) to one variant by [`assign`]: the same
//!   subject gets the same version until the split changes. The function is the contract between
//!   the server and every client-side resolver; it is specified exactly below.

use crate::validate::MAX_RENDER_VALUES;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use std::collections::BTreeMap;

use crate::{
    ChatMessage, Error, PromptConfig, PromptKind, Result, Slug, Variable,
    validate::{self, MAX_SUBJECT_LEN, MAX_VARIANTS},
};

/// The label that always names the newest version.
pub const LATEST: &str = "latest";
/// The label resolve serves when none is named.
pub const PRODUCTION: &str = "production";

/// One version of a split and its share of subjects, in percent.
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Variant {
    /// The version served.
    #[serde(deserialize_with = "crate::bounded::whole")]
    #[cfg_attr(feature = "schema", schemars(range(min = 1, max = u32::MAX)))]
    pub version: u32,
    /// Percent of subjects, 1 to 99; the weights of a split sum to 100.
    #[serde(deserialize_with = "crate::bounded::whole")]
    #[cfg_attr(feature = "schema", schemars(range(min = 1, max = 99)))]
    pub weight: u8,
}

/// What a label points at.
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize)]
#[serde(untagged)]
pub enum LabelTarget {
    /// One version: `{"version": 3}`.
    Version {
        /// The version.
        #[cfg_attr(feature = "schema", schemars(range(min = 1, max = u32::MAX)))]
        version: u32,
    },
    /// A weighted A/B split: `{"split": [{"version": 3, "weight": 90}, {"version": 4, "weight": 10}]}`.
    Split {
        /// Two to ten variants of distinct versions whose weights sum to 100.
        #[cfg_attr(feature = "schema", schemars(length(min = 2, max = MAX_VARIANTS)))]
        split: Vec<Variant>,
    },
}

/// The wire form: exactly one of the two fields.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawTarget {
    #[serde(default, deserialize_with = "crate::bounded::opt_whole")]
    version: Option<u32>,
    #[serde(
        default,
        deserialize_with = "crate::bounded::opt_objects::<_, _, MAX_VARIANTS>"
    )]
    split: Option<Vec<Variant>>,
}

impl<'de> Deserialize<'de> for LabelTarget {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        match crate::bounded::object::<_, RawTarget>(d)? {
            RawTarget {
                version: Some(version),
                split: None,
            } => Ok(Self::Version { version }),
            RawTarget {
                version: None,
                split: Some(split),
            } => Ok(Self::Split { split }),
            _ => Err(serde::de::Error::custom(
                "give either `version` or `split`, not both",
            )),
        }
    }
}

impl LabelTarget {
    /// A label on one version.
    pub fn version(version: u32) -> Self {
        Self::Version { version }
    }

    /// Every version the target names.
    pub fn versions(&self) -> Vec<u32> {
        match self {
            Self::Version { version } => vec![*version],
            Self::Split { split } => split.iter().map(|v| v.version).collect(),
        }
    }

    /// Whether it names `version`.
    pub fn names(&self, version: u32) -> bool {
        match self {
            Self::Version { version: v } => *v == version,
            Self::Split { split } => split.iter().any(|v| v.version == version),
        }
    }

    /// Checks the shape: versions from 1, and for a split 2 to 10 distinct versions with
    /// weights from 1 to 99 summing to 100. The count is checked before the variants.
    pub fn validate(&self, field: &str) -> Result<()> {
        match self {
            Self::Version { version: 0 } => Err(Error::invalid(
                format!("{field}.version"),
                "versions start at 1",
            )),
            Self::Version { .. } => Ok(()),
            Self::Split { split } => {
                if !(2..=MAX_VARIANTS).contains(&split.len()) {
                    return Err(Error::invalid(
                        format!("{field}.split"),
                        format!(
                            "a split has 2 to {MAX_VARIANTS} variants (got {}); point the label at one version instead of a split of one",
                            split.len()
                        ),
                    ));
                }
                let mut total = 0u32;
                for (i, v) in split.iter().enumerate() {
                    if v.version == 0 {
                        return Err(Error::invalid(
                            format!("{field}.split[{i}].version"),
                            "versions start at 1",
                        ));
                    }
                    if !(1..=99).contains(&v.weight) {
                        return Err(Error::invalid(
                            format!("{field}.split[{i}].weight"),
                            "must be between 1 and 99",
                        ));
                    }
                    if split[..i].iter().any(|w| w.version == v.version) {
                        return Err(Error::invalid(
                            format!("{field}.split[{i}].version"),
                            format!("version {} is in the split twice", v.version),
                        ));
                    }
                    total += u32::from(v.weight);
                }
                if total != 100 {
                    return Err(Error::invalid(
                        format!("{field}.split"),
                        format!("the weights must sum to 100 (they sum to {total})"),
                    ));
                }
                Ok(())
            }
        }
    }
}

impl std::fmt::Display for LabelTarget {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Version { version } => write!(f, "version {version}"),
            Self::Split { split } => {
                for (i, v) in split.iter().enumerate() {
                    if i > 0 {
                        f.write_str(" / ")?;
                    }
                    write!(f, "v{} {}%", v.version, v.weight)?;
                }
                Ok(())
            }
        }
    }
}

/// A label of a prompt, as it stands.
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Label {
    /// The label's name.
    pub name: String,
    /// What it points at.
    #[serde(flatten)]
    pub target: LabelTarget,
    /// Whether moving it needs the release scope.
    #[serde(default)]
    pub protected: bool,
    /// When it last moved.
    pub updated_at: DateTime<Utc>,
}

/// One recorded move of a label.
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LabelMove {
    /// Increases with every move of the user's labels; pass as `before` to page back.
    pub id: i64,
    /// The label.
    pub label: String,
    /// Where it pointed before; absent when it was created.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub from: Option<LabelTarget>,
    /// Where it points after; absent when it was removed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub to: Option<LabelTarget>,
    /// Who moved it: how the caller had signed in, when known.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub actor: String,
    /// When.
    pub moved_at: DateTime<Utc>,
}

/// What an application asks for: a prompt at a label (`production` when neither label nor
/// version is given), or at a version; optionally rendered with variables.
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ResolveRequest {
    /// The prompt.
    #[cfg_attr(feature = "schema", schemars(pattern(crate::validate::SLUG_PATTERN), length(max = crate::validate::MAX_SLUG_LEN)))]
    pub slug: String,
    /// A label (`production`, `staging`, `latest`, …). Not together with `version`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "schema", schemars(pattern(crate::validate::LABEL_PATTERN)))]
    pub label: Option<String>,
    /// A version number. Not together with `label`.
    #[serde(
        deserialize_with = "crate::bounded::opt_whole",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    #[cfg_attr(feature = "schema", schemars(range(min = 1, max = u32::MAX)))]
    pub version: Option<u32>,
    /// Who the prompt is for (a user or session id): a label split into A/B variants gives the
    /// same subject the same variant. Without one, the variant is picked at random by weight.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "schema", schemars(length(min = 1, max = crate::validate::MAX_SUBJECT_LEN)))]
    pub subject: Option<String>,
    /// Values for the prompt's variables: when given, the answer holds the rendered prompt
    /// (strictly: every required variable, no undeclared ones).
    #[serde(
        deserialize_with = "crate::bounded::opt_map::<_, _, MAX_RENDER_VALUES>",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    #[cfg_attr(feature = "schema", schemars(extend("maxProperties" = MAX_RENDER_VALUES), inner(length(max = crate::validate::MAX_VARIABLE_VALUE_CHARS))))]
    pub variables: Option<BTreeMap<String, String>>,
}

/// A rendered prompt: a text, or a chat prompt's messages.
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum Rendered {
    /// A text prompt, rendered.
    Text(String),
    /// A chat prompt's messages, rendered.
    Chat(Vec<ChatMessage>),
}

impl Rendered {
    /// Bytes of text it holds.
    pub fn len(&self) -> usize {
        match self {
            Self::Text(text) => text.len(),
            Self::Chat(messages) => messages.iter().map(|m| m.content.len()).sum(),
        }
    }

    /// Whether it holds no text.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// As one text: a chat prompt's messages one after another, each under its role.
    pub fn to_text(&self) -> String {
        match self {
            Self::Text(text) => text.clone(),
            Self::Chat(messages) => crate::prompt::body_text(PromptKind::Chat, "", messages),
        }
    }
}

impl Resolved {
    /// The prompt rendered strictly with `values`: every required variable given, no
    /// undeclared ones. The server's resolve and every client-side resolver render with this.
    pub fn render(&self, values: &BTreeMap<String, String>) -> Result<Rendered> {
        Ok(match self.kind {
            PromptKind::Text => Rendered::Text(crate::template::render(
                &self.content,
                &self.variables,
                values,
            )?),
            PromptKind::Chat => Rendered::Chat(
                self.messages
                    .iter()
                    .map(|m| {
                        crate::template::render(&m.content, &self.variables, values)
                            .map(|text| ChatMessage::new(m.role, text))
                    })
                    .collect::<Result<_>>()?,
            ),
        })
    }

    /// The rendered text when variables were given, else the (expanded) body as one text.
    pub fn text(&self) -> String {
        match &self.rendered {
            Some(r) => r.to_text(),
            None => crate::prompt::body_text(self.kind, &self.content, &self.messages),
        }
    }
}

/// A prompt resolved for an application: the version served, includes expanded.
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Resolved {
    /// The prompt.
    pub slug: Slug,
    /// Its name at this version.
    pub name: String,
    /// `text` or `chat`.
    pub kind: PromptKind,
    /// The version served.
    pub version: u32,
    /// The label it was resolved through (absent when a version was asked for).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub label: Option<String>,
    /// Every label that names this version (`latest` when it is the newest).
    pub labels: Vec<String>,
    /// The text (text prompts), includes expanded.
    pub content: String,
    /// The messages (chat prompts), includes expanded.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub messages: Vec<ChatMessage>,
    /// The version's config (model parameters and the like).
    pub config: PromptConfig,
    /// The version's tags.
    pub tags: Vec<String>,
    /// The variables it declares, with those of the prompts it includes.
    pub variables: Vec<Variable>,
    /// Why the version was written.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub commit_message: String,
    /// When the version was written.
    pub created_at: DateTime<Utc>,
    /// The prompt rendered with the variables given.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rendered: Option<Rendered>,
}

/// Checks a label name a caller wants to set: the label rule, and not `latest`.
pub fn settable_label(field: &str, name: &str) -> Result<()> {
    validate::label(name).map_err(|r| Error::invalid(field, r))?;
    if name == LATEST {
        return Err(Error::conflict(
            field,
            "`latest` always names the newest version and cannot be moved",
        ));
    }
    Ok(())
}

/// Checks an A/B subject: 1 to 256 characters.
pub fn validate_subject(subject: &str) -> Result<()> {
    if subject.is_empty()
        || (subject.len() > MAX_SUBJECT_LEN && subject.chars().count() > MAX_SUBJECT_LEN)
    {
        return Err(Error::invalid(
            "subject",
            format!("must be 1 to {MAX_SUBJECT_LEN} characters"),
        ));
    }
    Ok(())
}

/// The bucket, 0 to 99, that `subject` falls in for `label` of the prompt `slug`:
/// the first 8 bytes of `SHA-256(slug ‖ 0x00 ‖ label ‖ 0x00 ‖ subject)` read as a big-endian
/// unsigned integer, modulo 100.
pub fn bucket(slug: &str, label: &str, subject: &str) -> u8 {
    let mut h = Sha256::new();
    h.update(slug.as_bytes());
    h.update([0]);
    h.update(label.as_bytes());
    h.update([0]);
    h.update(subject.as_bytes());
    let digest = h.finalize();
    let mut first = [0u8; 8];
    first.copy_from_slice(&digest[..8]);
    // The remainder of a division by 100 fits in a u8.
    (u64::from_be_bytes(first) % 100) as u8
}

/// The variant a bucket (0 to 99) falls in: variants take consecutive ranges of buckets in the
/// order given, each as many as its weight.
pub fn variant_for(split: &[Variant], bucket: u8) -> u32 {
    let mut upper = 0u32;
    for v in split {
        upper += u32::from(v.weight);
        if u32::from(bucket) < upper {
            return v.version;
        }
    }
    split.last().map_or(0, |v| v.version)
}

/// The version `subject` gets from `target` of label `label` of prompt `slug`: sticky per
/// subject ([`bucket`], [`variant_for`]); without a subject, a random variant by weight.
pub fn assign(slug: &str, label: &str, target: &LabelTarget, subject: Option<&str>) -> u32 {
    match target {
        LabelTarget::Version { version } => *version,
        LabelTarget::Split { split } => {
            let bucket = match subject {
                Some(s) => bucket(slug, label, s),
                None => random_bucket(),
            };
            variant_for(split, bucket)
        }
    }
}

fn random_bucket() -> u8 {
    let mut b = [0u8; 8];
    // A failing system RNG leaves the bucket at 0: the first variant, still a valid answer.
    let _ = getrandom::fill(&mut b);
    (u64::from_le_bytes(b) % 100) as u8
}

/// Everything a client-side resolver needs to serve a prompt at a label (or a version) without
/// asking again: what the label points at, and each version it names, resolved (includes
/// expanded, not rendered). A resolver picks the variant with [`Release::pick`], the same rule
/// the server uses, so both give a subject the same version.
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Release {
    /// The prompt.
    pub slug: Slug,
    /// The label asked for (`latest` included); absent when a version was asked for.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub label: Option<String>,
    /// What the label points at (a version asked for is `{"version": n}`).
    pub target: LabelTarget,
    /// Each version the target names, in the order [`LabelTarget::versions`] gives.
    pub versions: Vec<Resolved>,
}

impl Release {
    /// The version `subject` gets: [`assign`] over the target, then that version's entry.
    /// `None` only when the release does not hold the version its target names.
    pub fn pick(&self, subject: Option<&str>) -> Option<&Resolved> {
        let label = self.label.as_deref().unwrap_or(LATEST);
        let version = assign(self.slug.as_str(), label, &self.target, subject);
        self.versions.iter().find(|v| v.version == version)
    }

    /// Checks that the release holds exactly the versions its target names, for its own slug.
    pub fn check(&self) -> Result<()> {
        let wanted = self.target.versions();
        let held: Vec<u32> = self.versions.iter().map(|v| v.version).collect();
        if wanted != held {
            return Err(Error::invalid(
                "versions",
                format!(
                    "{}: the target names versions {wanted:?} but the release holds {held:?}",
                    self.slug
                ),
            ));
        }
        if let Some(v) = self.versions.iter().find(|v| v.slug != self.slug) {
            return Err(Error::invalid(
                "versions",
                format!("{}: holds a version of `{}`", self.slug, v.slug),
            ));
        }
        Ok(())
    }
}

/// The `format` of a [`Snapshot`].
pub const SNAPSHOT_FORMAT: &str = "promptdb-snapshot";
/// Prompts one snapshot holds at most; narrow a larger one with a folder.
pub const MAX_SNAPSHOT_PROMPTS: usize = 2_000;
/// Bytes of prompt text one snapshot holds at most.
pub const MAX_SNAPSHOT_BYTES: usize = 32 * 1024 * 1024;

/// Every prompt at one label as one bundle: what an application starts from when the server is
/// unreachable. `hash` covers `releases`, so a truncated or edited file is refused.
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Snapshot {
    /// Always `promptdb-snapshot`.
    pub format: String,
    /// The label every release is at.
    pub label: String,
    /// The folder it was narrowed to, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub folder: Option<String>,
    /// When the server made it.
    pub created_at: DateTime<Utc>,
    /// `sha256:` and the hex SHA-256 of the compact JSON of `releases`.
    pub hash: String,
    /// One release per prompt that has the label, by slug.
    pub releases: Vec<Release>,
}

impl Snapshot {
    /// A snapshot of `releases`, with its hash.
    pub fn new(
        label: impl Into<String>,
        folder: Option<String>,
        created_at: DateTime<Utc>,
        releases: Vec<Release>,
    ) -> Self {
        let hash = content_hash(&releases);
        Self {
            format: SNAPSHOT_FORMAT.to_owned(),
            label: label.into(),
            folder,
            created_at,
            hash,
            releases,
        }
    }

    /// Checks the format, the hash, and every release.
    pub fn verify(&self) -> Result<()> {
        if self.format != SNAPSHOT_FORMAT {
            return Err(Error::invalid(
                "format",
                format!("expected `{SNAPSHOT_FORMAT}`, got `{}`", self.format),
            ));
        }
        let hash = content_hash(&self.releases);
        if hash != self.hash {
            return Err(Error::invalid(
                "hash",
                format!(
                    "the releases hash to {hash}, not {}: the snapshot was changed or cut short",
                    self.hash
                ),
            ));
        }
        for (i, r) in self.releases.iter().enumerate() {
            r.check().map_err(|e| e.within(&format!("releases[{i}]")))?;
        }
        Ok(())
    }
}

fn content_hash(releases: &[Release]) -> String {
    use std::fmt::Write;
    let mut h = Sha256::new();
    // Serializing plain data to memory cannot fail.
    h.update(serde_json::to_vec(releases).unwrap_or_default());
    let digest = h.finalize();
    let mut out = String::with_capacity(7 + 64);
    out.push_str("sha256:");
    for b in digest {
        let _ = write!(out, "{b:02x}");
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn split(parts: &[(u32, u8)]) -> LabelTarget {
        LabelTarget::Split {
            split: parts
                .iter()
                .map(|&(version, weight)| Variant { version, weight })
                .collect(),
        }
    }

    #[test]
    fn targets_serialise_as_documented() {
        assert_eq!(
            serde_json::to_value(LabelTarget::version(3)).unwrap(),
            serde_json::json!({"version": 3})
        );
        let s = split(&[(3, 90), (4, 10)]);
        let json = serde_json::json!({"split": [{"version": 3, "weight": 90}, {"version": 4, "weight": 10}]});
        assert_eq!(serde_json::to_value(&s).unwrap(), json);
        assert_eq!(serde_json::from_value::<LabelTarget>(json).unwrap(), s);
    }

    #[test]
    fn splits_are_checked() {
        assert!(split(&[(1, 50), (2, 50)]).validate("t").is_ok());
        let field = |t: LabelTarget| t.validate("t").unwrap_err().field().map(str::to_owned);
        assert_eq!(field(split(&[(1, 100)])).as_deref(), Some("t.split"));
        assert_eq!(
            field(split(&[(1, 60), (2, 50)])).as_deref(),
            Some("t.split")
        );
        assert_eq!(
            field(split(&[(1, 50), (1, 50)])).as_deref(),
            Some("t.split[1].version")
        );
        assert_eq!(
            field(split(&[(1, 100), (2, 0)])).as_deref(),
            Some("t.split[0].weight")
        );
        assert_eq!(field(LabelTarget::version(0)).as_deref(), Some("t.version"));
        let eleven: Vec<(u32, u8)> = (1..=11).map(|v| (v, 9)).collect();
        assert_eq!(field(split(&eleven)).as_deref(), Some("t.split"));
    }

    #[test]
    fn assignment_is_sticky_and_follows_the_weights() {
        let s = split(&[(1, 90), (2, 10)]);
        let first = assign("support/triage", "production", &s, Some("user-42"));
        for _ in 0..10 {
            assert_eq!(
                assign("support/triage", "production", &s, Some("user-42")),
                first
            );
        }
        let second = (0..10_000)
            .filter(|i| {
                assign(
                    "support/triage",
                    "production",
                    &s,
                    Some(&format!("user-{i}")),
                ) == 2
            })
            .count();
        assert!((800..=1200).contains(&second), "{second} of 10000 got v2");
        assert_eq!(assign("x", "production", &LabelTarget::version(7), None), 7);
    }

    #[test]
    fn the_bucket_function_is_pinned() {
        // Client-side resolvers in other languages must reproduce these.
        assert_eq!(
            bucket("greeting", "production", "alice"),
            bucket("greeting", "production", "alice")
        );
        let b = bucket("support/triage", "production", "user-1");
        let mut h = Sha256::new();
        h.update(b"support/triage\0production\0user-1");
        let d = h.finalize();
        let expected = (u64::from_be_bytes(d[..8].try_into().unwrap()) % 100) as u8;
        assert_eq!(b, expected);
        assert_eq!(
            variant_for(
                &[
                    Variant {
                        version: 3,
                        weight: 90
                    },
                    Variant {
                        version: 4,
                        weight: 10
                    }
                ],
                89
            ),
            3
        );
        assert_eq!(
            variant_for(
                &[
                    Variant {
                        version: 3,
                        weight: 90
                    },
                    Variant {
                        version: 4,
                        weight: 10
                    }
                ],
                90
            ),
            4
        );
    }

    #[test]
    fn label_names() {
        assert!(settable_label("l", "production").is_ok());
        assert!(settable_label("l", "exp_2.b-1").is_ok());
        assert!(settable_label("l", "latest").is_err());
        assert!(settable_label("l", "Prod").is_err());
        assert!(settable_label("l", &"a".repeat(37)).is_err());
    }
}
