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

/// A value that must be a JSON object. serde's derived structs also accept a list of their
/// fields in order (`[null, null]`), which a JSON API should refuse; reading through this takes
/// only an object, and keeps the field paths of any error.
pub fn object<'de, D, T>(d: D) -> Result<T, D::Error>
where
    D: Deserializer<'de>,
    T: Deserialize<'de>,
{
    struct ObjectVisitor<T>(PhantomData<T>);
    impl<'de, T: Deserialize<'de>> Visitor<'de> for ObjectVisitor<T> {
        type Value = T;

        fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("a JSON object")
        }

        fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<T, A::Error> {
            T::deserialize(de::value::MapAccessDeserializer::new(map))
        }
    }
    d.deserialize_map(ObjectVisitor(PhantomData))
}

/// `T` read with [`object`]: for the items of lists.
#[derive(Debug)]
pub struct Object<T>(pub T);

impl<'de, T: Deserialize<'de>> Deserialize<'de> for Object<T> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        object(d).map(Object)
    }
}

/// A list of at most `N` JSON objects.
pub fn objects<'de, D, T, const N: usize>(d: D) -> Result<Vec<T>, D::Error>
where
    D: Deserializer<'de>,
    T: Deserialize<'de>,
{
    Ok(vec::<D, Object<T>, N>(d)?
        .into_iter()
        .map(|o| o.0)
        .collect())
}

/// An optional list of at most `N` JSON objects.
pub fn opt_objects<'de, D, T, const N: usize>(d: D) -> Result<Option<Vec<T>>, D::Error>
where
    D: Deserializer<'de>,
    T: Deserialize<'de>,
{
    Ok(opt_vec::<D, Object<T>, N>(d)?.map(|v| v.into_iter().map(|o| o.0).collect()))
}

/// An optional JSON object.
pub fn opt_object<'de, D, T>(d: D) -> Result<Option<T>, D::Error>
where
    D: Deserializer<'de>,
    T: Deserialize<'de>,
{
    Ok(Option::<Object<T>>::deserialize(d)?.map(|o| o.0))
}

/// A non-negative whole number of type `T`. JSON has one number type, and some clients (and
/// schema-driven generators) write whole numbers as `3.0`: that is taken as `3`; `3.5`, negative
/// numbers and numbers too large for `T` are refused.
pub fn whole<'de, D, T>(d: D) -> Result<T, D::Error>
where
    D: Deserializer<'de>,
    T: TryFrom<u64>,
{
    struct WholeVisitor<T>(PhantomData<T>);
    impl<T: TryFrom<u64>> WholeVisitor<T> {
        fn fit<E: de::Error>(n: u64) -> Result<T, E> {
            T::try_from(n).map_err(|_| E::custom(format!("{n} is too large")))
        }
    }
    impl<'de, T: TryFrom<u64>> Visitor<'de> for WholeVisitor<T> {
        type Value = T;

        fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("a whole number")
        }

        fn visit_u64<E: de::Error>(self, n: u64) -> Result<T, E> {
            Self::fit(n)
        }

        fn visit_i64<E: de::Error>(self, n: i64) -> Result<T, E> {
            u64::try_from(n)
                .map_err(|_| E::invalid_value(de::Unexpected::Signed(n), &self))
                .and_then(Self::fit)
        }

        fn visit_f64<E: de::Error>(self, n: f64) -> Result<T, E> {
            #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
            if n.fract() == 0.0 && (0.0..=u64::MAX as f64).contains(&n) {
                Self::fit(n as u64)
            } else {
                Err(E::invalid_value(de::Unexpected::Float(n), &self))
            }
        }
    }
    d.deserialize_any(WholeVisitor(PhantomData))
}

/// An optional [`whole`] number (`null` or absent: `None`).
pub fn opt_whole<'de, D, T>(d: D) -> Result<Option<T>, D::Error>
where
    D: Deserializer<'de>,
    T: TryFrom<u64>,
{
    struct Wrap<T>(T);
    impl<'de, T: TryFrom<u64>> Deserialize<'de> for Wrap<T> {
        fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
            whole(d).map(Wrap)
        }
    }
    Ok(Option::<Wrap<T>>::deserialize(d)?.map(|w| w.0))
}

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

    #[derive(Debug, Deserialize)]
    struct Loose {
        #[serde(default)]
        a: Option<u8>,
    }

    #[derive(Debug, Deserialize)]
    struct Num {
        #[serde(deserialize_with = "whole")]
        n: u8,
    }

    #[test]
    fn whole_numbers() {
        let n = |s: &str| serde_json::from_str::<Num>(s).map(|v| v.n);
        assert_eq!(n(r#"{"n": 3}"#).unwrap(), 3);
        assert_eq!(n(r#"{"n": 3.0}"#).unwrap(), 3);
        assert!(n(r#"{"n": 3.5}"#).is_err());
        assert!(n(r#"{"n": -1}"#).is_err());
        assert!(n(r#"{"n": 256}"#).is_err());
        assert!(n(r#"{"n": "3"}"#).is_err());
        assert!(n(r#"{"n": 1e300}"#).is_err());
    }

    #[test]
    fn objects_only() {
        // A derived struct alone takes a list of its fields; through `object` it does not.
        assert!(serde_json::from_str::<Loose>("[1]").is_ok());
        let mut de = serde_json::Deserializer::from_str("[1]");
        let err = object::<_, Loose>(&mut de).unwrap_err();
        assert!(err.to_string().contains("a JSON object"), "{err}");
        let mut de = serde_json::Deserializer::from_str(r#"{"a": 1}"#);
        assert_eq!(object::<_, Loose>(&mut de).unwrap().a, Some(1));
        let v: Vec<Object<Loose>> = serde_json::from_str(r#"[{}, {"a": 2}]"#).unwrap();
        assert_eq!(v[1].0.a, Some(2));
        assert!(serde_json::from_str::<Vec<Object<Loose>>>("[[]]").is_err());
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
