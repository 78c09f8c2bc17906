//! keepalived 2.2.7's line preprocessing (`lib/parser.c`, `read_line`), applied to each line
//! before it is split into words:
//!
//! - comments (from `#` or `!` outside double quotes) and the blanks around the text are
//!   removed, twice, as the running keepalived does (its children read a decommented copy),
//!   so an escaped `\#` outside quotes ends up a comment too;
//! - `@ID text` keeps `text` only when the config id (`-i`) is `ID`, `@^ID text` only when it
//!   is not;
//! - `$NAME=value` defines a parameter (from that line on, in every file read after it);
//!   a value ending in `\` continues on the following lines until one does not end in `\`
//!   or an empty line (a multiline definition). This is the only line continuation
//!   keepalived 2.2.7 has: any other line's trailing `\` stays part of its last word;
//! - `$NAME` (followed by a blank, `,`, `)` or the end of the line) and `${NAME}` are
//!   replaced by the value, again until nothing more is replaced; a multiline value is
//!   replaced only at the end of a line, its first line there and the others as lines of
//!   their own. `${_INSTANCE}` (the config id), `${_PWD}`, `${_RANDOM [MIN [MAX]]}`,
//!   `${_HASH}` (`#`) and `${_BANG}` (`!`) are predefined;
//! - a line is cut before each `{` or `}` outside quotes, and what follows the brace is
//!   preprocessed again as a line of its own.
//!
//! keepalived loops forever or truncates on a definition that refers to itself; here the
//! expansion is bounded and such a line is a [`ConfError`] naming it.

use std::collections::hash_map::RandomState;
use std::hash::{BuildHasher, Hasher};

use super::error::{ConfError, ConfWarning, Location};

/// keepalived's line buffer (`MAXBUF`, 1024 bytes with its terminator): a substitution may
/// not make a line longer than this.
pub(super) const MAX_LINE: usize = 1023;

/// Substitutions allowed in one line: enough for every reference a [`MAX_LINE`] line can
/// hold, few enough that a definition referring to itself stops at once.
pub(super) const MAX_SUBSTITUTIONS: usize = 1024;

/// Lines multiline definitions may produce in one configuration.
pub(super) const MAX_EXPANDED_LINES: usize = 100_000;

/// Bytes multiline definitions may produce in one configuration (4 MiB: a few times the
/// largest real configurations, so a small file cannot make the parser hold hundreds of
/// megabytes of words).
pub(super) const MAX_EXPANDED_BYTES: usize = 4 << 20;

/// How deep multiline definitions may be used inside multiline definitions.
pub(super) const MAX_MULTILINE_DEPTH: usize = 32;

/// Where a definition's value comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Source {
    /// The text given in `$NAME=`.
    Text,
    /// `_PWD`: the current directory.
    Pwd,
    /// `_INSTANCE`: the config id.
    Instance,
    /// `_RANDOM`: a random number, with optional `MIN MAX` parameters.
    Random,
}

/// A parameter definition.
#[derive(Debug, Clone)]
struct Def {
    name: String,
    /// The value; lines of a multiline value are separated by `\n`.
    value: String,
    multiline: bool,
    source: Source,
}

/// A reference to a definition found in a line.
struct Reference {
    def: usize,
    /// The bytes it spans in the line (`$NAME`, `${NAME}`, `${NAME PARAMS}`).
    end: usize,
    /// The parameters of `${NAME PARAMS}`.
    params: Option<String>,
}

/// The preprocessor's state, which lasts across the lines and files of one configuration.
pub(super) struct Preprocessor {
    config_id: Option<String>,
    defs: Vec<Def>,
    /// The multiline definition whose lines are being read.
    collecting: Option<usize>,
    /// Lines produced by multiline definitions so far.
    expanded: usize,
    /// Bytes of those lines.
    expanded_bytes: usize,
    rng: u64,
    warnings: Vec<ConfWarning>,
}

fn is_blank(c: char) -> bool {
    c == ' ' || c == '\t'
}

fn is_name_start(b: u8) -> bool {
    b.is_ascii_alphabetic() || b == b'_'
}

fn is_name(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'_'
}

impl Preprocessor {
    /// A preprocessor for a configuration read with `config_id` (`None`: no id, so every
    /// `@ID` line is dropped and every `@^ID` line kept).
    pub(super) fn new(config_id: Option<&str>) -> Self {
        let std_def = |name: &str, value: &str, source| Def {
            name: name.to_owned(),
            value: value.to_owned(),
            multiline: false,
            source,
        };
        let mut seed = RandomState::new().build_hasher();
        seed.write_u8(0);
        Preprocessor {
            config_id: config_id.map(str::to_owned),
            defs: vec![
                std_def("_PWD", "", Source::Pwd),
                std_def("_INSTANCE", "", Source::Instance),
                std_def("_RANDOM", "", Source::Random),
                std_def("_HASH", "#", Source::Text),
                std_def("_BANG", "!", Source::Text),
            ],
            collecting: None,
            expanded: 0,
            expanded_bytes: 0,
            rng: seed.finish() | 1,
            warnings: Vec::new(),
        }
    }

