//! OAuth 2 authorization (RFC 6749 code flow with PKCE S256 only, RFC 7591
//! registration, RFC 7009 revocation) and the passwords it logs in with.

use argon2::Argon2;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use base64::Engine;
use chrono::{Duration, Utc};

use super::DomainError;
use super::accounts::{Account, AccountKind, row_to_account};
use super::names::normalize_name;
use super::tokens::{Scopes, hash_token, new_token};
use crate::store::Store;
use crate::store::accounts as account_rows;
use crate::store::oauth::{self as rows, NewClientRow, NewGrantRow};
use crate::store::tokens::{self as token_rows, NewTokenRow};

/// Scopes a client may ask for (besides the granular `read:*`/`write:*`).
pub const KNOWN_SCOPES: &[&str] = &["read", "write", "follow", "push", "profile"];
/// The granular scopes of the Mastodon API, after `read:` or `write:`.
pub const GRANULAR_READ: &[&str] = &[
    "accounts",
    "blocks",
    "bookmarks",
    "favourites",
    "filters",
    "follows",
    "lists",
    "mutes",
    "notifications",
    "search",
    "statuses",
];
pub const GRANULAR_WRITE: &[&str] = &[
    "accounts",
    "blocks",
    "bookmarks",
    "conversations",
    "favourites",
    "filters",
    "follows",
    "lists",
    "media",
    "mutes",
    "notifications",
    "reports",
    "statuses",
];
/// The out-of-band redirect URI: the code is shown on a page to copy.
pub const OOB_REDIRECT: &str = "urn:ietf:wg:oauth:2.0:oob";

/// Whether `scope` is one a client may ask for.
pub fn known_scope(scope: &str) -> bool {
    if KNOWN_SCOPES.contains(&scope) {
        return true;
    }
    match scope.split_once(':') {
        Some(("read", rest)) => GRANULAR_READ.contains(&rest),
        Some(("write", rest)) => GRANULAR_WRITE.contains(&rest),
        _ => false,
    }
}
/// How long a login may wait for consent, and a code for its exchange.
pub const GRANT_LIFETIME: Duration = Duration::minutes(10);
/// How long an access token lives.
pub const ACCESS_TOKEN_LIFETIME: Duration = Duration::days(30);
/// Longest password accepted (argon2 takes any length; this bounds work).
pub const MAX_PASSWORD_LEN: usize = 1024;

/// An OAuth failure, with the RFC 6749 error code it maps to.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum OAuthError {
    #[error("invalid_request: {0}")]
    InvalidRequest(String),
    #[error("invalid_client")]
    InvalidClient,
    #[error("invalid_grant: {0}")]
    InvalidGrant(&'static str),
    #[error("invalid_scope")]
    InvalidScope,
    #[error("invalid_redirect_uri")]
    InvalidRedirectUri,
}

impl OAuthError {
    pub fn code(&self) -> &'static str {
        match self {
            OAuthError::InvalidRequest(_) => "invalid_request",
            OAuthError::InvalidClient => "invalid_client",
            OAuthError::InvalidGrant(_) => "invalid_grant",
            OAuthError::InvalidScope => "invalid_scope",
            OAuthError::InvalidRedirectUri => "invalid_redirect_uri",
        }
    }
}

fn random_token(bytes: usize) -> Result<String, DomainError> {
    let mut secret = vec![0u8; bytes];
    openssl::rand::rand_bytes(&mut secret)?;
    Ok(base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(secret))
}

/// A client as registered.
#[derive(Debug, Clone)]
pub struct Client {
    pub client_id: String,
    pub name: String,
    pub redirect_uris: Vec<String>,
    /// Confidential clients authenticate at the token endpoint.
    pub confidential: bool,
    secret_hash: Option<String>,
}

impl Client {
    /// Checks the secret of a confidential client (public clients have none).
    pub fn authenticates(&self, secret: Option<&str>) -> bool {
        match (&self.secret_hash, secret) {
            (None, _) => true,
            (Some(hash), Some(secret)) => {
                openssl::memcmp::eq(hash.as_bytes(), hash_token(secret).as_bytes())
            }
            (Some(_), None) => false,
        }
    }
}

/// A newly registered client; the secret is shown once.
#[derive(Debug, Clone)]
pub struct Registered {
    pub client: Client,
    pub client_secret: Option<String>,
}

