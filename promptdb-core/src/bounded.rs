//! Deserializers that stop at a limit: a list or map with more items than allowed fails while
//! it is being read, so that no per-element work (parsing, allocating, validating) is spent on
//! items past the limit. Use them with `#[serde(deserialize_with = "…")]`:
//!
//! ```
//! #[derive(Debug, serde::Deserialize)]
//! struct Input {
//!     #[serde(deserialize_with = "promptdb_core::bounded::vec::<_, _, 3>")]
//!     tags: Vec<String>,
//! }
//! let err = serde_json::from_str::<Input>(r#"{"tags": ["a", "b", "c", "d"]}"#).unwrap_err();
//! assert!(err.to_string().contains("at most 3"));
//! ```

use std::{collections::BTreeMap, fmt, marker::PhantomData};

use serde::{
    Deserialize, Deserializer,
    de::{self, IgnoredAny, MapAccess, SeqAccess, Visitor},
};

struct VecVisitor<T, const N: usize>(PhantomData<T>);

impl<'de, T: Deserialize<'de>, const N: usize> Visitor<'de> for VecVisitor<T, N> {
    type Value = Vec<T>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "a list of at most {N} items")
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Vec<T>, A::Error> {
        let mut out = Vec::with_capacity(seq.size_hint().unwrap_or(0).min(N));
        while out.len() < N {
            match seq.next_element()? {
                Some(item) => out.push(item),
                None => return Ok(out),
            }
        }
        // At the limit: one more item, skipped without being built, is one too many.
        match seq.next_element::<IgnoredAny>()? {
            Some(_) => Err(de::Error::custom(format!("at most {N} items are allowed"))),
            None => Ok(out),
        }
    }
}

/// A list of at most `N` items.
pub fn vec<'de, D, T, const N: usize>(d: D) -> Result<Vec<T>, D::Error>
where
    D: Deserializer<'de>,
    T: Deserialize<'de>,
{
    d.deserialize_seq(VecVisitor::<T, N>(PhantomData))
}

/// An optional list of at most `N` items (`null` or absent: `None`).
pub fn opt_vec<'de, D, T, const N: usize>(d: D) -> Result<Option<Vec<T>>, D::Error>
where
    D: Deserializer<'de>,
    T: Deserialize<'de>,
{
    struct Wrap<T, const N: usize>(Vec<T>);
    impl<'de, T: Deserialize<'de>, const N: usize> Deserialize<'de> for Wrap<T, N> {
        fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
            vec::<D, T, N>(d).map(Wrap)
        }
    }
    Ok(Option::<Wrap<T, N>>::deserialize(d)?.map(|w| w.0))
}

struct MapVisitor<V, const N: usize>(PhantomData<V>);

impl<'de, V: Deserialize<'de>, const N: usize> Visitor<'de> for MapVisitor<V, N> {
    type Value = BTreeMap<String, V>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "an object of at most {N} entries")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        let mut out = BTreeMap::new();
        while out.len() < N {
            match map.next_entry::<String, V>()? {
                Some((k, v)) => {
                    out.insert(k, v);
                }
                None => return Ok(out),
            }
        }
        match map.next_key::<IgnoredAny>()? {
            Some(_) => Err(de::Error::custom(format!(
                "at most {N} entries are allowed"
            ))),
            None => Ok(out),
        }
    }
}

/// An object of at most `N` entries, as a sorted map.
pub fn map<'de, D, V, const N: usize>(d: D) -> Result<BTreeMap<String, V>, D::Error>
where
    D: Deserializer<'de>,
    V: Deserialize<'de>,
{
    d.deserialize_map(MapVisitor::<V, N>(PhantomData))
}

/// An optional object of at most `N` entries.
pub fn opt_map<'de, D, V, const N: usize>(d: D) -> Result<Option<BTreeMap<String, V>>, D::Error>
where
    D: Deserializer<'de>,
    V: Deserialize<'de>,
{
    struct Wrap<V, const N: usize>(BTreeMap<String, V>);
    impl<'de, V: Deserialize<'de>, const N: usize> Deserialize<'de> for Wrap<V, N> {
        fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
            map::<D, V, N>(d).map(Wrap)
        }
    }
    Ok(Option::<Wrap<V, N>>::deserialize(d)?.map(|w| w.0))
}

