//! Reading JSON request bodies field by field, with messages that name the field and
//! say what to send.

use crate::service::{ErrorCode, ServiceError};
use serde_json::{Map, Value};

/// The largest request body accepted, in bytes (a 64 KiB entry body plus JSON framing).
pub const MAX_REQUEST_BYTES: usize = 256 * 1024;

/// 413 for a request body over the cap (`bytes`: its size, or as much as was read).
pub fn too_large(bytes: u64) -> ServiceError {
    ServiceError::new(
        ErrorCode::PayloadTooLarge,
        format!("the request body is {bytes} bytes or more; the limit is {MAX_REQUEST_BYTES} bytes (an entry's body is at most 64 KiB): send less"),
    )
}

/// A JSON object body whose fields are taken one by one.
pub struct JsonFields {
    map: Map<String, Value>,
}

impl JsonFields {
    /// Parses a body that must be a JSON object with only the `allowed` fields.
    pub fn parse(
        body: &[u8],
        content_type: Option<&str>,
        allowed: &[&str],
    ) -> Result<JsonFields, ServiceError> {
        if body.len() > MAX_REQUEST_BYTES {
            return Err(too_large(body.len() as u64));
        }
        if let Some(ct) = content_type {
            if !ct.to_ascii_lowercase().starts_with("application/json") {
                return Err(ServiceError::new(
                    ErrorCode::UnsupportedMediaType,
                    "send the body as JSON with Content-Type: application/json",
                ));
            }
        }
        let value: Value = serde_json::from_slice(body).map_err(|e| {
            ServiceError::new(
                ErrorCode::InvalidJson,
                format!("the body is not valid JSON ({e})"),
            )
        })?;
        if !value.is_object() {
            return Err(ServiceError::new(
                ErrorCode::InvalidJson,
                "the body must be a JSON object",
            ));
        }
        Self::from_value(value, allowed)
    }

    /// Fields of an already-parsed JSON value, which must be an object with only the
    /// `allowed` fields (`null` counts as `{}`).
    pub fn from_value(value: Value, allowed: &[&str]) -> Result<JsonFields, ServiceError> {
        let map = match value {
            Value::Object(map) => map,
            Value::Null => Map::new(),
            other => {
                return Err(ServiceError::new(
                    ErrorCode::InvalidJson,
                    format!("arguments must be an object, got {}", kind(&other)),
                ))
            }
        };
        if let Some(unknown) = map.keys().find(|k| !allowed.contains(&k.as_str())) {
            return Err(ServiceError::new(
                ErrorCode::InvalidField,
                format!(
                    "unknown field {unknown:?}; allowed fields: {}",
                    allowed.join(", ")
                ),
            ));
        }
        Ok(JsonFields { map })
    }

    /// An optional whole number field.
    pub fn opt_u64(&self, name: &str) -> Result<Option<u64>, ServiceError> {
        match self.map.get(name) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::Number(n)) if n.as_u64().is_some() => Ok(n.as_u64()),
            Some(other) => Err(ServiceError::field(
                name,
                format!("must be a whole number of 0 or more, got {}", kind(other)),
            )),
        }
    }

    /// An optional boolean field.
    pub fn opt_bool(&self, name: &str) -> Result<Option<bool>, ServiceError> {
        match self.map.get(name) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::Bool(b)) => Ok(Some(*b)),
            Some(other) => Err(ServiceError::field(
                name,
                format!("must be true or false, got {}", kind(other)),
            )),
        }
    }

    /// An optional string field (`null` counts as absent).
    pub fn opt_str(&self, name: &str) -> Result<Option<&str>, ServiceError> {
        match self.map.get(name) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::String(s)) => Ok(Some(s)),
            Some(other) => Err(ServiceError::field(
                name,
                format!("must be a string, got {}", kind(other)),
            )),
        }
    }

    /// A required string field.
    pub fn req_str(&self, name: &str) -> Result<&str, ServiceError> {
        self.opt_str(name)?
            .ok_or_else(|| ServiceError::missing(name))
    }
}

fn kind(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}