/// Checks a redirect URI a client wants to register: absolute, https, or
/// http on loopback (native apps), the out-of-band URN, or a private-use
/// scheme (`com.example.app:/cb`, `oauth2redirect://app/`); no fragment;
/// never a scheme a browser would run or read locally.
pub fn valid_redirect_uri(uri: &str) -> bool {
    if uri == OOB_REDIRECT {
        return true;
    }
    let Ok(url) = url::Url::parse(uri) else {
        return false;
    };
    if url.fragment().is_some() {
        return false;
    }
    match url.scheme() {
        "https" => url.host_str().is_some(),
        "http" => matches!(url.host_str(), Some("localhost" | "127.0.0.1" | "[::1]")),
        "javascript" | "data" | "file" | "vbscript" | "blob" | "about" | "filesystem" | "ftp"
        | "ws" | "wss" | "urn" | "mailto" | "tel" | "view-source" => false,
        _ => true,
    }
}

/// RFC 7591: registers a client.
pub async fn register_client(
    store: &Store,
    name: &str,
    redirect_uris: Vec<String>,
    confidential: bool,
) -> Result<Result<Registered, OAuthError>, DomainError> {
    if redirect_uris.is_empty() || !redirect_uris.iter().all(|u| valid_redirect_uri(u)) {
        return Ok(Err(OAuthError::InvalidRedirectUri));
    }
    let client_id = random_token(16)?;
    let client_secret = if confidential {
        Some(random_token(32)?)
    } else {
        None
    };
    let secret_hash = client_secret.as_deref().map(hash_token);
    let name = if name.trim().is_empty() {
        "Unnamed client".to_owned()
    } else {
        name.trim().chars().take(200).collect()
    };
    let uris_text = serde_json::to_string(&redirect_uris).expect("strings serialise");
    let client = Client {
        client_id: client_id.clone(),
        name: name.clone(),
        redirect_uris,
        confidential,
        secret_hash: secret_hash.clone(),
    };
    store
        .run(move |conn| {
            rows::insert_client(
                conn,
                &NewClientRow {
                    client_id: &client_id,
                    secret_hash: secret_hash.as_deref(),
                    name: &name,
                    redirect_uris: &uris_text,
                    created_at: Utc::now().naive_utc(),
                },
            )?;
            Ok::<_, DomainError>(())
        })
        .await?;
    Ok(Ok(Registered {
        client,
        client_secret,
    }))
}

pub async fn find_client(store: &Store, client_id: &str) -> Result<Option<Client>, DomainError> {
    let client_id = client_id.to_owned();
    store
        .run(move |conn| {
            Ok(rows::find_client(conn, &client_id)?.map(|row| Client {
                confidential: row.secret_hash.is_some(),
                redirect_uris: serde_json::from_str(&row.redirect_uris).unwrap_or_default(),
                client_id: row.client_id,
                name: row.name,
                secret_hash: row.secret_hash,
            }))
        })
        .await
}

/// Parses requested scopes; none means `read`. Unknown scopes are refused.
pub fn requested_scopes(text: Option<&str>) -> Result<Scopes, OAuthError> {
    let scopes = Scopes::parse(text.unwrap_or("read"));
    if scopes.0.is_empty() {
        return Ok(Scopes::parse("read"));
    }
    if scopes.0.iter().all(|s| known_scope(s)) {
        Ok(scopes)
    } else {
        Err(OAuthError::InvalidScope)
    }
}

fn hash_password(password: &str) -> Result<String, DomainError> {
    let mut salt = [0u8; 16];
    openssl::rand::rand_bytes(&mut salt)?;
    let salt = SaltString::encode_b64(&salt).map_err(|e| DomainError::Password(e.to_string()))?;
    Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map(|hash| hash.to_string())
        .map_err(|e| DomainError::Password(e.to_string()))
}

/// Stores the argon2 hash of a local user's password.
pub async fn set_password(store: &Store, name: &str, password: String) -> Result<(), DomainError> {
    if password.is_empty() || password.len() > MAX_PASSWORD_LEN {
        return Err(DomainError::Password(format!(
            "a password must have 1 to {MAX_PASSWORD_LEN} bytes"
        )));
    }
    let name = normalize_name(name).ok_or_else(|| DomainError::NoSuchUser(name.to_owned()))?;
    let hash = tokio::task::spawn_blocking(move || hash_password(&password))
        .await
        .map_err(|_| crate::store::StoreError::Cancelled)??;
    store
        .run(move |conn| {
            let account = account_rows::find_local(conn, &name)?
                .filter(|row| row.kind == AccountKind::Person.as_str())
                .ok_or_else(|| DomainError::NoSuchUser(name.clone()))?;
            rows::set_password_hash(conn, account.id, &hash)?;
            Ok(())
        })
        .await
}