/// Longest JSON object text taken by [`json_map`], whitespace included: four times the 16 KiB
/// that config and preferences may hold once compacted.
pub const MAX_JSON_OBJECT_TEXT: usize = 64 * 1024;

/// A JSON object of at most `N` top-level entries and [`MAX_JSON_OBJECT_TEXT`] bytes of text
/// (config, preferences). The text is measured before anything is built from it, so that an
/// oversized value (a list of millions of numbers) costs a scan, not millions of allocations.
pub fn json_map<'de, D, const N: usize>(
    d: D,
) -> Result<serde_json::Map<String, serde_json::Value>, D::Error>
where
    D: Deserializer<'de>,
{
    let raw = Box::<serde_json::value::RawValue>::deserialize(d)?;
    let text = raw.get();
    if text.len() > MAX_JSON_OBJECT_TEXT {
        return Err(de::Error::custom(format!(
            "must be at most {MAX_JSON_OBJECT_TEXT} bytes of JSON (got {})",
            text.len()
        )));
    }
    if !text.starts_with('{') {
        return Err(de::Error::invalid_type(
            de::Unexpected::Other("a value that is not an object"),
            &"a JSON object",
        ));
    }
    let mut inner = serde_json::Deserializer::from_str(text);
    map::<_, serde_json::Value, N>(&mut inner)
        .map(|m| m.into_iter().collect())
        .map_err(de::Error::custom)
}

/// An optional JSON object of at most `N` top-level entries.
pub fn opt_json_map<'de, D, const N: usize>(
    d: D,
) -> Result<Option<serde_json::Map<String, serde_json::Value>>, D::Error>
where
    D: Deserializer<'de>,
{
    struct Wrap<const N: usize>(serde_json::Map<String, serde_json::Value>);
    impl<'de, const N: usize> Deserialize<'de> for Wrap<N> {
        fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
            json_map::<D, N>(d).map(Wrap)
        }
    }
    Ok(Option::<Wrap<N>>::deserialize(d)?.map(|w| w.0))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, Deserialize)]
    struct T {
        #[serde(default, deserialize_with = "opt_vec::<_, _, 2>")]
        a: Option<Vec<u8>>,
        #[serde(default, deserialize_with = "map::<_, _, 1>")]
        m: BTreeMap<String, String>,
    }

    #[test]
    fn limits_are_enforced_while_reading() {
        assert_eq!(
            serde_json::from_str::<T>(r#"{"a": [1, 2]}"#).unwrap().a,
            Some(vec![1, 2])
        );
        assert_eq!(
            serde_json::from_str::<T>(r#"{"m": {"x": "1"}}"#).unwrap().m["x"],
            "1"
        );
        assert!(
            serde_json::from_str::<T>(r#"{"a": null}"#)
                .unwrap()
                .a
                .is_none()
        );
        assert!(serde_json::from_str::<T>(r#"{}"#).unwrap().a.is_none());
        let err = serde_json::from_str::<T>(r#"{"a": [1, 2, 3]}"#).unwrap_err();
        assert!(err.to_string().contains("at most 2 items"), "{err}");
        let err = serde_json::from_str::<T>(r#"{"m": {"x": "1", "y": "2"}}"#).unwrap_err();
        assert!(err.to_string().contains("at most 1 entries"), "{err}");
        // The error comes at the first item past the limit, skipped without being built (a
        // string where numbers go): the rest is never read, even when it is not valid JSON.
        let err =
            serde_json::from_str::<T>(r#"{"a": [1, 2, "three", this is not json"#).unwrap_err();
        assert!(err.to_string().contains("at most 2 items"), "{err}");
        let err = serde_json::from_str::<T>(r#"{"m": {"x": "1", "y": "#).unwrap_err();
        assert!(err.to_string().contains("at most 1 entries"), "{err}");
    }
}
