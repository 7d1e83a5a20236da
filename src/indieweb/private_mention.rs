//! Verifying a received Private Webmention: the source is a private
//! h-entry. Its token endpoint is discovered (from the source's unauthorised
//! answer, else the site's home page), the code is redeemed there once, the
//! source is fetched with the token (same SSRF guard, size and time limits
//! as any source), and the entry becomes a direct Note from the site's
//! proxy actor to exactly the accounts it addresses: the author of what it
//! replies to, the target when that is an account, and its person tags.
//! Never to followers, never on a public page. A re-send with new content
//! is an Update to the same addressees; a source gone (410) is a Delete.

use chrono::Utc;
use http::HeaderMap;
use http::header::WWW_AUTHENTICATE;
use serde_json::Value;
use url::Url;

use super::convert::{Entry, EntryKind, hentry_to_entry};
use super::discovery::rel_from_page;
use super::links::page_facts;
use super::mf2;
use super::receive::{
    Addressing, MAX_SOURCE_BYTES, MAX_SOURCE_REDIRECTS, SOURCE_TIMEOUT, create_from_entry, record,
    site_profile, update_post, withdraw,
};
use crate::delivery::JobOutcome;
use crate::domain::DomainError;
use crate::domain::accounts::{self, Account};
use crate::domain::audience::Visibility;
use crate::domain::ledger;
use crate::domain::posts;
use crate::domain::site_grants;
use crate::domain::webmentions::{self, Mention, MentionStatus};
use crate::federation::ctx::Federation;
use crate::federation::fetch::{FetchError, Fetcher, Page};

/// The relation naming a site's token endpoint.
pub const TOKEN_ENDPOINT_REL: &str = "token_endpoint";
/// Most of a token endpoint's answer read.
const MAX_TOKEN_RESPONSE_BYTES: usize = 64 * 1024;

/// Why a private mention publishes nothing.
async fn reject(
    fed: &Federation,
    mention: &Mention,
    reason: &str,
) -> Result<JobOutcome, DomainError> {
    record(fed, mention, MentionStatus::Rejected, Some(reason), None).await?;
    Ok(JobOutcome::Done)
}

fn fetch_failure(what: &str, error: &FetchError) -> String {
    match error {
        FetchError::ForbiddenAddress(_) => format!("{what} is on a private address"),
        FetchError::Timeout => format!("{what} timed out"),
        other => format!("{what} cannot be fetched: {other}"),
    }
}

/// Verifies a Private Webmention. Once its code is taken, every failure is
/// final (the code cannot be presented twice): the mention is rejected with
/// the reason, and its sender may send again with a new code.
pub async fn verify(fed: &Federation, mention: &Mention) -> Result<JobOutcome, DomainError> {
    let Some(private) = webmentions::take_code(&fed.store, mention.id).await? else {
        return reject(fed, mention, "the code was presented already").await;
    };
    let Ok(source) = Url::parse(&mention.source) else {
        return reject(fed, mention, "the source is not a URL").await;
    };
    // Unauthorised first: the answer names the token endpoint and realm.
    let probe = match fetch(fed, &source, None).await {
        Ok(page) => page,
        Err(error) => return reject(fed, mention, &fetch_failure("the source", &error)).await,
    };
    if probe.status == http::StatusCode::GONE {
        withdraw(fed, mention, "the source is gone (410)").await?;
        return Ok(JobOutcome::Done);
    }
    if let Some(realm) = &private.realm
        && challenge_realm(&probe.headers).as_deref() != Some(realm.as_str())
    {
        return reject(fed, mention, "the realm does not match the source's").await;
    }
    let Some(endpoint) = token_endpoint(fed, &probe).await else {
        return reject(fed, mention, "the source names no token endpoint").await;
    };
    let token = match redeem_code(&fed.fetcher, &endpoint, &private.code).await {
        Ok(token) => token,
        Err(reason) => return reject(fed, mention, &reason).await,
    };
    let page = match fetch(fed, &source, Some(&token)).await {
        Ok(page) => page,
        Err(error) => return reject(fed, mention, &fetch_failure("the source", &error)).await,
    };
    if page.status == http::StatusCode::GONE {
        withdraw(fed, mention, "the source is gone (410)").await?;
        return Ok(JobOutcome::Done);
    }
    if !page.status.is_success() {
        let reason = format!("the source answered {} to the token", page.status.as_u16());
        return reject(fed, mention, &reason).await;
    }
    if page.body.len() > MAX_SOURCE_BYTES {
        return reject(fed, mention, "the source is larger than 1 MiB").await;
    }
    let html = String::from_utf8_lossy(&page.body).into_owned();
    let facts = page_facts(&html, &page.final_url);
    if facts.gone {
        withdraw(fed, mention, "the source says it is gone (410)").await?;
        return Ok(JobOutcome::Done);
    }
    if !facts.links_to(&mention.target) {
        if mention.object_ap_id.is_some() {
            withdraw(fed, mention, "the source no longer links to the target").await?;
            return Ok(JobOutcome::Done);
        }
        return reject(fed, mention, "the source does not link to the target").await;
    }
    let document = match mf2::parse_blocking(html, page.final_url.clone(), fed.mf2_limits).await {
        Ok(document) => document,
        Err(error) => {
            return reject(fed, mention, &format!("the source cannot be read: {error}")).await;
        }
    };
    let entries = mf2::find_items(&document, "h-entry");
    let Some(item) = entries
        .iter()
        .find(|e| e.first_url("url").as_deref() == Some(mention.source.as_str()))
        .or(entries.first())
        .copied()
    else {
        return reject(fed, mention, "no h-entry: nothing to deliver").await;
    };
    let mut entry = hentry_to_entry(&item.to_json());
    if !matches!(entry.kind, EntryKind::Note | EntryKind::Article) {
        return reject(fed, mention, "only private notes are delivered").await;
    }
    // The source page speaks for the site it was served from.
    let origin = page.final_url.clone();
    entry.url = Some(mention.source.clone())
        .filter(|u| Url::parse(u).is_ok_and(|u| u.origin() == origin.origin()));
    let site = site_profile(fed, &document, item, &page.final_url).await;
    let proxy = crate::federation::actor_cache::ensure_proxy(fed, site).await?;
    let addressees = addressees(fed, &mut entry, &mention.target, &origin, &proxy).await?;
    if addressees.is_empty() {
        return reject(fed, mention, "the entry addresses nobody here").await;
    }
    let source_url = entry
        .url
        .clone()
        .unwrap_or_else(|| page.final_url.to_string());
    publish(fed, &proxy, mention, entry, addressees, source_url).await?;
    fed.wake.notify_one();
    Ok(JobOutcome::Done)
}

