//! Fuzz target: WebFinger resource parsing.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    estuary::fuzzing::webfinger(data);
});