    /// The warnings so far (trailing backslashes), taken.
    pub(super) fn take_warnings(&mut self) -> Vec<ConfWarning> {
        std::mem::take(&mut self.warnings)
    }

    /// Preprocesses one line of a file: the lines it gives, in order (none for a comment,
    /// a definition or a line another config id keeps; several when braces split it or a
    /// multiline definition is used in it). Each is free of comments.
    pub(super) fn line(&mut self, raw: &str, loc: &Location) -> Result<Vec<String>, ConfError> {
        let raw = raw.trim_end_matches(['\r', '\n']);
        if raw.is_empty() {
            // An empty line ends a multiline definition.
            if let Some(i) = self.collecting.take()
                && self.defs[i].value.is_empty()
            {
                self.defs[i].multiline = false;
            }
            return Ok(Vec::new());
        }
        // keepalived's parent process writes each line decommented into the copy that its
        // VRRP and checker processes read, and they decomment it again: an escaped `\#` or
        // `\!` outside quotes therefore starts a comment in the running daemon.
        let text = decomment(&decomment(raw, loc)?, loc)?;
        if text.is_empty() {
            return Ok(Vec::new());
        }
        let mut out = Vec::new();
        // Lines still to come from multiline definitions, innermost last; each frame holds
        // its lines in reverse order.
        let mut pending: Vec<Vec<String>> = Vec::new();
        self.process(text, loc, &mut out, &mut pending)?;
        while let Some(frame) = pending.last_mut() {
            let Some(next) = frame.pop() else {
                pending.pop();
                continue;
            };
            if frame.is_empty() {
                pending.pop();
            }
            self.expanded += 1;
            self.expanded_bytes += next.len() + 1;
            if self.expanded > MAX_EXPANDED_LINES || self.expanded_bytes > MAX_EXPANDED_BYTES {
                return Err(ConfError::invalid(
                    loc,
                    "$",
                    format!(
                        "multiline definitions expand to more than {MAX_EXPANDED_LINES} lines \
                         or {MAX_EXPANDED_BYTES} bytes (a definition that uses itself?)"
                    ),
                ));
            }
            self.process(next, loc, &mut out, &mut pending)?;
        }
        for line in &out {
            if line.ends_with('\\') {
                self.warnings.push(ConfWarning {
                    loc: loc.clone(),
                    keyword: line
                        .split([' ', '\t'])
                        .next()
                        .unwrap_or_default()
                        .to_owned(),
                    message: "line ends in '\\': keepalived 2.2.7 continues only $NAME= \
                              definitions on the next line; here the '\\' is part of the last \
                              word"
                        .to_owned(),
                });
            }
        }
        Ok(out)
    }

    /// One decommented line: a continuation of the definition being read, or conditionals,
    /// a definition, substitutions and brace splitting; the lines it gives go to `out`.
    fn process(
        &mut self,
        line: String,
        loc: &Location,
        out: &mut Vec<String>,
        pending: &mut Vec<Vec<String>>,
    ) -> Result<(), ConfError> {
        let mut work = Some(line);
        while let Some(mut buf) = work.take() {
            if let Some(i) = self.collecting {
                self.continue_definition(i, &buf);
                continue;
            }
            let mut substitutions = 0;
            loop {
                if buf.starts_with('@') {
                    match self.conditional(&buf) {
                        Some(rest) => buf = rest,
                        None => buf.clear(),
                    }
                }
                if buf.starts_with('$') && self.define(&buf) {
                    buf.clear();
                }
                if buf.starts_with("~SEQ") || buf.starts_with("~LST") {
                    return Err(ConfError::invalid(
                        loc,
                        &buf[..4],
                        "keepalived's sequence expansion is not supported",
                    ));
                }
                if buf.is_empty() || buf.starts_with('~') || !buf.contains('$') {
                    break;
                }
                if !self.substitute(&mut buf, loc, pending, &mut substitutions)? {
                    break;
                }
                buf = decomment(&buf, loc)?;
                if !buf.starts_with('@') && !buf.contains('$') {
                    break;
                }
            }
            if buf.is_empty() {
                continue;
            }
            let (head, residue) = split_brace(&buf);
            out.push(head);
            work = residue;
        }
        Ok(())
    }

