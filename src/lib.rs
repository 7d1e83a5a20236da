//! Estuary: a federated inbox/outbox server where the fediverse and the
//! IndieWeb meet.
//!
//! Data flows one way (see `ARCHITECTURE.md`):
//!
//! - [`web`]: axum routes; extract, call one domain function, render.
//! - [`federation`]: ActivityStreams wire documents and their builders.
//! - [`domain`]: what things mean; protocol-neutral.
//! - [`store`]: diesel over SQLite or PostgreSQL, migrations.
//! - [`config`], [`urls`], [`server`], [`cli`]: settings, the URL layout,
//!   the running server, the command line.

pub mod cli;
pub mod config;
pub mod delivery;
pub mod domain;
pub mod federation;
#[doc(hidden)]
pub mod fuzzing;
pub mod indieweb;
pub mod mastodon;
pub mod metrics;
pub mod rooms;
pub mod server;
pub mod store;
pub mod urls;
pub mod web;
