//! A GNU `getopt_long` reader for an option table: what keepalived's command line is parsed
//! with, so that every spelling keepalived accepts is accepted here too.
//!
//! Short options cluster (`-nlD`), take a required argument attached or as the next word
//! (`-fFILE`, `-f FILE`) and an optional one only attached (`-gFILE`). Long options take a
//! required argument after `=` or as the next word, an optional one only after `=`, and may
//! be abbreviated to any unambiguous prefix (`--use` is `--use-file`). Words that are not
//! options are operands, wherever they stand (GNU getopt permutes them to the end); `--` ends
//! the options.

use std::collections::VecDeque;

/// Whether an option takes an argument.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum HasArg {
    /// Never.
    No,
    /// Always: attached, after `=`, or the next word.
    Required,
    /// Only when attached (`-gFILE`, `--log-file=FILE`).
    Optional,
}

/// One row of an option table.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Spec<K> {
    /// The one-letter form, if the option has one.
    pub(crate) short: Option<char>,
    /// The long form, without `--`.
    pub(crate) long: &'static str,
    /// Whether it takes an argument.
    pub(crate) arg: HasArg,
    /// What the caller calls it.
    pub(crate) key: K,
}

/// What the reader found next.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Found<K> {
    /// An option of the table, with its argument if it has one.
    Option {
        /// The option's key.
        key: K,
        /// How it was written (`-f`, `--use-file`), for messages.
        name: String,
        /// Its argument, if given.
        value: Option<String>,
    },
    /// A word that is not an option.
    Operand(String),
}

/// A command line that does not fit the table.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub(crate) enum GetoptError {
    /// An option the table does not have.
    #[error("unknown option {0:?}")]
    Unknown(String),
    /// A required argument is missing (or empty, as `--use-file=`).
    #[error("Missing parameter for option {0}")]
    Missing(String),
    /// A long option without an argument was given one.
    #[error("option {0} takes no argument")]
    Unexpected(String),
    /// A long-option prefix that several options share.
    #[error("option {given} is ambiguous ({})", .candidates.join(", "))]
    Ambiguous {
        /// What was written.
        given: String,
        /// The long options it could be.
        candidates: Vec<String>,
    },
}

/// Reads a command line against `table`, one option or operand at a time.
pub(crate) struct Getopt<'t, K> {
    table: &'t [Spec<K>],
    words: VecDeque<String>,
    /// The rest of a short-option cluster being read (`lD` of `-nlD`).
    cluster: String,
    /// After `--`: everything is an operand.
    only_operands: bool,
}

impl<'t, K: Copy> Getopt<'t, K> {
    /// A reader of `words` (the arguments after the program name).
    pub(crate) fn new(table: &'t [Spec<K>], words: impl IntoIterator<Item = String>) -> Self {
        Self {
            table,
            words: words.into_iter().collect(),
            cluster: String::new(),
            only_operands: false,
        }
    }

    /// The words not read yet (the rest of a cluster first, as one word with its `-`).
    pub(crate) fn rest(self) -> Vec<String> {
        let mut rest = Vec::with_capacity(self.words.len() + 1);
        if !self.cluster.is_empty() {
            rest.push(format!("-{}", self.cluster));
        }
        rest.extend(self.words);
        rest
    }

    /// The next option or operand; `None` at the end.
    pub(crate) fn next_item(&mut self) -> Option<Result<Found<K>, GetoptError>> {
        if !self.cluster.is_empty() {
            return Some(self.short());
        }
        let word = self.words.pop_front()?;
        if self.only_operands || word == "-" || !word.starts_with('-') {
            return Some(Ok(Found::Operand(word)));
        }
        if word == "--" {
            self.only_operands = true;
            return self.next_item();
        }
        if let Some(long) = word.strip_prefix("--") {
            return Some(self.long(long));
        }
        self.cluster = word[1..].to_owned();
        Some(self.short())
    }

    /// The first option of the current cluster.
    fn short(&mut self) -> Result<Found<K>, GetoptError> {
        let mut chars = self.cluster.chars();
        let Some(letter) = chars.next() else {
            return Err(GetoptError::Unknown("-".to_owned()));
        };
        let tail: String = chars.collect();
        self.cluster.clear();
        let name = format!("-{letter}");
        let Some(spec) = self.table.iter().find(|s| s.short == Some(letter)) else {
            return Err(GetoptError::Unknown(name));
        };
        let value = match spec.arg {
            HasArg::No => {
                self.cluster = tail;
                None
            }
            HasArg::Optional => (!tail.is_empty()).then_some(tail),
            HasArg::Required if !tail.is_empty() => Some(tail),
            HasArg::Required => Some(
                self.words
                    .pop_front()
                    .ok_or(GetoptError::Missing(name.clone()))?,
            ),
        };
        Ok(Found::Option {
            key: spec.key,
            name,
            value,
        })
    }

    /// `--NAME[=VALUE]`, `NAME[=VALUE]` given without its dashes.
    fn long(&mut self, text: &str) -> Result<Found<K>, GetoptError> {
        let (given, attached) = match text.split_once('=') {
            Some((n, v)) => (n, Some(v.to_owned())),
            None => (text, None),
        };
        let spec = self.lookup(given)?;
        let name = format!("--{}", spec.long);
        let value = match (spec.arg, attached) {
            (HasArg::No, Some(_)) => return Err(GetoptError::Unexpected(name)),
            (HasArg::No, None) => None,
            (HasArg::Optional, v) => v.filter(|v| !v.is_empty()),
            // keepalived refuses an empty required argument (`--use-file=`).
            (HasArg::Required, Some(v)) if v.is_empty() => return Err(GetoptError::Missing(name)),
            (HasArg::Required, Some(v)) => Some(v),
            (HasArg::Required, None) => match self.words.pop_front() {
                Some(v) if !v.is_empty() => Some(v),
                _ => return Err(GetoptError::Missing(name)),
            },
        };
        Ok(Found::Option {
            key: spec.key,
            name,
            value,
        })
    }

