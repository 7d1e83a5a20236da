//! Paging as Mastodon does it: `max_id`, `since_id`, `min_id` and `limit`
//! in, a `Link` header with `next` (older) and `prev` (newer) out.

use crate::domain::timelines::PageQuery;

/// Default and largest page sizes.
pub const DEFAULT_LIMIT: i64 = 20;
pub const MAX_LIMIT: i64 = 40;

fn id(value: Option<&str>) -> Option<i64> {
    value.and_then(|v| v.trim().parse::<i64>().ok())
}

/// The page a request asks for (ids that are not numbers are ignored).
pub fn page_query(
    max_id: Option<&str>,
    since_id: Option<&str>,
    min_id: Option<&str>,
    limit: Option<&str>,
) -> PageQuery {
    PageQuery {
        max_id: id(max_id),
        since_id: id(since_id),
        min_id: id(min_id),
        limit: id(limit).unwrap_or(DEFAULT_LIMIT).clamp(1, MAX_LIMIT),
    }
}

/// The `Link` header of a page whose items have these ids (newest first),
/// for the endpoint at `url` (no query); `None` for an empty page.
pub fn link_header(url: &str, ids: &[i64], extra: &[(String, String)]) -> Option<String> {
    let (newest, oldest) = (ids.iter().max()?, ids.iter().min()?);
    let query = |key: &str, value: i64| {
        let mut serializer = url::form_urlencoded::Serializer::new(String::new());
        for (k, v) in extra {
            serializer.append_pair(k, v);
        }
        serializer.append_pair(key, &value.to_string());
        serializer.finish()
    };
    Some(format!(
        "<{url}?{}>; rel=\"next\", <{url}?{}>; rel=\"prev\"",
        query("max_id", *oldest),
        query("min_id", *newest)
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pages_and_links() {
        let page = page_query(Some("10"), None, Some("x"), Some("100"));
        assert_eq!(page.max_id, Some(10));
        assert_eq!(page.min_id, None);
        assert_eq!(page.limit, MAX_LIMIT);
        assert_eq!(
            link_header("https://a.example/api/v1/timelines/home", &[9, 7, 5], &[]).unwrap(),
            "<https://a.example/api/v1/timelines/home?max_id=5>; rel=\"next\", \
             <https://a.example/api/v1/timelines/home?min_id=9>; rel=\"prev\""
        );
        assert!(link_header("u", &[], &[]).is_none());
    }
}