/// The local user named `name` and their password hash, if they have one.
pub(super) async fn password_hash_of(
    store: &Store,
    name: &str,
) -> Result<Option<(Account, String)>, DomainError> {
    let Some(name) = normalize_name(name) else {
        return Ok(None);
    };
    store
        .run(move |conn| {
            let Some(row) = account_rows::find_local(conn, &name)?
                .filter(|row| row.kind == AccountKind::Person.as_str())
                // A suspended or deleted account cannot sign in.
                .filter(|row| row.suspended_at.is_none() && row.deleted_at.is_none())
            else {
                return Ok::<_, DomainError>(None);
            };
            let hash = rows::password_hash(conn, row.id)?;
            Ok(hash.map(|hash| (row_to_account(row), hash)))
        })
        .await
}

/// Argon2 verifications this process has run: every password check runs
/// exactly one, whether the account exists, has a password or not.
static ARGON2_VERIFICATIONS: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);

/// How many argon2 verifications this process has run.
pub fn argon2_verifications() -> u64 {
    ARGON2_VERIFICATIONS.load(std::sync::atomic::Ordering::Relaxed)
}

/// Whether `password` matches an argon2 `hash` (CPU and about 19 MiB for
/// a moment: run it on the blocking pool, and not too many at once).
pub(super) fn verify_password(hash: &str, password: &str) -> bool {
    PasswordHash::new(hash)
        .map(|parsed| {
            ARGON2_VERIFICATIONS.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            Argon2::default()
                .verify_password(password.as_bytes(), &parsed)
                .is_ok()
        })
        .unwrap_or(false)
}

/// A hash of a random password made once per process: checked instead
/// when there is no user or no password, so that both answer as slowly as
/// a wrong password does.
pub(super) fn dummy_hash() -> &'static str {
    static DUMMY: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    DUMMY.get_or_init(|| {
        let password = random_token(16).unwrap_or_else(|_| "no-password".into());
        hash_password(&password).unwrap_or_default()
    })
}

/// What a client asked for at the authorization endpoint, checked.
#[derive(Debug, Clone)]
pub struct GrantRequest {
    pub client_id: String,
    pub redirect_uri: String,
    pub scopes: Scopes,
    pub state: Option<String>,
    /// The PKCE S256 challenge; empty when a confidential client sent none.
    pub code_challenge: String,
}

/// A logged-in request waiting for consent.
#[derive(Debug, Clone)]
pub struct PendingGrant {
    pub client_name: String,
    pub account: Account,
    pub scopes: Scopes,
}

/// Records a login that awaits consent; returns the consent token.
pub async fn begin_grant(
    store: &Store,
    account: &Account,
    request: GrantRequest,
) -> Result<String, DomainError> {
    let consent = random_token(32)?;
    let consent_hash = hash_token(&consent);
    let account_id = account.id;
    store
        .run(move |conn| {
            let now = Utc::now().naive_utc();
            rows::insert_grant(
                conn,
                &NewGrantRow {
                    consent_hash: &consent_hash,
                    client_id: &request.client_id,
                    account_id,
                    redirect_uri: &request.redirect_uri,
                    scopes: &request.scopes.as_text(),
                    state: request.state.as_deref(),
                    code_challenge: &request.code_challenge,
                    created_at: now,
                    expires_at: now + GRANT_LIFETIME,
                },
            )?;
            Ok::<_, DomainError>(())
        })
        .await?;
    Ok(consent)
}

