//! Fuzz target: Webmention endpoint discovery (Link header lines, a NUL, the HTML).
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    estuary::fuzzing::discovery(data);
});
