//! Reading incoming ActivityStreams documents: they are polymorphic JSON
//! (a field may hold a URL, an object or an array), so these accessors
//! read a `serde_json::Value` the forgiving way peers need.

use serde_json::Value;

/// The id of a value that is either a URL string or an object with `id`.
pub fn id_of(value: &Value) -> Option<&str> {
    match value {
        Value::String(id) => Some(id),
        Value::Object(map) => map.get("id").and_then(Value::as_str),
        _ => None,
    }
}

/// `document[field]` as an id (first element when it is an array).
pub fn field_id<'a>(document: &'a Value, field: &str) -> Option<&'a str> {
    match document.get(field)? {
        Value::Array(items) => items.iter().find_map(id_of),
        other => id_of(other),
    }
}

/// The `type` of a document (first when it is an array).
pub fn type_of(document: &Value) -> Option<&str> {
    match document.get("type")? {
        Value::String(kind) => Some(kind),
        Value::Array(kinds) => kinds.iter().find_map(Value::as_str),
        _ => None,
    }
}

/// A string field.
pub fn text<'a>(document: &'a Value, field: &str) -> Option<&'a str> {
    document.get(field).and_then(Value::as_str)
}

/// Every id in `to`, `cc`, `bto`, `bcc` and `audience`, in order, without
/// duplicates.
pub fn addressees(document: &Value) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for field in ["to", "cc", "bto", "bcc", "audience"] {
        let items: Vec<&Value> = match document.get(field) {
            Some(Value::Array(items)) => items.iter().collect(),
            Some(value) => vec![value],
            None => continue,
        };
        for id in items.into_iter().filter_map(id_of) {
            if !out.iter().any(|known| known == id) {
                out.push(id.to_owned());
            }
        }
    }
    out
}

/// Parses an xsd:dateTime (`published`, `updated`).
pub fn datetime(document: &Value, field: &str) -> Option<chrono::NaiveDateTime> {
    let text = text(document, field)?;
    chrono::DateTime::parse_from_rfc3339(text)
        .ok()
        .map(|dt| dt.naive_utc())
}

/// The host (with a non-default port) of a URL, lower-cased.
pub fn host_of_url(url: &str) -> Option<String> {
    let url = url::Url::parse(url).ok()?;
    url.host_str()?;
    Some(crate::config::host_of(&url).to_ascii_lowercase())
}

/// Whether two URLs share scheme, host and port.
pub fn same_origin(a: &str, b: &str) -> bool {
    match (url::Url::parse(a), url::Url::parse(b)) {
        (Ok(a), Ok(b)) => a.origin() == b.origin(),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn polymorphic_fields_are_read() {
        let doc = json!({
            "type": ["Create", "Extra"],
            "actor": {"id": "https://a.example/u/1", "type": "Person"},
            "object": "https://a.example/n/1",
            "to": "https://b.example/u/2",
            "cc": ["https://b.example/u/2", {"id": "https://a.example/u/1/followers"}],
            "published": "2024-01-02T03:04:05Z"
        });
        assert_eq!(type_of(&doc), Some("Create"));
        assert_eq!(field_id(&doc, "actor"), Some("https://a.example/u/1"));
        assert_eq!(field_id(&doc, "object"), Some("https://a.example/n/1"));
        assert_eq!(
            addressees(&doc),
            vec!["https://b.example/u/2", "https://a.example/u/1/followers"]
        );
        assert_eq!(
            datetime(&doc, "published").unwrap().to_string(),
            "2024-01-02 03:04:05"
        );
        assert!(same_origin("https://a.example/x", "https://a.example/y#z"));
        assert!(!same_origin(
            "https://a.example/x",
            "https://a.example:444/x"
        ));
        assert_eq!(
            host_of_url("https://A.example:8443/x").as_deref(),
            Some("a.example:8443")
        );
    }
}
