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

/// What a deserialized crew, call or hospital holds as its point on the road until it is
/// set from the snapshot that carries it beside (see `dispatcher::snapshot`): no segment
/// (`u32::MAX`), never used as such.
pub(crate) fn not_on_road() -> router::Snapped {
    router::Snapped {
        segment: u32::MAX,
        fraction: f64::NAN,
        point: osm_data::Coord::default(),
        distance_m: f64::NAN,
        input: osm_data::Coord::default(),
    }
}
