//! Fuzz target: the microformats2 parser (HTML in, within the server's item and time limits).
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    estuary::fuzzing::mf2(data);
});
