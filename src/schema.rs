//! JSON Schemas derived from Rust types, for the MCP tools' inputs and outputs: the
//! type is the one definition, and its schema cannot drift from it.
//!
//! [`record!`] declares a serializable struct together with its schema; [`Schema`] is
//! the schema of a field's type. Small on purpose: a full schema crate costs more in
//! the wasm than the handful of shapes here need.

use serde_json::{json, Map, Value};

/// A type with a JSON Schema.
pub trait Schema {
    /// The schema of a value of this type.
    fn schema() -> Value;
}

macro_rules! plain {
    ($($t:ty => $json:literal),* $(,)?) => {
        $(impl Schema for $t {
            fn schema() -> Value {
                json!({"type": $json})
            }
        })*
    };
}

plain!(String => "string", bool => "boolean");

impl Schema for u64 {
    fn schema() -> Value {
        json!({"type": "integer", "minimum": 0})
    }
}

impl Schema for usize {
    fn schema() -> Value {
        u64::schema()
    }
}

impl<T: Schema> Schema for Option<T> {
    /// The type, or null.
    fn schema() -> Value {
        let mut s = T::schema();
        if let Some(t) = s.get("type").cloned().filter(Value::is_string) {
            s["type"] = json!([t, "null"]);
            s.as_object_mut().map(|o| o.remove("minimum"));
        }
        s
    }
}

impl<T: Schema> Schema for Vec<T> {
    fn schema() -> Value {
        json!({"type": "array", "items": T::schema()})
    }
}

/// An object schema from its properties (name, schema, description, required).
pub fn object(props: &[(&str, Value, &str, bool)]) -> Value {
    let mut p = Map::new();
    let mut required = vec![];
    for (name, schema, doc, req) in props {
        // A raw identifier (`r#type`) is its plain name, as serde writes it.
        let name = &name.trim_start_matches("r#");
        let mut s = schema.clone();
        if !doc.is_empty() {
            s["description"] = json!(doc.trim());
        }
        p.insert((*name).to_string(), s);
        if *req {
            required.push(*name);
        }
    }
    json!({"type": "object", "properties": p, "required": required})
}

/// Declares a serializable record and its schema. Fields under `required` are always
/// present (an `Option` there is `null` when empty); fields under `optional` are left
/// out when empty. Each field's doc comment is its description.
#[macro_export]
macro_rules! record {
    (
        $(#[$meta:meta])*
        $vis:vis struct $name:ident {
            required { $($(#[doc = $rdoc:literal])* $rf:ident : $rt:ty),* $(,)? }
            $(optional { $($(#[doc = $odoc:literal])* $of:ident : $ot:ty),* $(,)? })?
        }
    ) => {
        $(#[$meta])*
        #[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
        $vis struct $name {
            $($(#[doc = $rdoc])* pub $rf: $rt,)*
            $($(
                $(#[doc = $odoc])*
                #[serde(default, skip_serializing_if = "Option::is_none")]
                pub $of: Option<$ot>,
            )*)?
        }

        impl $crate::schema::Schema for $name {
            fn schema() -> serde_json::Value {
                $crate::schema::object(&[
                    $((stringify!($rf), <$rt as $crate::schema::Schema>::schema(), concat!("" $(, $rdoc)*), true),)*
                    $($((stringify!($of), <$ot as $crate::schema::Schema>::schema(), concat!("" $(, $odoc)*), false),)*)?
                ])
            }
        }
    };
}

#[cfg(test)]
mod tests {
    use super::*;

    crate::record! {
        /// A test record.
        struct Sample {
            required {
                /// A name.
                name: String,
                /// Maybe a note.
                note: Option<String>,
                count: u64,
            }
            optional {
                /// Left out when empty.
                extra: Vec<String>,
            }
        }
    }

    #[test]
    fn records_carry_their_schema() {
        let s = Sample::schema();
        assert_eq!(s["required"], json!(["name", "note", "count"]));
        assert_eq!(
            s["properties"]["name"],
            json!({"type": "string", "description": "A name."})
        );
        assert_eq!(s["properties"]["note"]["type"], json!(["string", "null"]));
        assert_eq!(s["properties"]["extra"]["type"], "array");
        let v = serde_json::to_value(Sample {
            name: "a".into(),
            note: None,
            count: 1,
            extra: None,
        })
        .unwrap();
        assert_eq!(v, json!({"name": "a", "note": null, "count": 1}));
    }
}
