//! Reading response bodies within limits.

use serde_json::Value;

use super::FetchError;
use super::error::request_error;

/// Reads the body, refusing it as soon as it passes `limit` bytes (whatever
/// Content-Length says, if anything).
pub(super) async fn read_capped(
    response: &mut reqwest::Response,
    limit: usize,
) -> Result<Vec<u8>, FetchError> {
    let limit_u64 = u64::try_from(limit).unwrap_or(u64::MAX);
    if response.content_length().is_some_and(|len| len > limit_u64) {
        return Err(FetchError::TooLarge);
    }
    let mut body = Vec::new();
    while let Some(chunk) = response.chunk().await.map_err(request_error)? {
        if chunk.len() > limit - body.len() {
            return Err(FetchError::TooLarge);
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body)
}

/// Reads and drops up to about `limit` bytes of the body; errors are ignored
/// (the status has already arrived).
pub(super) async fn discard_body(response: &mut reqwest::Response, limit: usize) {
    let mut read = 0;
    while read < limit {
        match response.chunk().await {
            Ok(Some(chunk)) => read += chunk.len(),
            Ok(None) | Err(_) => break,
        }
    }
}

pub(super) fn json_object(body: &[u8]) -> Result<Value, FetchError> {
    match serde_json::from_slice(body) {
        Ok(value @ Value::Object(_)) => Ok(value),
        Ok(other) => Err(FetchError::NotJson(format!(
            "expected an object, got {}",
            json_kind(&other)
        ))),
        Err(err) => Err(FetchError::NotJson(err.to_string())),
    }
}

fn json_kind(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}
