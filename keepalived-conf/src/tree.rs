//! keepalived.conf's lexical structure: lines (after keepalived's preprocessing, see
//! [`super::preprocess`]: comments, `@ID` conditionals, `$NAME` parameters) of words,
//! `{ ... }` blocks, double-quoted words, and `include` of further files (with `*` / `?` in
//! the last path component).

use std::path::{Path, PathBuf};
use std::sync::Arc;

use super::error::{ConfError, ConfWarning, Location};
use super::preprocess::Preprocessor;

/// How deep `include` may nest.
const MAX_INCLUDE_DEPTH: usize = 8;

/// How deep `{ ... }` blocks may nest (keepalived's deepest section is four levels: a
/// checker's `url` inside a `real_server` inside a `virtual_server`). Bounds the recursion
/// of the parser and of dropping the tree.
pub(super) const MAX_BLOCK_DEPTH: usize = 32;

/// Whether `include` lines are followed or refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Includes {
    /// Read the files they name.
    Follow,
    /// Refuse them: no file is opened.
    Refuse,
}

/// One line of configuration: its words and, if it opens one, its block.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Node {
    /// The words; the first is the keyword.
    pub(super) words: Vec<String>,
    /// Where the line is.
    pub(super) loc: Location,
    /// The lines inside `{ ... }` following this line, if any.
    pub(super) block: Option<Vec<Node>>,
}

impl Node {
    /// The first word.
    pub(super) fn keyword(&self) -> &str {
        self.words.first().map_or("", String::as_str)
    }

    /// The words after the keyword.
    pub(super) fn args(&self) -> &[String] {
        self.words.get(1..).unwrap_or(&[])
    }
}

#[derive(Debug, PartialEq, Eq)]
enum Token {
    Word(String),
    Open,
    Close,
}

fn tokenize(line: &str, loc: &Location) -> Result<Vec<Token>, ConfError> {
    let mut tokens = Vec::new();
    let mut chars = line.chars().peekable();
    while let Some(&c) = chars.peek() {
        match c {
            c if c.is_whitespace() => {
                chars.next();
            }
            '{' => {
                chars.next();
                tokens.push(Token::Open);
            }
            '}' => {
                chars.next();
                tokens.push(Token::Close);
            }
            '"' => {
                chars.next();
                let mut word = String::new();
                loop {
                    match chars.next() {
                        Some('"') => break,
                        Some(c) => word.push(c),
                        None => {
                            return Err(ConfError::invalid(
                                loc,
                                "\"",
                                "unterminated quoted string",
                            ));
                        }
                    }
                }
                tokens.push(Token::Word(word));
            }
            _ => {
                let mut word = String::new();
                while let Some(&c) = chars.peek() {
                    if c.is_whitespace() || matches!(c, '{' | '}' | '"') {
                        break;
                    }
                    word.push(c);
                    chars.next();
                }
                tokens.push(Token::Word(word));
            }
        }
    }
    Ok(tokens)
}

/// The tree of a configuration and what its preprocessing warned about.
pub(super) type Tree = (Vec<Node>, Vec<ConfWarning>);

/// Reads `path` and every file it includes into a tree of [`Node`]s, with `config_id` for
/// the `@ID` conditionals.
pub(super) fn read(path: &Path, config_id: Option<&str>) -> Result<Tree, ConfError> {
    let mut builder = Builder::new(Includes::Follow, config_id);
    builder.file(path, 0, None)?;
    builder.finish()
}

/// Parses configuration text as if it were the file `name` (includes are resolved relative to
/// the current directory, or refused).
pub(super) fn parse_str(
    name: &str,
    text: &str,
    includes: Includes,
    config_id: Option<&str>,
) -> Result<Tree, ConfError> {
    let mut builder = Builder::new(includes, config_id);
    builder.text(Arc::new(PathBuf::from(name)), text, 0)?;
    builder.finish()
}

/// A stack of open blocks: the nodes collected so far and where the block was opened.
struct Builder {
    stack: Vec<(Vec<Node>, Option<Location>)>,
    includes: Includes,
    pre: Preprocessor,
}

impl Builder {
    fn new(includes: Includes, config_id: Option<&str>) -> Self {
        Builder {
            stack: vec![(Vec::new(), None)],
            includes,
            pre: Preprocessor::new(config_id),
        }
    }

    fn finish(mut self) -> Result<Tree, ConfError> {
        match self.stack.pop() {
            Some((_, Some(loc))) => Err(ConfError::Braces {
                loc,
                message: "block opened here is never closed".into(),
            }),
            Some((nodes, None)) => Ok((nodes, self.pre.take_warnings())),
            None => Ok((Vec::new(), self.pre.take_warnings())),
        }
    }