/// The grant behind a consent token, while it awaits consent.
pub async fn pending_grant(
    store: &Store,
    consent: &str,
) -> Result<Option<PendingGrant>, DomainError> {
    let consent_hash = hash_token(consent);
    store
        .run(move |conn| {
            let Some(grant) = rows::find_grant_by_consent(conn, &consent_hash)? else {
                return Ok(None);
            };
            if grant.approved_at.is_some() || grant.expires_at <= Utc::now().naive_utc() {
                return Ok(None);
            }
            let client = rows::find_client(conn, &grant.client_id)?;
            let account = account_rows::find(conn, grant.account_id)?;
            Ok(client.zip(account).map(|(client, account)| PendingGrant {
                client_name: client.name,
                account: row_to_account(account),
                scopes: Scopes::parse(&grant.scopes),
            }))
        })
        .await
}

/// Where to send the user agent after consent was given or refused.
#[derive(Debug, Clone)]
pub struct Decision {
    pub redirect_uri: String,
    pub state: Option<String>,
    /// The authorization code, when consent was given.
    pub code: Option<String>,
}

/// Gives or refuses consent for a pending grant.
pub async fn decide(
    store: &Store,
    consent: &str,
    allow: bool,
) -> Result<Option<Decision>, DomainError> {
    let consent_hash = hash_token(consent);
    let code = random_token(32)?;
    let code_hash = hash_token(&code);
    store
        .transaction(move |conn| {
            let Some(grant) = rows::find_grant_by_consent(conn, &consent_hash)? else {
                return Ok(None);
            };
            let now = Utc::now().naive_utc();
            if grant.approved_at.is_some() || grant.expires_at <= now {
                return Ok(None);
            }
            let code = if allow {
                rows::approve_grant(conn, grant.id, &code_hash, now, now + GRANT_LIFETIME)?;
                Some(code)
            } else {
                // A refused grant can never be approved later.
                rows::approve_grant(conn, grant.id, &code_hash, now, now)?;
                rows::use_grant(conn, grant.id, now)?;
                None
            };
            Ok(Some(Decision {
                redirect_uri: grant.redirect_uri,
                state: grant.state,
                code,
            }))
        })
        .await
}

/// An access token as issued.
#[derive(Debug, Clone)]
pub struct IssuedToken {
    pub access_token: String,
    pub scopes: Scopes,
    pub expires_in: i64,
    /// Seconds since the epoch.
    pub created_at: i64,
}

/// The S256 transform of a PKCE verifier.
pub fn s256(verifier: &str) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD
        .encode(openssl::sha::sha256(verifier.as_bytes()))
}

/// A PKCE verifier: 43 to 128 unreserved characters (RFC 7636 §4.1).
pub fn valid_verifier(verifier: &str) -> bool {
    (43..=128).contains(&verifier.len())
        && verifier
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~'))
}

/// The code exchange of the token endpoint.
#[derive(Debug, Clone)]
pub struct CodeExchange {
    pub code: String,
    pub client_id: String,
    pub client_secret: Option<String>,
    pub redirect_uri: String,
    /// Required when the grant has a PKCE challenge (public clients always).
    pub code_verifier: Option<String>,
}

