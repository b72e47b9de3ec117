//! User preferences: a small JSON object of settings (`theme`, and whatever clients need).

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::{
    Error, Result,
    validate::{MAX_PREFERENCE_KEY_LEN, MAX_PREFERENCE_KEYS, MAX_PREFERENCES_BYTES},
};

/// A user's preferences. Keys are `[a-z][a-z0-9_.-]*`; values are any JSON. Known keys are checked:
/// `theme` is one of `system`, `light`, `dark`; `default_limit` is a page size from 1 to 100.
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Preferences(pub Map<String, Value>);

/// A request body that sets preferences (`PUT` replaces them all, `PATCH` merges): a JSON object
/// of at most 64 keys, refused while it is being read when it has more.
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct PreferencesInput(
    #[serde(deserialize_with = "crate::bounded::json_map::<_, MAX_PREFERENCE_KEYS>")]
    #[cfg_attr(
        feature = "schema",
        schemars(extend("maxProperties" = MAX_PREFERENCE_KEYS, "propertyNames" = {"pattern": "^[a-z][a-z0-9_.-]{0,63}$"}))
    )]
    pub Map<String, Value>,
);

impl Preferences {
    /// The value of `key`, if set.
    pub fn get(&self, key: &str) -> Option<&Value> {
        self.0.get(key)
    }

    /// Applies `patch`: each key is set to its value, and a `null` value removes the key.
    /// Returns the merged preferences after checking every limit.
    pub(crate) fn merged(&self, patch: Map<String, Value>) -> Result<Self> {
        if patch.len() > MAX_PREFERENCE_KEYS {
            return Err(Error::invalid(
                "preferences",
                format!("at most {MAX_PREFERENCE_KEYS} keys are allowed"),
            ));
        }
        let mut out = self.0.clone();
        for (key, value) in patch {
            check_key(&key)?;
            if value.is_null() {
                out.remove(&key);
            } else {
                check_known(&key, &value)?;
                out.insert(key, value);
            }
        }
        if out.len() > MAX_PREFERENCE_KEYS {
            return Err(Error::invalid(
                "preferences",
                format!("at most {MAX_PREFERENCE_KEYS} keys are allowed"),
            ));
        }
        let size = serde_json::to_vec(&out).map_err(Error::backend)?.len();
        if size > MAX_PREFERENCES_BYTES {
            return Err(Error::invalid(
                "preferences",
                format!("must be at most {MAX_PREFERENCES_BYTES} bytes of JSON (would be {size})"),
            ));
        }
        Ok(Self(out))
    }
}

fn check_key(key: &str) -> Result<()> {
    let b = key.as_bytes();
    let ok = !b.is_empty()
        && b.len() <= MAX_PREFERENCE_KEY_LEN
        && b[0].is_ascii_lowercase()
        && b.iter().all(|c| {
            c.is_ascii_lowercase() || c.is_ascii_digit() || matches!(c, b'_' | b'.' | b'-')
        });
    if ok {
        Ok(())
    } else {
        Err(Error::invalid(
            format!("preferences.{}", crate::validate::truncate_for_message(key)),
            format!(
                "keys must start with a lower-case letter and use only a-z, 0-9, `_`, `.`, `-` (at most {MAX_PREFERENCE_KEY_LEN} characters)"
            ),
        ))
    }
}

fn check_known(key: &str, value: &Value) -> Result<()> {
    match key {
        "theme" if !matches!(value.as_str(), Some("system" | "light" | "dark")) => {
            Err(Error::invalid(
                "preferences.theme",
                "must be one of `system`, `light`, `dark`",
            ))
        }
        "default_limit"
            if !value.as_f64().is_some_and(|n| {
                n.fract() == 0.0 && (1.0..=f64::from(crate::validate::MAX_PAGE_LIMIT)).contains(&n)
            }) =>
        {
            Err(Error::invalid(
                "preferences.default_limit",
                "must be a whole number from 1 to 100",
            ))
        }
        _ => Ok(()),
    }
}
