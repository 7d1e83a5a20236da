//! Outbound HTTP: signed fetches and POSTs with the SSRF guard, timeouts and size limits.
