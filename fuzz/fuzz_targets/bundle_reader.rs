//! Feeds arbitrary bytes to the bundle reader: the framing and signature checks, and the
//! body decoder behind the decryption. Each must refuse bad input with an error, never
//! panic, hang or allocate without bound.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = masar_core::fuzzing::read_header(data);
    if let Some((&n, body)) = data.split_first() {
        let _ = masar_core::fuzzing::decode_body(body, u64::from(n));
    }
});