async fn fetch(fed: &Federation, source: &Url, token: Option<&str>) -> Result<Page, FetchError> {
    let get = async {
        match token {
            Some(token) => {
                fed.fetcher
                    .get_page_with_token(source, token, MAX_SOURCE_BYTES + 1, MAX_SOURCE_REDIRECTS)
                    .await
            }
            None => {
                fed.fetcher
                    .get_page(source, MAX_SOURCE_BYTES + 1, MAX_SOURCE_REDIRECTS)
                    .await
            }
        }
    };
    tokio::time::timeout(SOURCE_TIMEOUT, get)
        .await
        .unwrap_or(Err(FetchError::Timeout))
}

/// The `realm` of a `WWW-Authenticate: Bearer …` challenge.
pub fn challenge_realm(headers: &HeaderMap) -> Option<String> {
    headers.get_all(WWW_AUTHENTICATE).iter().find_map(|value| {
        let text = value.to_str().ok()?.trim();
        let (scheme, params) = text.split_once(' ')?;
        if !scheme.eq_ignore_ascii_case("bearer") {
            return None;
        }
        let at = params.to_ascii_lowercase().find("realm=")?;
        let rest = &params[at + "realm=".len()..];
        Some(match rest.strip_prefix('"') {
            Some(quoted) => quoted.split('"').next()?.to_owned(),
            None => rest.split([',', ' ']).next()?.to_owned(),
        })
    })
}

/// The token endpoint the source names (header or HTML), else the one its
/// site's home page names.
async fn token_endpoint(fed: &Federation, probe: &Page) -> Option<Url> {
    if let Some(found) = rel_from_page(
        &probe.final_url,
        &probe.headers,
        &probe.body,
        TOKEN_ENDPOINT_REL,
    ) {
        return Some(found);
    }
    let mut home = probe.final_url.clone();
    home.set_path("/");
    home.set_query(None);
    let page = fed
        .fetcher
        .get_page(&home, MAX_SOURCE_BYTES, 5)
        .await
        .ok()?;
    rel_from_page(
        &page.final_url,
        &page.headers,
        &page.body,
        TOKEN_ENDPOINT_REL,
    )
}

/// Exchanges the code for an access token at `endpoint`, through the
/// guarded client; `Err` is the reason to record.
pub async fn redeem_code(fetcher: &Fetcher, endpoint: &Url, code: &str) -> Result<String, String> {
    let form = [("grant_type", "authorization_code"), ("code", code)];
    let (status, body) = fetcher
        .post_form_for_body(endpoint, &form, MAX_TOKEN_RESPONSE_BYTES)
        .await
        .map_err(|error| fetch_failure("the token endpoint", &error))?;
    if !status.is_success() {
        return Err(format!(
            "the token endpoint refused the code ({})",
            status.as_u16()
        ));
    }
    serde_json::from_slice::<Value>(&body)
        .ok()
        .and_then(|answer| answer.get("access_token")?.as_str().map(str::to_owned))
        .filter(|token| !token.is_empty())
        .ok_or_else(|| "the token endpoint gave no access_token".to_owned())
}