    /// `@ID rest` / `@^ID rest`: `rest` if the line is kept.
    fn conditional(&self, buf: &str) -> Option<String> {
        let (reverse, start) = if buf[1..].starts_with('^') {
            (true, 2)
        } else {
            (false, 1)
        };
        let end = start + buf[start..].find(is_blank)?;
        let matches = self.config_id.as_deref() == Some(&buf[start..end]);
        (matches != reverse).then(|| buf[end..].trim_start_matches(is_blank).to_owned())
    }

    /// `$NAME=value`: records it and says `true`; `false` if the line is not a definition.
    fn define(&mut self, buf: &str) -> bool {
        let bytes = buf.as_bytes();
        if !bytes.get(1).copied().is_some_and(is_name_start) {
            return false;
        }
        let Some(eq) = bytes[2..].iter().position(|&b| !is_name(b)).map(|p| p + 2) else {
            return false;
        };
        if bytes[eq] != b'=' {
            return false;
        }
        let name = &buf[1..eq];
        let value = buf[eq + 1..].trim_start_matches(is_blank);
        let (value, multiline) = match value.strip_suffix('\\') {
            Some(body) => {
                let body = body.trim_end_matches(is_blank);
                (
                    if body.is_empty() {
                        String::new()
                    } else {
                        format!("{body}\n")
                    },
                    true,
                )
            }
            None => (value.to_owned(), false),
        };
        let def = Def {
            name: name.to_owned(),
            value,
            multiline,
            source: Source::Text,
        };
        let i = match self.defs.iter().position(|d| d.name == name) {
            Some(i) => {
                self.defs[i] = def;
                i
            }
            None => {
                self.defs.push(def);
                self.defs.len() - 1
            }
        };
        if multiline {
            self.collecting = Some(i);
        }
        true
    }

    /// A line of multiline definition `i`.
    fn continue_definition(&mut self, i: usize, buf: &str) {
        let def = &mut self.defs[i];
        let (piece, more) = match buf.strip_suffix('\\') {
            Some(body) => (format!("{}\n", body.trim_end_matches(is_blank)), true),
            None => (buf.to_owned(), false),
        };
        if !more {
            self.collecting = None;
            if def.value.is_empty() {
                def.multiline = false;
            }
        }
        // A line of only `\` adds nothing.
        if piece.len() >= 2 || (!piece.is_empty() && !more) {
            def.value.push_str(&piece);
        }
    }

    /// The definition referred to by the `$` at byte `at` of `buf`, if any.
    fn reference(&self, buf: &str, at: usize) -> Option<Reference> {
        let bytes = buf.as_bytes();
        let braces = bytes.get(at + 1) == Some(&b'{');
        let start = at + 1 + usize::from(braces);
        if !bytes.get(start).copied().is_some_and(is_name_start) {
            return None;
        }
        let name_end = bytes[start..]
            .iter()
            .position(|&b| !is_name(b))
            .map_or(bytes.len(), |p| start + p);
        let name = &buf[start..name_end];
        let mut params = None;
        let end = if braces {
            let after = bytes[name_end..]
                .iter()
                .position(|&b| b != b' ' && !b.is_ascii_digit())
                .map_or(bytes.len(), |p| name_end + p);
            let text = &buf[name_end..after];
            if !text.trim().is_empty() {
                if text.ends_with(' ') {
                    return None;
                }
                params = Some(text.trim().to_owned());
            }
            if bytes.get(after) != Some(&b'}') {
                return None;
            }
            after + 1
        } else {
            if !matches!(bytes.get(name_end), None | Some(b' ' | b'\t' | b',' | b')')) {
                return None;
            }
            name_end
        };
        let at_line_end = end == bytes.len() && params.is_none();
        let def = self.defs.iter().position(|d| d.name == name)?;
        let d = &self.defs[def];
        if (d.multiline && !at_line_end) || (params.is_some() && d.source != Source::Random) {
            return None;
        }
        Some(Reference { def, end, params })
    }

    /// The value of definition `i` now.
    fn value(&mut self, i: usize, params: Option<&str>) -> String {
        match self.defs[i].source {
            Source::Text => self.defs[i].value.clone(),
            Source::Instance => self.config_id.clone().unwrap_or_default(),
            Source::Pwd => std::env::current_dir()
                .map(|d| d.display().to_string())
                .unwrap_or_default(),
            Source::Random => {
                let mut numbers = params
                    .unwrap_or_default()
                    .split(' ')
                    .filter(|w| !w.is_empty())
                    .map(|w| w.parse::<u64>().unwrap_or(u64::MAX));
                let min = numbers.next().unwrap_or(0);
                let max = numbers.next().unwrap_or(32767);
                // keepalived: random() % (max - min + 1) + min, in unsigned arithmetic.
                let span = max.wrapping_sub(min).wrapping_add(1);
                let r = self.next_random() >> 33;
                let r = if span == 0 { r } else { r % span };
                min.wrapping_add(r).to_string()
            }
        }
    }

