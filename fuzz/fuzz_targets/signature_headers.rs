//! Fuzz target: the draft-cavage and RFC 9421 signature header parsers.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    estuary::fuzzing::signature_headers(data);
});
