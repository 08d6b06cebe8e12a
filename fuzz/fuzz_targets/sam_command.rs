//! SAM client lines on arbitrary input: a command line (when UTF-8), a UDP datagram
//! header and a private key blob never panic, and every command that parses writes back
//! to a line that parses to the same command.
#![no_main]

use libfuzzer_sys::fuzz_target;
use ramsons_router::host::sam::{keys, Command, UdpHeader};

fuzz_target!(|data: &[u8]| {
    let _ = UdpHeader::parse(data);
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let _ = keys::parse_private(text);
    for line in text.split('\n') {
        if let Ok(command) = Command::parse(line) {
            let written = command.to_string();
            assert!(!written.contains('\n'));
            assert_eq!(Command::parse(&written).as_ref(), Ok(&command), "{written}");
        }
    }
});
