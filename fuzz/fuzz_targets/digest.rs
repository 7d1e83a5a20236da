//! Fuzz target: Digest and Content-Digest checks (header lines, a NUL, the body).
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    estuary::fuzzing::digest(data);
});