    fn file(
        &mut self,
        path: &Path,
        depth: usize,
        from: Option<&Location>,
    ) -> Result<(), ConfError> {
        if depth > MAX_INCLUDE_DEPTH {
            let loc = from.cloned().unwrap_or(Location {
                file: Arc::new(path.to_owned()),
                line: 0,
            });
            return Err(ConfError::IncludeDepth {
                loc,
                depth: MAX_INCLUDE_DEPTH,
            });
        }
        let text = std::fs::read_to_string(path).map_err(|source| ConfError::Read {
            path: path.to_owned(),
            source,
        })?;
        self.text(Arc::new(path.to_owned()), &text, depth)
    }

    fn text(&mut self, file: Arc<PathBuf>, text: &str, depth: usize) -> Result<(), ConfError> {
        for (i, line) in text.lines().enumerate() {
            let loc = Location {
                file: Arc::clone(&file),
                line: i + 1,
            };
            for logical in self.pre.line(line, &loc)? {
                self.logical(&file, &logical, &loc, depth)?;
            }
        }
        Ok(())
    }

    /// One preprocessed line: an `include`, or words and braces added to the tree.
    fn logical(
        &mut self,
        file: &Path,
        line: &str,
        loc: &Location,
        depth: usize,
    ) -> Result<(), ConfError> {
        let loc = loc.clone();
        let tokens = tokenize(line, &loc)?;
        if let [Token::Word(kw), Token::Word(pattern)] = &tokens[..]
            && kw == "include"
        {
            if self.includes == Includes::Refuse {
                return Err(ConfError::invalid(
                    &loc,
                    "include",
                    "not allowed here (this text may not name other files)",
                ));
            }
            for path in expand(file, pattern, &loc)? {
                self.file(&path, depth + 1, Some(&loc))?;
            }
            return Ok(());
        }
        let mut words = Vec::new();
        for token in tokens {
            match token {
                Token::Word(w) => words.push(w),
                Token::Open => {
                    if !words.is_empty() {
                        self.push(std::mem::take(&mut words), &loc);
                    }
                    let top = self.top();
                    if top.0.last().is_none_or(|n| n.block.is_some()) {
                        return Err(ConfError::Braces {
                            loc,
                            message: "'{' without a keyword before it".into(),
                        });
                    }
                    // The stack holds the top level too.
                    if self.stack.len() > MAX_BLOCK_DEPTH {
                        return Err(ConfError::Braces {
                            loc,
                            message: format!("blocks nested deeper than {MAX_BLOCK_DEPTH}"),
                        });
                    }
                    self.stack.push((Vec::new(), Some(loc.clone())));
                }
                Token::Close => {
                    if !words.is_empty() {
                        self.push(std::mem::take(&mut words), &loc);
                    }
                    if self.stack.len() < 2 {
                        return Err(ConfError::Braces {
                            loc,
                            message: "'}' without a block to close".into(),
                        });
                    }
                    let (children, _) = self.stack.pop().unwrap_or_default();
                    if let Some(parent) = self.top().0.last_mut() {
                        parent.block = Some(children);
                    }
                }
            }
        }
        if !words.is_empty() {
            self.push(words, &loc);
        }
        Ok(())
    }

    fn top(&mut self) -> &mut (Vec<Node>, Option<Location>) {
        if self.stack.is_empty() {
            self.stack.push((Vec::new(), None));
        }
        let last = self.stack.len() - 1;
        &mut self.stack[last]
    }

    fn push(&mut self, words: Vec<String>, loc: &Location) {
        self.top().0.push(Node {
            words,
            loc: loc.clone(),
            block: None,
        });
    }
}

/// The files an `include` names: relative to the including file's directory, with `*` and
/// `?` wildcards allowed in the last component (matches sorted by name).
fn expand(from: &Path, pattern: &str, loc: &Location) -> Result<Vec<PathBuf>, ConfError> {
    let base = from.parent().unwrap_or(Path::new("."));
    let full = if Path::new(pattern).is_absolute() {
        PathBuf::from(pattern)
    } else {
        base.join(pattern)
    };
    let name = full
        .file_name()
        .and_then(|n| n.to_str())
        .unwrap_or_default()
        .to_owned();
    if !name.contains(['*', '?']) {
        return Ok(vec![full]);
    }
    let dir = full.parent().unwrap_or(Path::new("."));
    let entries = std::fs::read_dir(dir).map_err(|source| ConfError::Read {
        path: dir.to_owned(),
        source,
    })?;
    let mut found: Vec<PathBuf> = entries
        .filter_map(Result::ok)
        .filter(|e| e.file_name().to_str().is_some_and(|n| glob_match(&name, n)))
        .map(|e| e.path())
        .collect();
    found.sort();
    if found.is_empty() {
        return Err(ConfError::invalid(
            loc,
            "include",
            format!("{pattern} matches no file"),
        ));
    }
    Ok(found)
}

