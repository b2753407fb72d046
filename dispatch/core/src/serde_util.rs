//! Serde helpers shared by the core's types.

use serde::{Deserialize, Deserializer};

/// For `Option<Option<T>>` fields with `#[serde(default)]`: a missing field is `None`, an
/// explicit `null` is `Some(None)`, a value is `Some(Some(v))`.
pub(crate) fn double_option<'de, T, D>(d: D) -> Result<Option<Option<T>>, D::Error>
where
    T: Deserialize<'de>,
    D: Deserializer<'de>,
{
    Option::<T>::deserialize(d).map(Some)
}
