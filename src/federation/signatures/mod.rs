//! HTTP signatures: draft-cavage and RFC 9421, signing and verifying, with body digests.
