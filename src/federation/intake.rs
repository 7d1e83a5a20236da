//! The checks of an inbox POST's body that need neither the network nor
//! the database: JSON, an object with an id, a type and an actor, the
//! signer as that actor, the id on the actor's origin. The inbox runs them
//! after the signature; the fuzz targets run them on anything.

use serde_json::Value;

use super::inbox::InboxError;
use super::wire::{self, field_id, type_of};

/// The activity in `body`, checked against the verified signer's actor URL.
pub fn check_activity(body: &[u8], signer_actor_url: &str) -> Result<Value, InboxError> {
    let activity: Value = serde_json::from_slice(body)
        .map_err(|e| InboxError::BadRequest(format!("the body is not JSON: {e}")))?;
    if !activity.is_object() {
        return Err(InboxError::BadRequest(
            "the body is not a JSON object".into(),
        ));
    }
    let id = wire::text(&activity, "id")
        .ok_or_else(|| InboxError::BadRequest("the activity has no id".into()))?;
    type_of(&activity).ok_or_else(|| InboxError::BadRequest("the activity has no type".into()))?;
    let actor_url = field_id(&activity, "actor")
        .ok_or_else(|| InboxError::BadRequest("the activity has no actor".into()))?;
    if actor_url != signer_actor_url {
        return Err(InboxError::Forbidden(
            "the key's owner is not the activity's actor".into(),
        ));
    }
    if !wire::same_origin(id, actor_url) {
        return Err(InboxError::BadRequest(
            "the activity id is not on its actor's origin".into(),
        ));
    }
    Ok(activity)
}

#[cfg(test)]
mod tests {
    use super::*;

    const ACTOR: &str = "https://b.example/users/bob";

    #[test]
    fn each_check_refuses() {
        let check = |body: &str| check_activity(body.as_bytes(), ACTOR);
        assert!(matches!(check("nope"), Err(InboxError::BadRequest(_))));
        assert!(matches!(check("[1]"), Err(InboxError::BadRequest(_))));
        assert!(matches!(
            check(r#"{"type":"Create","actor":"https://b.example/users/bob"}"#),
            Err(InboxError::BadRequest(_))
        ));
        assert!(matches!(
            check(r#"{"id":"https://b.example/1","type":"Create","actor":"https://c.example/u"}"#),
            Err(InboxError::Forbidden(_))
        ));
        assert!(matches!(
            check(
                r#"{"id":"https://c.example/1","type":"Create","actor":"https://b.example/users/bob"}"#
            ),
            Err(InboxError::BadRequest(_))
        ));
        assert!(
            check(r#"{"id":"https://b.example/1","type":"Create","actor":"https://b.example/users/bob"}"#)
                .is_ok()
        );
    }
}