    fn next_random(&mut self) -> u64 {
        // xorshift64*
        let mut x = self.rng;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.rng = x;
        x.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    /// Replaces the references in `buf`, left to right, rescanning each replacement;
    /// `false` if nothing was replaced.
    fn substitute(
        &mut self,
        buf: &mut String,
        loc: &Location,
        pending: &mut Vec<Vec<String>>,
        count: &mut usize,
    ) -> Result<bool, ConfError> {
        let mut found = false;
        let mut pos = 0;
        while let Some(offset) = buf.get(pos..).and_then(|s| s.find('$')) {
            let at = pos + offset;
            if at + 1 >= buf.len() {
                break;
            }
            let Some(r) = self.reference(buf, at) else {
                pos = at + 1;
                continue;
            };
            found = true;
            *count += 1;
            if *count > MAX_SUBSTITUTIONS {
                return Err(ConfError::invalid(
                    loc,
                    &format!("${}", self.defs[r.def].name),
                    format!(
                        "more than {MAX_SUBSTITUTIONS} substitutions in one line \
                         (a definition that uses itself?)"
                    ),
                ));
            }
            let value = self.value(r.def, r.params.as_deref());
            let first = match value.split_once('\n') {
                Some((first, rest)) if self.defs[r.def].multiline => {
                    if pending.len() >= MAX_MULTILINE_DEPTH {
                        return Err(ConfError::invalid(
                            loc,
                            &format!("${}", self.defs[r.def].name),
                            format!(
                                "multiline definitions used inside each other more than \
                                 {MAX_MULTILINE_DEPTH} deep (a definition that uses itself?)"
                            ),
                        ));
                    }
                    pending.push(rest.split('\n').rev().map(str::to_owned).collect());
                    first.to_owned()
                }
                _ => value.clone(),
            };
            let new_len = buf.len() - (r.end - at) + first.len();
            if new_len > MAX_LINE && new_len > buf.len() {
                return Err(ConfError::invalid(
                    loc,
                    &format!("${}", self.defs[r.def].name),
                    format!(
                        "substitution makes the line longer than keepalived's {MAX_LINE} bytes \
                         (a definition that uses itself?)"
                    ),
                ));
            }
            buf.replace_range(at..r.end, &first);
            if value.trim_start_matches(is_blank).starts_with('~') {
                break;
            }
        }
        Ok(found)
    }
}

/// keepalived's `decomment`: blanks at the start and the end removed, the comment (from the
/// first `#` or `!` outside double quotes) removed, `\#` and `\!` outside quotes made the
/// plain characters. A trailing `\` is kept, with the blanks before it removed.
pub(super) fn decomment(line: &str, loc: &Location) -> Result<String, ConfError> {
    let line = line.trim_start_matches(is_blank);
    let mut out = String::with_capacity(line.len());
    let mut quote = false;
    let mut comment = None;
    let mut cont = false;
    let mut chars = line.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '"' => {
                if comment.is_none() {
                    quote = !quote;
                }
                out.push(c);
            }
            '\\' => match chars.next() {
                Some(n @ ('#' | '!')) if !quote => out.push(n),
                Some(n) => {
                    out.push(c);
                    out.push(n);
                }
                None => cont = true,
            },
            '#' | '!' if !quote && comment.is_none() => {
                comment = Some(out.len());
                out.push(c);
            }
            _ => out.push(c),
        }
    }
    if quote {
        return Err(ConfError::invalid(loc, "\"", "unterminated quoted string"));
    }
    if let Some(at) = comment {
        out.truncate(at);
    }
    let kept = out.trim_end_matches(is_blank).len();
    out.truncate(kept);
    if cont {
        out.push('\\');
    }
    Ok(out)
}

/// keepalived's cut at the first `{` or `}` outside quotes: the text before it (or the
/// brace alone, when the line starts with it) and what follows.
fn split_brace(buf: &str) -> (String, Option<String>) {
    let bytes = buf.as_bytes();
    let mut at = None;
    if matches!(bytes.first(), Some(b'{' | b'}')) {
        at = Some(0);
    } else {
        let mut i = 0;
        while i < bytes.len() {
            match bytes[i] {
                b'{' | b'}' => {
                    at = Some(i);
                    break;
                }
                b'"' => match bytes[i + 1..].iter().position(|&b| b == b'"') {
                    Some(close) => i += close + 2,
                    None => break,
                },
                _ => i += 1,
            }
        }
    }
    let trim = |s: &str| s.trim_end_matches(is_blank).to_owned();
    match at {
        Some(0) => {
            let rest = buf[1..].trim_start_matches(is_blank);
            let residue = (!rest.is_empty()).then(|| trim(rest));
            (buf[..1].to_owned(), residue)
        }
        Some(i) => (trim(&buf[..i]), Some(trim(&buf[i..]))),
        None => (trim(buf), None),
    }
}
