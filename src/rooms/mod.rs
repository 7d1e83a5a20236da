//! Rooms: Group actors (FEP-1b12) shared by fediverse accounts and IndieWeb
//! sites. Membership is an accepted follow of the room (a site joins through
//! its proxy actor); the room announces every member's activity addressed
//! to it to all members, and pushes its feed to WebSub subscribers.

pub mod membership;
pub mod relay;
pub mod websub;