/// Shell-style matching of `*` (any run) and `?` (one character), without recursion: the
/// classic greedy scan that backtracks to the last `*` only, in O(pattern x name).
fn glob_match(pattern: &str, name: &str) -> bool {
    let p: Vec<char> = pattern.chars().collect();
    let n: Vec<char> = name.chars().collect();
    let (mut pi, mut ni) = (0, 0);
    // The last `*` seen and the name position it is currently matched up to.
    let mut star: Option<(usize, usize)> = None;
    while ni < n.len() {
        match p.get(pi) {
            Some('*') => {
                star = Some((pi, ni));
                pi += 1;
            }
            Some(&c) if c == '?' || c == n[ni] => {
                pi += 1;
                ni += 1;
            }
            _ => match star {
                Some((sp, sn)) => {
                    pi = sp + 1;
                    ni = sn + 1;
                    star = Some((sp, sn + 1));
                }
                None => return false,
            },
        }
    }
    p[pi..].iter().all(|&c| c == '*')
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn parse_str_follow(name: &str, text: &str) -> Result<Vec<Node>, ConfError> {
        parse_str(name, text, Includes::Follow, None).map(|(nodes, _)| nodes)
    }

    fn words(n: &Node) -> Vec<&str> {
        n.words.iter().map(String::as_str).collect()
    }

    #[test]
    fn blocks_open_on_the_same_or_the_next_line() {
        let nodes = parse_str_follow("t", "a 1 {\n b 2 # comment\n}\nc\n{\n d ! x\n}\n").unwrap();
        assert_eq!(nodes.len(), 2);
        assert_eq!(words(&nodes[0]), ["a", "1"]);
        assert_eq!(words(&nodes[0].block.as_ref().unwrap()[0]), ["b", "2"]);
        assert_eq!(nodes[1].block.as_ref().unwrap()[0].loc.line, 6);
    }

    #[test]
    fn one_line_blocks_and_quotes() {
        let nodes = parse_str_follow(
            "t",
            "track_script { chk_a chk_b }\nnotify \"/bin/echo a b\"\n",
        )
        .unwrap();
        assert_eq!(
            words(&nodes[0].block.as_ref().unwrap()[0]),
            ["chk_a", "chk_b"]
        );
        assert_eq!(words(&nodes[1]), ["notify", "/bin/echo a b"]);
    }

    #[test]
    fn unbalanced_braces_are_errors_with_a_line() {
        let err = parse_str_follow("t", "a {\n b\n").unwrap_err().to_string();
        assert!(err.contains("t:1"), "{err}");
        let err = parse_str_follow("t", "a\n}\n").unwrap_err().to_string();
        assert!(err.contains("t:2"), "{err}");
    }

    #[test]
    fn include_follows_wildcards_relative_to_the_file() {
        let dir = std::env::temp_dir().join(format!("kconf-include-{}", std::process::id()));
        std::fs::create_dir_all(dir.join("conf.d")).unwrap();
        std::fs::write(dir.join("main.conf"), "x {\ninclude conf.d/*.conf\n}\n").unwrap();
        std::fs::write(dir.join("conf.d/a.conf"), "a 1\n").unwrap();
        std::fs::write(dir.join("conf.d/b.conf"), "b 2\n").unwrap();
        let (nodes, _) = read(&dir.join("main.conf"), None).unwrap();
        let inner = nodes[0].block.as_ref().unwrap();
        assert_eq!(
            inner.iter().map(Node::keyword).collect::<Vec<_>>(),
            ["a", "b"]
        );
        assert!(inner[1].loc.file.ends_with("conf.d/b.conf"));
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn glob_matches_like_a_shell() {
        assert!(glob_match("*.conf", "a.conf"));
        assert!(glob_match("v?.conf", "v1.conf"));
        assert!(!glob_match("*.conf", "a.conf.bak"));
        assert!(glob_match("*", ""));
        assert!(glob_match("a*b*c", "aXbYbZc"));
        assert!(!glob_match("a*b*c", "aXbYbZ"));
        assert!(glob_match("**?", "x"));
        assert!(!glob_match("?", ""));
        // Linear, not exponential, in the number of stars.
        let stars = "*a".repeat(200);
        assert!(!glob_match(&format!("{stars}b"), &"a".repeat(400)));
    }

    #[test]
    fn nesting_is_bounded() {
        let ok = format!(
            "{}{}",
            "a {\n".repeat(MAX_BLOCK_DEPTH),
            "}\n".repeat(MAX_BLOCK_DEPTH)
        );
        assert!(parse_str_follow("t", &ok).is_ok());
        let deep = "a { ".repeat(MAX_BLOCK_DEPTH + 1);
        let err = parse_str_follow("t", &deep).unwrap_err().to_string();
        assert_eq!(
            err,
            format!("t:1: unbalanced braces: blocks nested deeper than {MAX_BLOCK_DEPTH}")
        );
    }

    #[test]
    fn includes_can_be_refused() {
        let err = parse_str("t", "x {\ninclude /etc/passwd\n}\n", Includes::Refuse, None)
            .unwrap_err()
            .to_string();
        assert_eq!(
            err,
            "t:2: include: not allowed here (this text may not name other files)"
        );
    }
}
