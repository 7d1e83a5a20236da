//! Fuzz target: AS2 intake: the inbox's checks on a body, actor documents, sanitizing.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    estuary::fuzzing::as2(data);
});
