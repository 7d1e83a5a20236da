//! The IndieWeb side: microformats2 parsing and rendering, Webmention
//! receiving, verifying, sending and endpoint discovery, and the mf2 ⇄ AS2
//! conversion.

pub mod atom;
pub mod convert;
pub mod discovery;
pub mod follow_post;
pub mod links;
pub mod mf2;
pub mod private;
pub mod private_mention;
pub mod receive;
pub mod send;
pub mod tickets;
