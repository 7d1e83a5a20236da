//! Fuzz target: the RFC 8941 structured-field dictionary parser.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    estuary::fuzzing::structured_fields(data);
});
