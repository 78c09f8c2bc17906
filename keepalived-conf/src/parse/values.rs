//! Values: single arguments, numbers, decimal seconds, flags, command lines.

use std::str::FromStr;
use std::time::Duration;

use crate::error::ConfError;
use crate::tree::Node;

pub(super) fn block(node: &Node) -> Result<&[Node], ConfError> {
    node.block
        .as_deref()
        .ok_or_else(|| ConfError::invalid(&node.loc, node.keyword(), "expects a { ... } block"))
}

pub(super) fn name(node: &Node) -> Result<String, ConfError> {
    match node.args() {
        [name] => Ok(name.clone()),
        _ => Err(ConfError::invalid(
            &node.loc,
            node.keyword(),
            "expects exactly one name",
        )),
    }
}

pub(super) fn arg(node: &Node) -> Result<&str, ConfError> {
    match node.args() {
        [value] => Ok(value),
        [] => Err(ConfError::invalid(
            &node.loc,
            node.keyword(),
            "missing value",
        )),
        more => Err(ConfError::invalid(
            &node.loc,
            node.keyword(),
            format!("expects one value, got {}", more.join(" ")),
        )),
    }
}

pub(super) fn number<T: FromStr>(node: &Node, value: &str, what: &str) -> Result<T, ConfError> {
    value.parse().map_err(|_| {
        ConfError::invalid(
            &node.loc,
            node.keyword(),
            format!("{value:?} is not {what}"),
        )
    })
}

/// Decimal seconds (`1`, `0.01`, `2.5`), read exactly (no floating point).
pub(super) fn seconds(node: &Node, value: &str) -> Result<Duration, ConfError> {
    let bad = || {
        ConfError::invalid(
            &node.loc,
            node.keyword(),
            format!("{value:?} is not a number of seconds"),
        )
    };
    let (whole, frac) = value.split_once('.').unwrap_or((value, ""));
    if (whole.is_empty() && frac.is_empty()) || frac.len() > 9 {
        return Err(bad());
    }
    let digits = |s: &str| s.chars().all(|c| c.is_ascii_digit());
    if !digits(whole) || !digits(frac) {
        return Err(bad());
    }
    let secs: u64 = if whole.is_empty() {
        0
    } else {
        whole.parse().map_err(|_| bad())?
    };
    if secs > 4_294_967 {
        return Err(ConfError::invalid(
            &node.loc,
            node.keyword(),
            format!("{value} seconds is out of range"),
        ));
    }
    let nanos: u32 = if frac.is_empty() {
        0
    } else {
        format!("{frac:0<9}").parse().map_err(|_| bad())?
    };
    Ok(Duration::new(secs, nanos))
}

/// A flag keyword: alone means on; `true/on/yes` and `false/off/no` are accepted too.
pub(super) fn flag(node: &Node) -> Result<bool, ConfError> {
    match node.args() {
        [] => Ok(true),
        [v] => match v.to_ascii_lowercase().as_str() {
            "true" | "on" | "yes" => Ok(true),
            "false" | "off" | "no" => Ok(false),
            _ => Err(ConfError::invalid(
                &node.loc,
                node.keyword(),
                format!("{v:?} is not true or false"),
            )),
        },
        _ => Err(ConfError::invalid(
            &node.loc,
            node.keyword(),
            "expects at most one value",
        )),
    }
}

/// A command line as keepalived runs it (no shell): words split on white space, with
/// single quotes, double quotes and backslash escapes grouping and quoting as in `sh`.
pub(super) fn command(node: &Node) -> Result<Vec<String>, ConfError> {
    let line = node.args().join(" ");
    let words = split_words(&line)
        .map_err(|m| ConfError::invalid(&node.loc, node.keyword(), format!("{line:?}: {m}")))?;
    if words.is_empty() {
        return Err(ConfError::invalid(
            &node.loc,
            node.keyword(),
            "missing command",
        ));
    }
    Ok(words)
}

/// The words of one command line (one configuration word, quoted in the file when it has
/// spaces).
pub(super) fn command_line(node: &Node, line: &str) -> Result<Vec<String>, ConfError> {
    let words = split_words(line)
        .map_err(|m| ConfError::invalid(&node.loc, node.keyword(), format!("{line:?}: {m}")))?;
    if words.is_empty() {
        return Err(ConfError::invalid(
            &node.loc,
            node.keyword(),
            "missing command",
        ));
    }
    Ok(words)
}

fn split_words(line: &str) -> Result<Vec<String>, &'static str> {
    let mut words = Vec::new();
    let mut word: Option<String> = None;
    let mut chars = line.chars();
    while let Some(c) = chars.next() {
        match c {
            c if c.is_whitespace() => words.extend(word.take()),
            '\'' => {
                let w = word.get_or_insert_with(String::new);
                loop {
                    match chars.next() {
                        Some('\'') => break,
                        Some(c) => w.push(c),
                        None => return Err("unterminated single quote"),
                    }
                }
            }
            '"' => {
                let w = word.get_or_insert_with(String::new);
                loop {
                    match chars.next() {
                        Some('"') => break,
                        Some('\\') => w.push(chars.next().ok_or("trailing backslash")?),
                        Some(c) => w.push(c),
                        None => return Err("unterminated double quote"),
                    }
                }
            }
            '\\' => word
                .get_or_insert_with(String::new)
                .push(chars.next().ok_or("trailing backslash")?),
            c => word.get_or_insert_with(String::new).push(c),
        }
    }
    words.extend(word);
    Ok(words)
}

pub(super) fn version(node: &Node) -> Result<u8, ConfError> {
    match arg(node)? {
        "2" => Ok(2),
        "3" => Ok(3),
        v => Err(ConfError::invalid(
            &node.loc,
            node.keyword(),
            format!("{v:?} is not 2 or 3"),
        )),
    }
}