/// The actors the private entry is for: the author of what it replies to
/// (a private page of ours given to this site stands for its note), the
/// target when it is an account, and its person tags. In-reply-to URLs are
/// rewritten to the ids of the notes they stand for.
async fn addressees(
    fed: &Federation,
    entry: &mut Entry,
    target: &str,
    site: &Url,
    proxy: &Account,
) -> Result<Vec<String>, DomainError> {
    let mut found: Vec<String> = Vec::new();
    let mut push = |actor: String| {
        if actor != proxy.actor_url && !found.contains(&actor) {
            found.push(actor);
        }
    };
    let mut replies = Vec::new();
    for url in entry
        .in_reply_to
        .iter()
        .chain(std::iter::once(&target.to_owned()))
    {
        let object = match fed.urls.private_page_key(url) {
            Some(key) => site_grants::page_of_site(&fed.store, key, site)
                .await?
                .map(|page| page.object_ap_id),
            None => Some(url.clone()),
        };
        let Some(object) = object else { continue };
        if let Some(post) = posts::find_post(&fed.store, &object).await?
            && let Some(author) = accounts::find_by_id(&fed.store, post.author_id).await?
        {
            push(author.actor_url);
            if entry.in_reply_to.contains(url) && !replies.contains(&object) {
                replies.push(object);
            }
        }
    }
    if !replies.is_empty() {
        entry.in_reply_to = replies;
    } else {
        entry
            .in_reply_to
            .retain(|url| fed.urls.private_page_key(url).is_none());
    }
    let mut people: Vec<&str> = vec![target];
    people.extend(entry.person_tags.iter().map(String::as_str));
    for url in people {
        if let Some(account) = person(fed, url).await? {
            push(account.actor_url);
        }
    }
    Ok(found)
}

/// The account a URL names: a stored actor, a local profile page, or a
/// remote actor fetched now. Sites' proxies and rooms are not people.
async fn person(fed: &Federation, url: &str) -> Result<Option<Account>, DomainError> {
    let local = match fed.urls.local_name_of(url) {
        Some((Some(crate::urls::USERS) | None, name)) => {
            accounts::find_local(&fed.store, name).await?
        }
        _ => None,
    };
    let account = match local {
        Some(account) => Some(account),
        None => match accounts::find_by_actor_url(&fed.store, url).await? {
            Some(account) => Some(account),
            None if !url.starts_with(&fed.urls.origin()) => {
                crate::federation::resolve::actor(fed, url).await.ok()
            }
            None => None,
        },
    };
    Ok(account.filter(|a| {
        !a.is_hidden()
            && a.site_url.is_none()
            && a.kind == crate::domain::accounts::AccountKind::Person
    }))
}

/// Publishes the entry as a direct note to `to` (a Create), or an Update
/// of the note this source made before.
async fn publish(
    fed: &Federation,
    proxy: &Account,
    mention: &Mention,
    mut entry: Entry,
    to: Vec<String>,
    source_url: String,
) -> Result<(), DomainError> {
    let now = Utc::now().naive_utc();
    let verified = |object_ap_id: &str| ledger::Bookkeeping::MentionVerified {
        mention_id: mention.id,
        object_ap_id: object_ap_id.to_owned(),
    };
    if let Some(existing) = posts::find_by_source(&fed.store, &source_url, proxy.id).await? {
        let recorded = update_post(
            fed,
            proxy,
            &existing,
            &entry,
            now,
            verified(&existing.ap_id),
        )
        .await?;
        if !recorded {
            record(
                fed,
                mention,
                MentionStatus::Verified,
                None,
                Some(existing.ap_id),
            )
            .await?;
        }
        return Ok(());
    }
    // Every addressee is mentioned: a direct note, as other servers read it.
    entry.person_tags = to.clone();
    let addressing = Addressing {
        to,
        cc: Vec::new(),
        visibility: Visibility::Direct,
    };
    create_from_entry(
        fed,
        proxy,
        entry,
        source_url,
        addressing,
        Vec::new(),
        verified,
    )
    .await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_realm_of_a_bearer_challenge() {
        let mut headers = HeaderMap::new();
        headers.insert(
            WWW_AUTHENTICATE,
            "Bearer realm=\"site.example\", error=\"invalid_token\""
                .parse()
                .unwrap(),
        );
        assert_eq!(challenge_realm(&headers).as_deref(), Some("site.example"));
        headers.insert(WWW_AUTHENTICATE, "Bearer realm=plain".parse().unwrap());
        assert_eq!(challenge_realm(&headers).as_deref(), Some("plain"));
        headers.insert(WWW_AUTHENTICATE, "Basic realm=\"x\"".parse().unwrap());
        assert_eq!(challenge_realm(&headers), None);
    }
}