    /// The long option `given` names: itself, or the one option it is a prefix of.
    fn lookup(&self, given: &str) -> Result<&'t Spec<K>, GetoptError> {
        if let Some(exact) = self.table.iter().find(|s| s.long == given) {
            return Ok(exact);
        }
        let candidates: Vec<&Spec<K>> = self
            .table
            .iter()
            .filter(|s| !given.is_empty() && s.long.starts_with(given))
            .collect();
        match candidates.as_slice() {
            [one] => Ok(one),
            [] => Err(GetoptError::Unknown(format!("--{given}"))),
            many => Err(GetoptError::Ambiguous {
                given: format!("--{given}"),
                candidates: many.iter().map(|s| format!("--{}", s.long)).collect(),
            }),
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    const TABLE: [Spec<char>; 5] = [
        Spec {
            short: Some('f'),
            long: "use-file",
            arg: HasArg::Required,
            key: 'f',
        },
        Spec {
            short: Some('n'),
            long: "dont-fork",
            arg: HasArg::No,
            key: 'n',
        },
        Spec {
            short: Some('l'),
            long: "log-console",
            arg: HasArg::No,
            key: 'l',
        },
        Spec {
            short: Some('g'),
            long: "log-file",
            arg: HasArg::Optional,
            key: 'g',
        },
        Spec {
            short: None,
            long: "log-detail",
            arg: HasArg::No,
            key: 'D',
        },
    ];

    fn read(line: &str) -> Vec<Result<(char, Option<String>), GetoptError>> {
        let mut g = Getopt::new(&TABLE, line.split_whitespace().map(str::to_owned));
        std::iter::from_fn(|| g.next_item())
            .map(|r| {
                r.map(|f| match f {
                    Found::Option { key, value, .. } => (key, value),
                    Found::Operand(w) => ('_', Some(w)),
                })
            })
            .collect()
    }

    fn ok(line: &str) -> Vec<(char, Option<String>)> {
        read(line).into_iter().map(Result::unwrap).collect()
    }

    #[test]
    fn short_options_cluster_and_take_attached_or_next_arguments() {
        let f = Some("k.conf".to_owned());
        assert_eq!(ok("-nl"), [('n', None), ('l', None)]);
        assert_eq!(ok("-nfk.conf"), [('n', None), ('f', f.clone())]);
        assert_eq!(ok("-nf k.conf"), [('n', None), ('f', f.clone())]);
        // The next word is the argument even when it looks like an option.
        assert_eq!(ok("-f -n"), [('f', Some("-n".to_owned()))]);
        // An optional argument is only ever attached.
        assert_eq!(ok("-g x"), [('g', None), ('_', Some("x".to_owned()))]);
        assert_eq!(ok("-gx"), [('g', Some("x".to_owned()))]);
    }

    #[test]
    fn long_options_take_arguments_and_unambiguous_prefixes() {
        let f = Some("k.conf".to_owned());
        assert_eq!(ok("--use-file=k.conf"), [('f', f.clone())]);
        assert_eq!(ok("--use-file k.conf"), [('f', f.clone())]);
        assert_eq!(ok("--use k.conf --dont"), [('f', f), ('n', None)]);
        assert_eq!(ok("--log-file"), [('g', None)]);
        assert_eq!(ok("--log-file=/x"), [('g', Some("/x".to_owned()))]);
        assert_eq!(ok("--log-c"), [('l', None)]);
    }

    #[test]
    fn operands_stand_anywhere_and_double_dash_ends_options() {
        assert_eq!(
            ok("a -n -- -l"),
            [
                ('_', Some("a".to_owned())),
                ('n', None),
                ('_', Some("-l".to_owned()))
            ]
        );
    }

    #[test]
    fn errors_name_the_option() {
        assert_eq!(read("-x"), [Err(GetoptError::Unknown("-x".to_owned()))]);
        assert_eq!(
            read("--frob"),
            [Err(GetoptError::Unknown("--frob".to_owned()))]
        );
        assert_eq!(read("-f"), [Err(GetoptError::Missing("-f".to_owned()))]);
        assert_eq!(
            read("--use-file="),
            [Err(GetoptError::Missing("--use-file".to_owned()))]
        );
        assert_eq!(
            read("--dont-fork=1"),
            [Err(GetoptError::Unexpected("--dont-fork".to_owned()))]
        );
        let found = read("--log");
        let [Err(e)] = found.as_slice() else {
            panic!("ambiguous --log accepted: {found:?}")
        };
        assert_eq!(
            e.to_string(),
            "option --log is ambiguous (--log-console, --log-file, --log-detail)"
        );
    }

    #[test]
    fn rest_is_what_was_not_read() {
        let mut g = Getopt::new(&TABLE, ["-nl", "a", "b"].map(str::to_owned));
        assert!(matches!(
            g.next_item(),
            Some(Ok(Found::Option { key: 'n', .. }))
        ));
        assert_eq!(g.rest(), ["-l", "a", "b"]);
    }
}
