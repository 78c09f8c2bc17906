//! Arbitrary text into the keepalived.conf parser (`keepalived_conf::parse_str_without_includes`:
//! tokenizer, block tree, every section's parser). Nothing may panic, nesting is bounded, and
//! every error and warning names the file and a line that exists.
#![no_main]

use libfuzzer_sys::fuzz_target;

const NAME: &str = "fuzz.conf";

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let lines = text.lines().count().max(1);
    let line_in_range = |message: &str| {
        // "fuzz.conf:LINE: ..."
        let line = message
            .strip_prefix(NAME)
            .and_then(|rest| rest.strip_prefix(':'))
            .and_then(|rest| rest.split(':').next())
            .and_then(|n| n.parse::<usize>().ok());
        assert!(
            line.is_some_and(|l| (1..=lines).contains(&l)),
            "{message:?} does not name a line of the input"
        );
    };
    match keepalived_conf::parse_str_without_includes(NAME, &text) {
        Ok(conf) => {
            for warning in &conf.warnings {
                line_in_range(&warning.to_string());
            }
            // Walk the whole model.
            let _ = format!("{conf:?}");
        }
        Err(error) => line_in_range(&error.to_string()),
    }
});
