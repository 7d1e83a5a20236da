//! Request parameters as Mastodon clients send them: a query string, a
//! form, a JSON object or a multipart form, all read into one list of
//! name/value pairs (`name[]` and JSON arrays give several values).

use axum::body::Bytes;
use axum::extract::{FromRequest, Request};
use axum::http::header::CONTENT_TYPE;
use serde_json::Value;

use crate::web::error::WebError;

/// Name/value pairs from the query string and the body together.
#[derive(Debug, Clone, Default)]
pub struct Params(pub Vec<(String, String)>);

impl Params {
    /// The first value of `name` (or `name[]`), if not empty.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.all(name).into_iter().find(|v| !v.is_empty())
    }

    /// Every value of `name` and `name[]`.
    pub fn all(&self, name: &str) -> Vec<&str> {
        self.0
            .iter()
            .filter(|(k, _)| k == name || k.strip_suffix("[]") == Some(name))
            .map(|(_, v)| v.as_str())
            .collect()
    }

    /// A boolean as Mastodon clients write it (`true`, `1`, `on`).
    pub fn flag(&self, name: &str) -> bool {
        matches!(self.get(name), Some("true" | "1" | "on" | "yes"))
    }

    pub fn from_query(query: Option<&str>) -> Self {
        Params(
            url::form_urlencoded::parse(query.unwrap_or_default().as_bytes())
                .into_owned()
                .collect(),
        )
    }

    /// Reads a body of the given content type; an unreadable one is 422.
    pub fn parse_body(content_type: &str, body: &[u8]) -> Result<Self, WebError> {
        let media = content_type
            .split(';')
            .next()
            .unwrap_or_default()
            .trim()
            .to_ascii_lowercase();
        if body.is_empty() {
            return Ok(Params::default());
        }
        match media.as_str() {
            "application/json" => {
                let value: Value = serde_json::from_slice(body).map_err(|e| {
                    WebError::new(
                        axum::http::StatusCode::UNPROCESSABLE_ENTITY,
                        format!("the body is not JSON: {e}"),
                    )
                })?;
                let Value::Object(map) = value else {
                    return Err(unprocessable("the body must be a JSON object"));
                };
                let mut pairs = Vec::new();
                for (key, value) in map {
                    match value {
                        Value::Array(items) => {
                            for item in items {
                                pairs.push((key.clone(), scalar(&item)));
                            }
                        }
                        Value::Null => {}
                        other => pairs.push((key, scalar(&other))),
                    }
                }
                Ok(Params(pairs))
            }
            "multipart/form-data" => multipart(content_type, body),
            _ => Ok(Params(
                url::form_urlencoded::parse(body).into_owned().collect(),
            )),
        }
    }
}

fn unprocessable(message: &str) -> WebError {
    WebError::new(axum::http::StatusCode::UNPROCESSABLE_ENTITY, message)
}

fn scalar(value: &Value) -> String {
    match value {
        Value::String(s) => s.clone(),
        Value::Null => String::new(),
        other => other.to_string(),
    }
}

/// The text fields of a `multipart/form-data` body (files are not taken).
fn multipart(content_type: &str, body: &[u8]) -> Result<Params, WebError> {
    let boundary = content_type
        .split(';')
        .filter_map(|p| p.trim().strip_prefix("boundary="))
        .next()
        .map(|b| b.trim_matches('"').to_owned())
        .ok_or_else(|| unprocessable("the multipart body has no boundary"))?;
    let text = String::from_utf8_lossy(body);
    let delimiter = format!("--{boundary}");
    let mut pairs = Vec::new();
    for part in text.split(&delimiter).skip(1) {
        if part.starts_with("--") {
            break;
        }
        let part = part.strip_prefix("\r\n").unwrap_or(part);
        let Some((head, value)) = part.split_once("\r\n\r\n") else {
            continue;
        };
        let disposition = head
            .lines()
            .find(|l| l.to_ascii_lowercase().starts_with("content-disposition"))
            .unwrap_or_default();
        if disposition.contains("filename=") {
            continue;
        }
        let Some(name) = disposition
            .split(';')
            .filter_map(|p| p.trim().strip_prefix("name="))
            .next()
        else {
            continue;
        };
        let value = value.strip_suffix("\r\n").unwrap_or(value);
        pairs.push((name.trim_matches('"').to_owned(), value.to_owned()));
    }
    Ok(Params(pairs))
}

impl<S: Send + Sync> FromRequest<S> for Params {
    type Rejection = WebError;

    async fn from_request(request: Request, state: &S) -> Result<Self, WebError> {
        let mut params = Params::from_query(request.uri().query());
        let content_type = request
            .headers()
            .get(CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_owned();
        let body = Bytes::from_request(request, state)
            .await
            .map_err(|e| WebError::bad_request(e.body_text()))?;
        params.0.extend(Params::parse_body(&content_type, &body)?.0);
        Ok(params)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_form_and_multipart_read_alike() {
        let json = Params::parse_body(
            "application/json",
            br#"{"a":"1","b":true,"c":["x","y"],"d":null}"#,
        )
        .unwrap();
        assert_eq!(json.get("a"), Some("1"));
        assert!(json.flag("b"));
        assert_eq!(json.all("c"), ["x", "y"]);
        assert_eq!(json.get("d"), None);
        let form =
            Params::parse_body("application/x-www-form-urlencoded", b"a=1&c[]=x&c[]=y").unwrap();
        assert_eq!(form.get("a"), Some("1"));
        assert_eq!(form.all("c"), ["x", "y"]);
        let body = "--XX\r\nContent-Disposition: form-data; name=\"a\"\r\n\r\n1 2\r\n--XX\r\n\
                    Content-Disposition: form-data; name=\"f\"; filename=\"x\"\r\n\r\nbin\r\n--XX--\r\n";
        let multi =
            Params::parse_body("multipart/form-data; boundary=XX", body.as_bytes()).unwrap();
        assert_eq!(multi.get("a"), Some("1 2"));
        assert_eq!(multi.get("f"), None);
        assert!(Params::parse_body("application/json", b"[1]").is_err());
    }
}
