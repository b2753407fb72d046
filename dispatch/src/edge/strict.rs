//! A JSON value read strictly: an object where the type is a struct, never a list of the
//! struct's fields in order, which serde's derive also accepts (`[null, null]` as a crew
//! change, say) and which no client means.
//!
//! [`Strict`] is a `serde::Deserializer` over a `serde_json::Value` that refuses a list for
//! a struct at any depth, and otherwise reads the value as `serde_json` does.

use serde::de::{
    self, DeserializeSeed, Deserializer, IntoDeserializer, MapAccess, SeqAccess, Unexpected,
    Visitor,
};
use serde_json::{Map, Value};

/// A JSON value whose structs must be objects.
pub(crate) struct Strict(pub(crate) Value);

type Error = serde_json::Error;

impl<'de> Deserializer<'de> for Strict {
    type Error = Error;

    fn deserialize_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        match self.0 {
            Value::Object(map) => visitor.visit_map(Fields::new(map)),
            Value::Array(items) => visitor.visit_seq(Items(items.into_iter())),
            other => other.deserialize_any(visitor),
        }
    }

    fn deserialize_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        _fields: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, Error> {
        match self.0 {
            Value::Object(map) => visitor.visit_map(Fields::new(map)),
            Value::Array(_) => Err(de::Error::invalid_type(Unexpected::Seq, &"an object")),
            other => other.deserialize_any(visitor),
        }
    }

    fn deserialize_option<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        match self.0 {
            Value::Null => visitor.visit_none(),
            other => visitor.visit_some(Strict(other)),
        }
    }

    fn deserialize_newtype_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        visitor: V,
    ) -> Result<V::Value, Error> {
        visitor.visit_newtype_struct(self)
    }

    fn deserialize_enum<V: Visitor<'de>>(
        self,
        name: &'static str,
        variants: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, Error> {
        // The API's enums are names (`"emergency"`); `serde_json` reads them.
        self.0.deserialize_enum(name, variants, visitor)
    }

    serde::forward_to_deserialize_any! {
        bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string bytes byte_buf
        unit unit_struct seq tuple tuple_struct map identifier ignored_any
    }
}

/// The members of an object, each value read strictly.
struct Fields {
    iter: serde_json::map::IntoIter,
    value: Option<Value>,
}

impl Fields {
    fn new(map: Map<String, Value>) -> Fields {
        Fields {
            iter: map.into_iter(),
            value: None,
        }
    }
}

impl<'de> MapAccess<'de> for Fields {
    type Error = Error;

    fn next_key_seed<K: DeserializeSeed<'de>>(
        &mut self,
        seed: K,
    ) -> Result<Option<K::Value>, Error> {
        match self.iter.next() {
            Some((key, value)) => {
                self.value = Some(value);
                seed.deserialize(key.into_deserializer()).map(Some)
            }
            None => Ok(None),
        }
    }

    fn next_value_seed<V: DeserializeSeed<'de>>(&mut self, seed: V) -> Result<V::Value, Error> {
        let value = self
            .value
            .take()
            .ok_or_else(|| de::Error::custom("a value was read before its key"))?;
        seed.deserialize(Strict(value))
    }

    fn size_hint(&self) -> Option<usize> {
        Some(self.iter.len())
    }
}

/// The items of a list, each read strictly.
struct Items(std::vec::IntoIter<Value>);

impl<'de> SeqAccess<'de> for Items {
    type Error = Error;

    fn next_element_seed<T: DeserializeSeed<'de>>(
        &mut self,
        seed: T,
    ) -> Result<Option<T::Value>, Error> {
        self.0
            .next()
            .map(|v| seed.deserialize(Strict(v)))
            .transpose()
    }

    fn size_hint(&self) -> Option<usize> {
        Some(self.0.len())
    }
}

#[cfg(test)]
mod tests {
    use serde::Deserialize;
    use serde_json::json;

    use super::Strict;

    #[derive(Debug, Deserialize, PartialEq)]
    struct Inner {
        a: Option<u8>,
    }

    #[derive(Debug, Deserialize, PartialEq)]
    struct Outer {
        inner: Option<Inner>,
        list: Option<Vec<Inner>>,
        n: Option<f64>,
    }

    fn read(v: serde_json::Value) -> Result<Outer, serde_json::Error> {
        Outer::deserialize(Strict(v))
    }

    #[test]
    fn a_struct_is_an_object_at_every_depth() {
        // serde_json itself takes the lists.
        assert!(serde_json::from_value::<Outer>(json!([null, null, null])).is_ok());
        assert!(serde_json::from_value::<Outer>(json!({"inner": [1]})).is_ok());
        for bad in [
            json!([null, null, null]),
            json!({"inner": [1]}),
            json!({"list": [{"a": 1}, [2]]}),
        ] {
            let e = read(bad.clone()).expect_err(&bad.to_string());
            assert!(e.to_string().contains("expected an object"), "{e}");
        }
    }

    #[test]
    fn everything_else_reads_as_serde_json_reads_it() {
        for good in [
            json!({}),
            json!({"inner": null, "list": null, "n": null}),
            json!({"inner": {"a": 7}, "list": [{"a": 1}, {"a": null}], "n": 2}),
            json!({"n": 2.5}),
        ] {
            assert_eq!(
                read(good.clone()).unwrap(),
                serde_json::from_value::<Outer>(good).unwrap()
            );
        }
        for bad in [json!({"n": "2"}), json!({"inner": {"a": 300}}), json!(5)] {
            assert!(read(bad.clone()).is_err(), "{bad}");
            assert!(serde_json::from_value::<Outer>(bad).is_err());
        }
    }
}
