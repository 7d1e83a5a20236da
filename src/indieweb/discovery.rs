//! Webmention endpoint discovery (W3C Webmention §3.1.2).
