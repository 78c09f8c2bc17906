//! File creation masks as keepalived 2.2.7 reads them (`-u/--umask` and the `umask` keyword:
//! `strtol` with base 0), and its default.

/// keepalived's default file creation mask: `S_IXUSR | S_IRWXG | S_IRWXO` (0177), so the
/// files it creates (dumps, FIFOs) are its own alone unless told otherwise.
pub const DEFAULT: u32 = 0o177;

/// A mask in C notation (`0022` octal, `0x12` hex, `18` decimal) of permission bits only;
/// `None` for anything else.
pub fn parse(text: &str) -> Option<u32> {
    let mask = if let Some(hex) = text.strip_prefix("0x").or_else(|| text.strip_prefix("0X")) {
        u32::from_str_radix(hex, 16).ok()?
    } else if text.len() > 1 && text.starts_with('0') {
        u32::from_str_radix(&text[1..], 8).ok()?
    } else {
        text.parse().ok()?
    };
    (mask <= 0o777).then_some(mask)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn c_notation_and_permission_bits_only() {
        assert_eq!(parse("0177"), Some(0o177));
        assert_eq!(parse("0x12"), Some(0o22));
        assert_eq!(parse("18"), Some(18));
        assert_eq!(parse("0"), Some(0));
        for bad in ["01777", "0x200", "999", "u=rw", "", "08"] {
            assert_eq!(parse(bad), None, "{bad}");
        }
    }
}
