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
        let route = literals(args[0]).into_iter().next().map(|(_, _, p)| p).or_else(|| page_route(args[0]));
        let route = route.unwrap_or_else(|| {
            panic!(
                "{}:{}: a route path that is neither a literal nor a `Page` or `Action` pattern",
                file,
                line_of(&text, at)
            )
        });
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

/// The pattern a `Page::NAME` or `Action::NAME` route argument names, read
/// from `web/page.rs` or `web/action.rs`.
fn page_route(argument: &str) -> Option<String> {
    let argument = argument.trim();
    let (file, name) = match argument.strip_prefix("Page::") {
        Some(name) => ("src/web/page.rs", name),
        None => ("src/web/action.rs", argument.strip_prefix("Action::")?),
    };
    let text = read(&crate_dir().join(file));
    let (at, _) = text.match_indices(&format!("pub const {name}: &'static str = ")).next()?;
    literals(&text[at..]).into_iter().next().map(|(_, _, p)| p)
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

/// The modules of `starship-store` that hold its repository functions.
fn store_modules() -> BTreeSet<String> {
    let lib = crate_dir().parent().expect("the crates directory").join("starship-store/src/lib.rs");
    read(&lib)
        .lines()
        .filter_map(|l| l.trim().strip_prefix("pub mod ")?.strip_suffix(';').map(str::to_string))
        .collect()
}

/// Store items that are no repository function: the clock.
const STORE_HELPERS: [&str; 1] = ["now_millis"];

fn is_function(name: &str) -> bool {
    name.starts_with(|c: char| c.is_ascii_lowercase() || c == '_') && !STORE_HELPERS.contains(&name)
}

fn ident_at(text: &str, at: usize) -> &str {
    let end = text[at..].find(|c: char| !(c.is_alphanumeric() || c == '_')).map_or(text.len(), |n| at + n);
    &text[at..end]
}

/// The paths a `use` tree names, each with the name it is known by
/// (`a::{self as b, C}` gives `(a, b)` and `(a::C, C)`).
fn use_tree(prefix: &[String], tree: &str, into: &mut Vec<(Vec<String>, String)>) {
    let tree = tree.trim();
    if let Some(open) = tree.find('{') {
        let mut base = prefix.to_vec();
        base.extend(tree[..open].split("::").map(str::trim).filter(|s| !s.is_empty()).map(str::to_string));
        let inner = &tree[open + 1..tree.rfind('}').expect("a closed use group")];
        let (mut depth, mut start) = (0, 0);
        for (i, c) in inner.char_indices() {
            match c {
                '{' => depth += 1,
                '}' => depth -= 1,
                ',' if depth == 0 => {
                    use_tree(&base, &inner[start..i], into);
                    start = i + 1;
                }
                _ => {}
            }
        }
        use_tree(&base, &inner[start..], into);
        return;
    }
    if tree.is_empty() {
        return;
    }
    let (path, alias) = match tree.split_once(" as ") {
        Some((p, a)) => (p.trim(), Some(a.trim().to_string())),
        None => (tree, None),
    };
    let mut full = prefix.to_vec();
    full.extend(path.split("::").map(str::trim).filter(|s| *s != "self").map(str::to_string));
    let name = alias.unwrap_or_else(|| full.last().cloned().unwrap_or_default());
    into.push((full, name));
}

/// Every call of a `starship-store` function in the code under `dirs`
/// (relative to this crate's `src/`), as `file:line: the call`: a path
/// `starship_store::module::f(`, a call `alias::f(` through a module the
/// file imports, the import of a function itself, and a connection or
/// transaction opened on the application's store.
pub fn store_calls(dirs: &[&str]) -> Vec<String> {
    let modules = store_modules();
    let src = crate_dir().join("src");
    let mut files = Vec::new();
    for dir in dirs {
        rust_files(&src.join(dir), &mut files);
    }
    let mut found = Vec::new();
    for file in files {
        let text = read(&file);
        let name = file.strip_prefix(&src).unwrap_or(&file).display().to_string();
        let mut aliases = BTreeSet::new();
        for (at, _) in text.match_indices("use starship_store::") {
            let end = at + text[at..].find(';').expect("a use statement ends");
            let mut named = Vec::new();
            use_tree(&["starship_store".to_string()], &text[at + "use starship_store::".len()..end], &mut named);
            for (path, alias) in named {
                match &path[1..] {
                    [module] if modules.contains(module) => {
                        aliases.insert(alias);
                    }
                    [module, item] if modules.contains(module) && is_function(item) => {
                        found.push(format!("{name}:{}: imports {}", line_of(&text, at), path.join("::")));
                    }
                    [item] if !modules.contains(item) && is_function(item) => {
                        found.push(format!("{name}:{}: imports {}", line_of(&text, at), path.join("::")));
                    }
                    _ => {}
                }
            }
        }
        let mut calls = BTreeSet::new();
        for (at, _) in text.match_indices("starship_store::") {
            if text[..at].ends_with("use ") {
                continue;
            }
            let after = at + "starship_store::".len();
            let first = ident_at(&text, after);
            let (call, rest) = if modules.contains(first) && text[after + first.len()..].starts_with("::") {
                let f = ident_at(&text, after + first.len() + 2);
                (format!("{first}::{f}"), after + first.len() + 2 + f.len())
            } else {
                (first.to_string(), after + first.len())
            };
            let last = call.rsplit("::").next().unwrap_or_default();
            if is_function(last) && !modules.contains(last) && text[rest..].starts_with('(') {
                calls.insert((at, format!("starship_store::{call}")));
            }
        }
        for alias in &aliases {
            for (at, _) in text.match_indices(&format!("{alias}::")) {
                let before = text[..at].chars().next_back();
                if before.is_some_and(|c| c.is_alphanumeric() || c == '_' || c == ':') {
                    continue;
                }
                let after = at + alias.len() + 2;
                let f = ident_at(&text, after);
                if is_function(f) && text[after + f.len()..].starts_with('(') {
                    calls.insert((at, format!("{alias}::{f}")));
                }
            }
        }
        // A connection or transaction opened here would let a page compose
        // ops' parts in a transaction of its own.
        for opening in [".store.conn(", ".store.begin(", ".store.begin_read("] {
            for (at, _) in text.match_indices(opening) {
                calls.insert((at, opening.trim_start_matches('.').trim_end_matches('(').to_string()));
            }
        }
        for (at, call) in calls {
            found.push(format!("{name}:{}: {call}(…)", line_of(&text, at)));
        }
    }
    found
}

/// Pages and handlers act through `ops`, where each rule is checked and
/// each transaction owned; a store call in `web/` or `api/` would be a
/// door around them.
/// Every `<form …>` tag of the templates, with its file and line.
fn form_tags() -> Vec<(String, String)> {
    let dir = crate_dir().join("templates");
    let mut tags = Vec::new();
    for entry in std::fs::read_dir(&dir).expect("the templates") {
        let path = entry.expect("a template").path();
        let text = read(&path);
        for (at, _) in text.match_indices("<form") {
            let end = at + text[at..].find('>').expect("a closed form tag");
            let place = format!("{}:{}", path.file_name().unwrap().to_string_lossy(), line_of(&text, at));
            tags.push((place, text[at..=end].to_string()));
        }
    }
    assert!(!tags.is_empty(), "no forms read from the templates");
    tags
}

// A form posts to a `Page` or an `Action` (printed, or built by its
// handler), never to an address written by hand; a search form names its
// `Page` (or none: the page it is on); and handlers build no address with
// `format!`.
#[test]
fn every_form_posts_to_a_page_or_an_action() {
    let mut wrong = Vec::new();
    for (place, tag) in form_tags() {
        let posts = tag.contains(r#"method="post""#);
        let written = tag.contains("action=") && !tag.contains(r#"action="{{ "#);
        if (posts && !tag.contains(r#"action="{{ "#)) || written {
            wrong.push(format!("{place}: {tag}"));
        }
    }
    let mut files = Vec::new();
    rust_files(&crate_dir().join("src/web"), &mut files);
    for file in files {
        let text = read(&file);
        for (at, _) in text.match_indices(r#"format!("/"#) {
            wrong.push(format!("{}:{}: an address built by format!", file.display(), line_of(&text, at)));
        }
    }
    assert!(wrong.is_empty(), "hand-written addresses:\n{}", wrong.join("\n"));
}

#[test]
fn pages_and_handlers_reach_the_store_only_through_ops() {
    let calls = store_calls(&["web", "api"]);
    assert!(calls.is_empty(), "store functions called outside ops:\n{}", calls.join("\n"));
}

/// History is written where the rule and the change are: in `ops`, beside
/// the write it records. A page, a handler, a job or a command writing an
/// entry itself would record a change no rule decided.
#[test]
fn history_is_written_only_by_operations() {
    let everywhere = history_kinds(&["starship-server/src", "starshipd/src"]);
    let outside: Vec<String> =
        everywhere.values().flatten().filter(|place| !place.starts_with("starship-server/src/ops/")).cloned().collect();
    assert!(outside.is_empty(), "History written outside ops:\n{}", outside.join("\n"));
    assert!(!everywhere.is_empty(), "the scan found no History write at all");
}

/// The scan above must see each way a store function can be called, or
/// it would pass on code that calls the store.
#[test]
fn the_store_call_scan_sees_each_way_of_calling() {
    let dir = std::env::temp_dir().join(format!("starship-scan-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(
        dir.join("probe.rs"),
        "use starship_store::users::{self as user_store, User};\n\
         use starship_store::{grants, now_millis, Conn};\n\
         use starship_store::mfa::enrolment;\n\
         // grants::get(&mut tx) in a comment does not count\n\
         async fn f(c: &mut Conn) {\n\
         let _ = starship_store::partners::get(c, \"p\").await;\n\
         let _ = user_store::principal(c, &u).await;\n\
         let _ = grants::of_user(c, \"u\").await;\n\
         let _ = ops::grants::of_user(c, \"u\").await;\n\
         let _ = starship_store::now_millis();\n\
         let _ = starship_store::grants::Granting::Added;\n\
         let mut tx = state.store.begin().await?;\n\
         }\n",
    )
    .unwrap();
    let calls = store_calls(&[dir.to_str().unwrap()]);
    std::fs::remove_dir_all(&dir).unwrap();
    let calls: Vec<String> = calls.into_iter().map(|c| c.split_once(": ").unwrap().1.to_string()).collect();
    assert_eq!(
        calls,
        [
            "imports starship_store::mfa::enrolment",
            "starship_store::partners::get(…)",
            "user_store::principal(…)",
            "grants::of_user(…)",
            "store.begin(…)",
        ]
    );
}

/// Which sibling modules each module of a layer directory names: as
/// `layer::m::`, `super::m::`, or inside a grouped `use crate::layer::{…}` /
/// `use super::{…}`. A directory module (`ops/scim/`) counts as one module.
fn sibling_imports(layer: &str) -> BTreeMap<String, BTreeSet<String>> {
    let dir = crate_dir().join("src").join(layer);
    let mut files = BTreeMap::new();
    for entry in std::fs::read_dir(&dir).unwrap() {
        let path = entry.unwrap().path();
        let name = path.file_stem().unwrap().to_string_lossy().to_string();
        if name == "mod" {
            continue;
        }
        let mut text = String::new();
        if path.is_dir() {
            let mut inner = Vec::new();
            rust_files(&path, &mut inner);
            for file in inner {
                text.push_str(&read(&file));
            }
        } else {
            text = read(&path);
        }
        files.insert(name, text);
    }
    let names: Vec<String> = files.keys().cloned().collect();
    let mut imports = BTreeMap::new();
    for (module, text) in &files {
        let mut grouped: Vec<String> = Vec::new();
        for opening in [format!("use crate::{layer}::{{"), "use super::{".to_string()] {
            let mut rest = text.as_str();
            while let Some(at) = rest.find(&opening) {
                let inside = &rest[at + opening.len()..];
                let end = inside.find('}').unwrap_or(inside.len());
                grouped
                    .extend(inside[..end].split(',').map(|item| item.trim().split("::").next().unwrap().to_string()));
                rest = &inside[end..];
            }
        }
        let named: BTreeSet<String> = names
            .iter()
            .filter(|other| *other != module)
            .filter(|other| {
                [format!("{layer}::{other}::"), format!("super::{other}::"), format!("{layer}::{other};")]
                    .iter()
                    .any(|pattern| text.contains(pattern.as_str()))
                    || grouped.iter().any(|g| g == *other)
            })
            .cloned()
            .collect();
        imports.insert(module.clone(), named);
    }
    imports
}

/// Architecture invariant: no import cycles inside a layer.
#[test]
fn no_module_of_a_layer_imports_another_in_a_cycle() {
    for layer in ["ops", "web", "api"] {
        let imports = sibling_imports(layer);
        assert!(imports.len() > 3, "{layer}: read its modules");
        let mut cycles = Vec::new();
        // A path that comes back to where it started is a cycle.
        fn walk(imports: &BTreeMap<String, BTreeSet<String>>, path: &mut Vec<String>, cycles: &mut Vec<String>) {
            let last = path.last().unwrap().clone();
            for next in imports.get(&last).into_iter().flatten() {
                if *next == path[0] {
                    cycles.push(format!("{} → {next}", path.join(" → ")));
                } else if !path.contains(next) {
                    path.push(next.clone());
                    walk(imports, path, cycles);
                    path.pop();
                }
            }
        }
        for module in imports.keys() {
            walk(&imports, &mut vec![module.clone()], &mut cycles);
        }
        assert!(cycles.is_empty(), "{layer}/ modules import each other in a cycle: {cycles:#?}");
    }
    // The scan sees each way of naming a sibling.
    let ops = sibling_imports("ops");
    assert!(ops["contacts"].contains("users"), "crate::ops::users::… is seen: {:?}", ops["contacts"]);
    let web = sibling_imports("web");
    assert!(web["account"].contains("widgets"), "use super::widgets::… is seen: {:?}", web["account"]);
}

/// Architecture invariant: the rules, the store and the operations name
/// people, partners, grants, admin privileges, tickets, appliances and
/// access reviews by
/// their id types
/// (`starship_core::ids`), never as bare text, so one cannot be passed
/// for another. Text becomes an id at the edges only: an address, a form,
/// a request body.
#[test]
fn ids_are_typed_in_the_rules_the_store_and_the_operations() {
    let root = crate_dir().join("..");
    let mut files = vec![root.join("starship-core/src/authz.rs")];
    rust_files(&root.join("starship-store/src"), &mut files);
    rust_files(&crate_dir().join("src/ops"), &mut files);
    let names = [
        "user_id",
        "partner_id",
        "grant_id",
        "privilege_id",
        "target_user",
        "target_partner",
        "owner_partner",
        "created_by",
        "granted_by",
        "opened_by",
        "decided_by",
        "status_changed_by",
        "author_id",
        "ticket_id",
        "appliance_id",
        "review_id",
        "group_id",
        "mapping_id",
        "token_id",
        "client_id",
        "message_id",
    ];
    let texts = ["&str", "String", "Option<&str>", "Option<String>", "&[String]", "&[&str]", "Vec<String>"];
    let mut bare = Vec::new();
    for path in &files {
        let text = read(path);
        for (n, line) in text.lines().enumerate() {
            let code = line.trim_start();
            if code.starts_with("let ") {
                continue;
            }
            for name in names {
                for declared in code.match_indices(&format!("{name}: ")).map(|(at, _)| &code[at + name.len() + 2..]) {
                    let preceded = code[..code.len() - declared.len() - name.len() - 2].chars().last();
                    let whole_name = preceded.is_none_or(|c| !(c.is_alphanumeric() || c == '_'));
                    let ty = declared.split([',', ')', '=', '{']).next().unwrap_or("").trim();
                    // A borrowed id is text all the same: `&'a str` reads as `&str`.
                    let ty = match ty.find("&'") {
                        Some(at) => {
                            let lifetime_end = ty[at..].find(' ').map_or(ty.len(), |n| at + n + 1);
                            format!("{}&{}", &ty[..at], &ty[lifetime_end..])
                        }
                        None => ty.to_string(),
                    };
                    if whole_name && texts.contains(&ty.as_str()) {
                        bare.push(format!("{}:{}: {name}: {ty}", path.strip_prefix(&root).unwrap().display(), n + 1));
                    }
                }
            }
        }
    }
    assert!(bare.is_empty(), "ids declared as text where their type belongs:\n{}", bare.join("\n"));
}

/// The statements that change who holds a role or an admin privilege.
const ACCESS_WRITES: [&str; 7] = [
    "INSERT INTO grants",
    "UPDATE grants",
    "DELETE FROM grants",
    "INSERT INTO admin_privileges",
    "UPDATE admin_privileges",
    "DELETE FROM admin_privileges",
    "\"grants\",",
];

/// Store functions that write grants under no caller's rule, and why.
const ACCESS_WRITES_WITHOUT_PERMIT: [(&str, &str); 2] = [
    ("sweep_expired", "a grant's end date passed: time, not a caller, ends it"),
    ("claim_reminders", "marks an expiry reminder sent; nobody's access changes"),
];

/// The function enclosing byte `at` of a source file: its name, whether
/// it is `pub`, and its parameter list.
fn enclosing_function(text: &str, at: usize) -> (String, bool, String) {
    let start = text[..at].rfind("fn ").unwrap_or_else(|| panic!("no function before byte {at}"));
    let name = ident_at(text, start + 3).to_string();
    let line_start = text[..start].rfind('\n').map_or(0, |n| n + 1);
    let public = text[line_start..start].contains("pub");
    let open = start + text[start..].find('(').expect("a parameter list");
    (name, public, balanced(text, open).to_string())
}

#[test]
fn every_write_of_access_takes_the_permit_of_a_rule() {
    let root = crate_dir().join("..");
    let authz = read(&root.join("starship-core/src/authz.rs"));
    assert!(
        authz.contains("pub struct Permit<T>(T);"),
        "authz::Permit must keep its field private: only the rules may make one"
    );
    let mut files = Vec::new();
    rust_files(&root.join("starship-store/src"), &mut files);
    let mut outside = Vec::new();
    for dir in ["starship-server/src", "starshipd/src"] {
        rust_files(&root.join(dir), &mut outside);
    }
    let mut unchecked = Vec::new();
    let mut seen = 0;
    for path in files.iter().chain(&outside) {
        let text = read(path);
        let in_store = files.contains(path);
        for statement in ACCESS_WRITES {
            for (at, _) in text.match_indices(statement) {
                seen += 1;
                let place = format!("{}:{}", path.strip_prefix(&root).unwrap().display(), line_of(&text, at));
                if !in_store {
                    unchecked.push(format!("{place}: access written outside the store"));
                    continue;
                }
                let (name, public, params) = enclosing_function(&text, at);
                if params.contains("Permit<") || ACCESS_WRITES_WITHOUT_PERMIT.iter().any(|(n, _)| *n == name) {
                    continue;
                }
                // A private helper is fine when every caller in its module takes a permit.
                let callers: Vec<(String, bool, String)> = text
                    .match_indices(&format!("{name}("))
                    .filter(|(n, _)| {
                        !text[..*n].ends_with("fn ") && !text[..*n].ends_with(|c: char| c.is_alphanumeric() || c == '_')
                    })
                    .map(|(n, _)| enclosing_function(&text, n))
                    .collect();
                if public || callers.is_empty() || callers.iter().any(|(_, _, p)| !p.contains("Permit<")) {
                    unchecked.push(format!("{place}: `{name}` writes access without taking an authz::Permit"));
                }
            }
        }
    }
    assert!(seen >= 8, "the scan found only {seen} writes of grants and admin privileges: is it still reading them?");
    assert!(unchecked.is_empty(), "writes of access no rule allowed:\n{}", unchecked.join("\n"));
}

// The API's types are its wire format: pages and operations share what
// they need through `ops` (the profile view, the person and partner views)
// or `extract` (the session cookie), never by reading the API's module.
#[test]
fn pages_and_operations_do_not_use_the_apis_types() {
    let mut files = Vec::new();
    for dir in ["src/web", "src/ops"] {
        rust_files(&crate_dir().join(dir), &mut files);
    }
    assert!(files.len() > 20, "the scan read only {} files", files.len());
    let mut wrong = Vec::new();
    for file in files {
        let text = read(&file);
        for (at, _) in text.match_indices("crate::api") {
            wrong.push(format!("{}:{}", file.display(), line_of(&text, at)));
        }
    }
    assert!(wrong.is_empty(), "pages or operations reaching into api/:\n{}", wrong.join("\n"));
}