/// Exchanges an authorization code for an access token. A code used twice
/// is refused and the tokens issued from it are revoked (RFC 6749 §4.1.2).
pub async fn exchange_code(
    store: &Store,
    exchange: CodeExchange,
) -> Result<Result<IssuedToken, OAuthError>, DomainError> {
    let Some(client) = find_client(store, &exchange.client_id).await? else {
        return Ok(Err(OAuthError::InvalidClient));
    };
    if !client.authenticates(exchange.client_secret.as_deref()) {
        return Ok(Err(OAuthError::InvalidClient));
    }
    if exchange
        .code_verifier
        .as_deref()
        .is_some_and(|v| !valid_verifier(v))
    {
        return Ok(Err(OAuthError::InvalidRequest(
            "code_verifier is malformed".into(),
        )));
    }
    let confidential = client.confidential;
    let access_token = new_token()?;
    let token_hash = hash_token(&access_token);
    let code_hash = hash_token(&exchange.code);
    store
        .transaction(move |conn| {
            let now = Utc::now().naive_utc();
            let Some(grant) = rows::find_grant_by_code(conn, &code_hash)? else {
                return Ok(Err(OAuthError::InvalidGrant("unknown code")));
            };
            if grant.used_at.is_some() {
                token_rows::revoke_by_grant(conn, grant.id, now)?;
                return Ok(Err(OAuthError::InvalidGrant("the code was used already")));
            }
            if grant.expires_at <= now {
                return Ok(Err(OAuthError::InvalidGrant("the code has expired")));
            }
            if grant.client_id != exchange.client_id {
                return Ok(Err(OAuthError::InvalidGrant(
                    "the code was issued to another client",
                )));
            }
            if grant.redirect_uri != exchange.redirect_uri {
                return Ok(Err(OAuthError::InvalidGrant("redirect_uri does not match")));
            }
            // PKCE: checked whenever the grant has a challenge; only a
            // confidential client (authenticated above) may go without.
            if grant.code_challenge.is_empty() {
                if !confidential {
                    return Ok(Err(OAuthError::InvalidGrant("PKCE is required")));
                }
            } else {
                let Some(verifier) = exchange.code_verifier.as_deref() else {
                    return Ok(Err(OAuthError::InvalidRequest(
                        "code_verifier is required".into(),
                    )));
                };
                let computed = s256(verifier);
                if computed.len() != grant.code_challenge.len()
                    || !openssl::memcmp::eq(computed.as_bytes(), grant.code_challenge.as_bytes())
                {
                    return Ok(Err(OAuthError::InvalidGrant(
                        "code_verifier does not match",
                    )));
                }
            }
            if rows::use_grant(conn, grant.id, now)? == 0 {
                return Ok(Err(OAuthError::InvalidGrant("the code was used already")));
            }
            let expires_at = now + ACCESS_TOKEN_LIFETIME;
            token_rows::insert(
                conn,
                &NewTokenRow {
                    account_id: grant.account_id,
                    token_hash: &token_hash,
                    scopes: &grant.scopes,
                    created_at: now,
                    expires_at: Some(expires_at),
                    client_id: Some(&grant.client_id),
                    grant_id: Some(grant.id),
                },
            )?;
            Ok(Ok(IssuedToken {
                access_token,
                scopes: Scopes::parse(&grant.scopes),
                expires_in: ACCESS_TOKEN_LIFETIME.num_seconds(),
                created_at: now.and_utc().timestamp(),
            }))
        })
        .await
}

/// RFC 7009: revokes a token; unknown tokens are not an error.
pub async fn revoke(store: &Store, token: &str) -> Result<(), DomainError> {
    let token_hash = hash_token(token);
    store
        .run(move |conn| {
            token_rows::revoke_by_hash(conn, &token_hash, Utc::now().naive_utc())?;
            Ok(())
        })
        .await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pkce_s256_matches_rfc_7636_appendix_b() {
        let verifier = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
        assert_eq!(
            s256(verifier),
            "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"
        );
        assert!(valid_verifier(verifier));
        assert!(!valid_verifier("short"));
        assert!(!valid_verifier(&"a".repeat(129)));
        assert!(!valid_verifier(&format!("{}+", "a".repeat(50))));
    }

    #[test]
    fn redirect_uris_and_scopes() {
        assert!(valid_redirect_uri("https://app.example/callback"));
        assert!(valid_redirect_uri("http://127.0.0.1:8765/cb"));
        assert!(valid_redirect_uri("com.example.app:/oauth"));
        assert!(valid_redirect_uri("com.tapbots.Ivory.123:/request_token"));
        assert!(valid_redirect_uri(
            "oauth2redirect://com.keylesspalace.tusky/"
        ));
        assert!(valid_redirect_uri(OOB_REDIRECT));
        assert!(!valid_redirect_uri("data:text/html,hi"));
        assert!(!valid_redirect_uri("file:///etc/passwd"));
        assert!(!valid_redirect_uri("JavaScript:alert(1)"));
        assert!(!valid_redirect_uri("http://app.example/cb"));
        assert!(!valid_redirect_uri("https://app.example/cb#frag"));
        assert!(!valid_redirect_uri("javascript:alert(1)"));
        assert!(!valid_redirect_uri("not a uri"));
        assert_eq!(requested_scopes(None).unwrap(), Scopes::parse("read"));
        assert_eq!(
            requested_scopes(Some("write read")).unwrap().as_text(),
            "read write"
        );
        assert_eq!(
            requested_scopes(Some("read write follow push read:statuses write:media"))
                .unwrap()
                .as_text(),
            "follow push read read:statuses write write:media"
        );
        assert_eq!(
            requested_scopes(Some("read:nothing")),
            Err(OAuthError::InvalidScope)
        );
        assert_eq!(
            requested_scopes(Some("admin")),
            Err(OAuthError::InvalidScope)
        );
    }
}
