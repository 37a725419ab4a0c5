//! Tool arguments: each tool's argument struct is declared with [`args!`], which gives
//! its input schema and its parser from the one declaration (each field's doc comment
//! is its description).

use crate::http::json::JsonFields;
use crate::service::ServiceError;
use serde_json::{json, Value};

/// A field type a tool can take.
pub trait Arg: Sized {
    /// Whether the tool needs it.
    const REQUIRED: bool = false;
    /// Its schema.
    fn schema() -> Value;
    /// Reads it from the arguments.
    fn take(f: &JsonFields, name: &str) -> Result<Self, ServiceError>;
}

impl Arg for String {
    const REQUIRED: bool = true;
    fn schema() -> Value {
        json!({"type": "string"})
    }
    fn take(f: &JsonFields, name: &str) -> Result<Self, ServiceError> {
        f.req_str(name).map(str::to_string)
    }
}

impl Arg for Option<String> {
    fn schema() -> Value {
        json!({"type": "string"})
    }
    fn take(f: &JsonFields, name: &str) -> Result<Self, ServiceError> {
        Ok(f.opt_str(name)?.map(str::to_string))
    }
}

impl Arg for Option<u64> {
    fn schema() -> Value {
        json!({"type": "integer", "minimum": 0})
    }
    fn take(f: &JsonFields, name: &str) -> Result<Self, ServiceError> {
        f.opt_u64(name)
    }
}

impl Arg for u64 {
    const REQUIRED: bool = true;
    fn schema() -> Value {
        json!({"type": "integer", "minimum": 0})
    }
    fn take(f: &JsonFields, name: &str) -> Result<Self, ServiceError> {
        f.opt_u64(name)?.ok_or_else(|| ServiceError::missing(name))
    }
}

impl Arg for Option<bool> {
    fn schema() -> Value {
        json!({"type": "boolean"})
    }
    fn take(f: &JsonFields, name: &str) -> Result<Self, ServiceError> {
        f.opt_bool(name)
    }
}

/// A string from a fixed list, checked by the service (the schema lists the values).
macro_rules! choice {
    ($(#[$m:meta])* $name:ident [$($v:literal),+]) => {
        $(#[$m])*
        pub struct $name(pub Option<String>);

        impl Arg for $name {
            fn schema() -> Value {
                json!({"type": "string", "enum": [$($v),+]})
            }
            fn take(f: &JsonFields, name: &str) -> Result<Self, ServiceError> {
                Ok($name(f.opt_str(name)?.map(str::to_string)))
            }
        }
    };
}

choice!(
    /// How to read a thread.
    Format ["markdown", "json"]
);
choice!(
    /// What to do about sync.
    SyncAction ["status", "now", "retry"]
);

/// Fields every tool takes, for compatibility with the local watercooler server.
pub const COMMON: [&str; 2] = ["code_path", "agent_func"];

/// An input schema: the tool's own properties, the common ones, nothing else.
pub fn input_schema(props: &[(&str, Value, &str, bool)]) -> Value {
    let mut s = crate::schema::object(props);
    s["properties"]["code_path"] = json!({"type": "string", "description": "Ignored"});
    s["properties"]["agent_func"] = json!({"type": "string", "pattern": "^[^:]+:[^:]*:[^:]*$", "description": "platform:model:role, e.g. Claude:opus:planner"});
    s["additionalProperties"] = json!(false);
    s
}

/// Declares a tool's arguments: the struct, its input schema and its parser.
macro_rules! args {
    ($(#[$m:meta])* $name:ident { $($(#[doc = $doc:literal])* $f:ident : $t:ty),* $(,)? }) => {
        $(#[$m])*
        pub(super) struct $name { $($(#[doc = $doc])* pub $f: $t,)* }

        impl $name {
            /// The fields the tool takes, the common ones included.
            pub(super) const FIELDS: &'static [&'static str] = &[$(stringify!($f),)* "code_path", "agent_func"];

            /// The input schema.
            pub(super) fn schema() -> serde_json::Value {
                $crate::http::mcp::tools::args::input_schema(&[
                    $((stringify!($f), <$t as $crate::http::mcp::tools::args::Arg>::schema(), concat!("" $(, $doc)*), <$t as $crate::http::mcp::tools::args::Arg>::REQUIRED),)*
                ])
            }

            /// Reads the arguments.
            #[allow(unused_variables)]
            pub(super) fn parse(f: &$crate::http::json::JsonFields) -> Result<Self, $crate::service::ServiceError> {
                Ok($name { $($f: <$t as $crate::http::mcp::tools::args::Arg>::take(f, stringify!($f))?,)* })
            }
        }
    };
}
pub(crate) use args;
