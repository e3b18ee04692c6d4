//! Reads the server's own source at test time, so tables of cases can be
//! checked against what the code really has: the routes each router
//! declares, and the History kinds each write appends. A route or kind
//! added without a case then fails a test instead of passing unseen.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use starship_core::history::Kind;

const METHODS: [&str; 5] = ["get", "post", "put", "patch", "delete"];

fn crate_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn read(path: &Path) -> String {
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("reading {}: {e}", path.display()));
    // Comments may quote code; only code counts.
    text.lines().map(|line| if line.trim_start().starts_with("//") { "" } else { line }).collect::<Vec<_>>().join("\n")
}

fn rust_files(dir: &Path, into: &mut Vec<PathBuf>) {
    let mut entries: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|e| e.unwrap().path())
        .collect();
    entries.sort();
    for path in entries {
        if path.is_dir() {
            rust_files(&path, into);
        } else if path.extension().is_some_and(|e| e == "rs") {
            into.push(path);
        }
    }
}

/// The text between the parenthesis at `open` and its match, string
/// literals skipped.
fn balanced(text: &str, open: usize) -> &str {
    let bytes = text.as_bytes();
    assert_eq!(bytes[open], b'(');
    let (mut depth, mut i, mut in_string) = (0usize, open, false);
    while i < bytes.len() {
        let c = bytes[i];
        if in_string {
            match c {
                b'\\' => i += 1,
                b'"' => in_string = false,
                _ => {}
            }
        } else {
            match c {
                b'"' => in_string = true,
                b'(' | b'[' | b'{' => depth += 1,
                b')' | b']' | b'}' => {
                    depth -= 1;
                    if depth == 0 {
                        return &text[open + 1..i];
                    }
                }
                _ => {}
            }
        }
        i += 1;
    }
    panic!("unbalanced parenthesis at byte {open}")
}

/// Splits call arguments at the commas outside any bracket or string.
fn arguments(args: &str) -> Vec<&str> {
    let bytes = args.as_bytes();
    let (mut depth, mut in_string, mut start, mut out) = (0i32, false, 0, Vec::new());
    let mut i = 0;
    while i < bytes.len() {
        let c = bytes[i];
        if in_string {
            match c {
                b'\\' => i += 1,
                b'"' => in_string = false,
                _ => {}
            }
        } else {
            match c {
                b'"' => in_string = true,
                b'(' | b'[' | b'{' => depth += 1,
                b')' | b']' | b'}' => depth -= 1,
                b',' if depth == 0 => {
                    out.push(args[start..i].trim());
                    start = i + 1;
                }
                _ => {}
            }
        }
        i += 1;
    }
    if !args[start..].trim().is_empty() {
        out.push(args[start..].trim());
    }
    out
}

/// Every string literal of `text`, with the byte range of its quotes.
fn literals(text: &str) -> Vec<(usize, usize, String)> {
    let bytes = text.as_bytes();
    let (mut out, mut i) = (Vec::new(), 0);
    while i < bytes.len() {
        if bytes[i] == b'"' {
            let start = i;
            let mut value = String::new();
            i += 1;
            while i < bytes.len() && bytes[i] != b'"' {
                if bytes[i] == b'\\' {
                    i += 1;
                }
                value.push(bytes[i] as char);
                i += 1;
            }
            out.push((start, i, value));
        }
        i += 1;
    }
    out
}

fn line_of(text: &str, at: usize) -> usize {
    text[..at].matches('\n').count() + 1
}

/// `(METHOD, path)` of every `.route(…)` in one router file of `src/`.
pub fn routes(file: &str) -> BTreeSet<(String, String)> {
    let path = crate_dir().join("src").join(file);
    let text = read(&path);
    let mut found = BTreeSet::new();
    for (at, _) in text.match_indices(".route(") {
        let args = arguments(balanced(&text, at + ".route".len()));
        let route = literals(args[0]).into_iter().next().map(|(_, _, p)| p);
        let route =
            route.unwrap_or_else(|| panic!("{}:{}: a route path that is not a literal", file, line_of(&text, at)));
        let handlers = args[1..].join(",");
        let mut methods = 0;
        for method in METHODS {
            for (i, _) in handlers.match_indices(&format!("{method}(")) {
                let before = handlers[..i].chars().next_back();
                if before.is_none_or(|c| !(c.is_alphanumeric() || c == '_')) {
                    found.insert((method.to_uppercase(), route.clone()));
                    methods += 1;
                }
            }
        }
        assert!(methods > 0, "{}:{}: no method read for {route}", file, line_of(&text, at));
    }
    assert!(!found.is_empty(), "no routes read from {file}");
    found
}

/// Whether a path parameter names a record (not an application key, a
/// communication type, …).
pub fn takes_id(path: &str) -> bool {
    path.split('/').any(|s| s.starts_with('{') && !matches!(s, "{key}" | "{application}" | "{type}"))
}

/// The `let name = …;` statement before `at` that gives `name` its value.
fn binding<'a>(text: &'a str, at: usize, name: &str) -> Option<&'a str> {
    let start = text[..at].rfind(&format!("let {name} ="))?;
    let end = start + text[start..].find(";\n")?;
    Some(&text[start..end])
}

/// Every History action written by the code under `dirs` (relative to the
/// workspace's `crates/`): the action argument of each
/// `history::append(…)`, and the action of each entry passed to
/// `history::append_many(…)`, with where it is written. A call whose kind
/// cannot be read as a `Kind::…` fails, so nothing is missed quietly.
pub fn history_kinds(dirs: &[&str]) -> BTreeMap<String, Vec<String>> {
    let crates = crate_dir().parent().expect("the crates directory").to_path_buf();
    let mut files = Vec::new();
    for dir in dirs {
        rust_files(&crates.join(dir), &mut files);
    }
    let mut kinds: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for file in files {
        let text = read(&file);
        let name = file.strip_prefix(&crates).unwrap().display().to_string();
        for (call, action_arg) in [("history::append(", 3), ("history::append_many(", 2)] {
            for (at, _) in text.match_indices(call) {
                let place = format!("{name}:{}", line_of(&text, at));
                let args = arguments(balanced(&text, at + call.len() - 1));
                let arg = *args.get(action_arg).unwrap_or_else(|| panic!("{place}: too few arguments"));
                let expression = if arg.chars().all(|c| c.is_alphanumeric() || c == '_') {
                    binding(&text, at, arg).unwrap_or_else(|| panic!("{place}: where is `{arg}` set?"))
                } else {
                    arg
                };
                // Kinds are `Kind::Variant`s; each named in the argument is written.
                let read: Vec<String> = expression
                    .match_indices("Kind::")
                    .filter_map(|(start, _)| {
                        let variant: String =
                            expression[start + 6..].chars().take_while(|c| c.is_alphanumeric() || *c == '_').collect();
                        Kind::ALL.into_iter().find(|k| format!("{k:?}") == variant).map(|k| k.as_str().to_string())
                    })
                    .collect();
                assert!(!read.is_empty(), "{place}: the History kind is not a `Kind::…` this scan can read: {arg}");
                for kind in read {
                    kinds.entry(kind).or_default().push(place.clone());
                }
            }
        }
    }
    kinds
}
