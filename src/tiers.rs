//! The module graph points one way: a module may name (`crate::…` in code)
//! only modules of a lower rank. Three tiers:
//!
//! * the kernel: the shared pieces every protection is built from, in an
//!   order of their own;
//! * the layers: each protection, importing only the kernel, never another
//!   layer;
//! * the providers, then the composition (the inbox, which stands where the
//!   handler would and reuses the audit layer and the idempotency store's
//!   Redis connection; stack, policy, tenants, client, test utilities) on
//!   top.
//!
//! Doc comments and `#[cfg(test)]` code are not counted: a test may reach
//! anywhere, and a doc link is not a dependency.

use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::path::{Path, PathBuf};

/// Each top-level module and its rank. Modules of one rank may not import
/// each other (the layers); a module imports only lower ranks.
const RANKS: &[(&str, u32)] = &[
    // The kernel.
    ("secret", 0),
    ("lease_watch", 0),
    ("path", 1),
    ("timestamp", 1),
    ("telemetry", 1),
    ("invalid_setting", 2),
    ("response_body", 3),
    ("rejection", 4),
    ("body", 5),
    ("context", 6),
    ("guard", 7),
    ("chain", 8),
    // The layers.
    ("audit", 10),
    ("handshake", 10),
    ("idempotency", 10),
    ("ip", 10),
    ("replay", 10),
    ("signature", 10),
    ("token", 10),
    // The providers.
    ("provider", 20),
    // The composition. The inbox sits after the protections and reuses the
    // audit trail and the Redis connection of the idempotency store.
    ("inbox", 22),
    ("tenant", 30),
    ("stack", 31),
    ("policy", 32),
    ("seal", 21),
    ("client", 33),
    ("extract", 33),
    ("test_util", 33),
];

/// Imports that still go the wrong way, each to be removed (never added
/// to): the test fails on any violation not listed here, and on a listed
/// one that no longer occurs, so this list only shrinks.
const NOT_YET: &[(&str, &str)] = &[];

fn rank(module: &str) -> Option<u32> {
    RANKS
        .iter()
        .find(|(name, _)| *name == module)
        .map(|(_, rank)| *rank)
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|ext| ext == "rs") {
            out.push(path);
        }
    }
}

/// The files declared as `#[cfg(test)] mod name;` (or with a `#[path]`),
/// which are test code as a whole.
fn test_only_files(files: &[PathBuf]) -> BTreeSet<PathBuf> {
    let mut test_only = BTreeSet::new();
    for file in files {
        let Ok(text) = fs::read_to_string(file) else {
            continue;
        };
        let lines: Vec<&str> = text.lines().map(str::trim).collect();
        for (at, line) in lines.iter().enumerate() {
            if *line != "#[cfg(test)]" {
                continue;
            }
            let mut next = at + 1;
            let mut path_attr = None;
            while let Some(attr) = lines.get(next).filter(|l| l.starts_with("#[")) {
                if let Some(rest) = attr.strip_prefix("#[path = \"") {
                    path_attr = rest.split('"').next().map(str::to_owned);
                }
                next += 1;
            }
            let Some(name) = lines
                .get(next)
                .and_then(|l| l.strip_prefix("mod "))
                .and_then(|l| l.strip_suffix(';'))
            else {
                continue;
            };
            let dir = file.parent().unwrap_or(Path::new("."));
            let own_dir = match file.file_name().and_then(|n| n.to_str()) {
                Some("mod.rs" | "lib.rs") => dir.to_path_buf(),
                _ => dir.join(file.file_stem().unwrap_or_default()),
            };
            match path_attr {
                Some(path) => test_only.insert(dir.join(path)),
                None => {
                    test_only.insert(own_dir.join(format!("{name}.rs")));
                    test_only.insert(own_dir.join(name).join("mod.rs"))
                }
            };
        }
    }
    test_only
}

/// The code of `text`: comment lines dropped, and the test module (a
/// `#[cfg(test)]` followed by `mod name {`, by convention at the end of the
/// file) cut. Other `#[cfg(test)]` items count as code: an import only a
/// test helper uses still has to point down.
fn code_of(text: &str) -> String {
    let lines: Vec<&str> = text.lines().collect();
    let test_module = lines.iter().enumerate().find_map(|(at, line)| {
        if line.trim() != "#[cfg(test)]" {
            return None;
        }
        let item = lines[at + 1..]
            .iter()
            .map(|line| line.trim())
            .find(|line| !line.starts_with("#["))?;
        (item.starts_with("mod ") && item.ends_with('{')).then_some(at)
    });
    lines[..test_module.unwrap_or(lines.len())]
        .iter()
        .filter(|line| !line.trim_start().starts_with("//"))
        .copied()
        .collect::<Vec<_>>()
        .join("\n")
}

/// The top-level modules `code` names through `crate::`, including in
/// `use crate::{a::b, c}` groups.
fn named_modules(code: &str) -> BTreeSet<String> {
    let mut named = BTreeSet::new();
    let mut rest = code;
    while let Some(at) = rest.find("crate::") {
        rest = &rest[at + "crate::".len()..];
        if let Some(group) = rest.strip_prefix('{') {
            // The top level names of the group: each item's first segment.
            let mut depth = 0;
            let mut item_start = true;
            let mut word = String::new();
            for c in group.chars() {
                match c {
                    '{' => depth += 1,
                    '}' if depth == 0 => break,
                    '}' => depth -= 1,
                    ',' if depth == 0 => item_start = true,
                    c if item_start && (c.is_alphanumeric() || c == '_') => word.push(c),
                    _ if item_start && !word.is_empty() => {
                        named.insert(std::mem::take(&mut word));
                        item_start = false;
                    }
                    _ => {}
                }
            }
            if !word.is_empty() {
                named.insert(word);
            }
        } else {
            let word: String = rest
                .chars()
                .take_while(|c| c.is_alphanumeric() || *c == '_')
                .collect();
            named.insert(word);
        }
    }
    named
}

/// The items the crate root re-exports (`pub use stack::{WebhookStack, ..};`)
/// and the module each comes from.
fn root_reexports(lib: &str) -> BTreeMap<String, String> {
    let mut items = BTreeMap::new();
    for statement in lib.split(';') {
        // After any attributes (`#[cfg(feature = "stack")]`).
        let Some(at) = statement.find("pub use ") else {
            continue;
        };
        let used = &statement[at + "pub use ".len()..];
        let Some((module, names)) = used.split_once("::") else {
            continue;
        };
        for name in names.split(|c: char| !(c.is_alphanumeric() || c == '_')) {
            if name.starts_with(char::is_uppercase) {
                items.insert(name.to_owned(), module.to_owned());
            }
        }
    }
    items
}

#[test]
fn imports_only_go_down() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    rust_files(&src, &mut files);
    let test_only = test_only_files(&files);
    let root_items = root_reexports(&fs::read_to_string(src.join("lib.rs")).unwrap_or_default());
    let mut edges: BTreeMap<(String, String), PathBuf> = BTreeMap::new();
    for file in &files {
        let relative = file.strip_prefix(&src).unwrap_or(file);
        let Some(first) = relative.components().next() else {
            continue;
        };
        let first = first.as_os_str().to_string_lossy();
        let module = first.strip_suffix(".rs").unwrap_or(&first).to_owned();
        if module == "lib" || module == "bin" || test_only.contains(file) {
            continue;
        }
        let Some(own_rank) = rank(&module) else {
            panic!("src/{first}: a top-level module without a rank in RANKS");
        };
        let text = fs::read_to_string(file).unwrap_or_default();
        for named in named_modules(&code_of(&text)) {
            // A crate-root item (`crate::WebhookStack`) is its module's.
            let other = root_items.get(&named).cloned().unwrap_or(named);
            let Some(other_rank) = rank(&other) else {
                continue;
            };
            if other != module && other_rank >= own_rank {
                edges.entry((module.clone(), other)).or_insert(file.clone());
            }
        }
    }
    let mut failures = Vec::new();
    for ((from, to), file) in &edges {
        if !NOT_YET.contains(&(from.as_str(), to.as_str())) {
            failures.push(format!(
                "{} names crate::{to}: `{from}` may only import modules below it",
                file.display()
            ));
        }
    }
    for (from, to) in NOT_YET {
        if !edges.contains_key(&(from.to_string(), to.to_string())) {
            failures.push(format!(
                "{from} -> {to} is gone: remove it from NOT_YET so it stays gone"
            ));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn root_items_belong_to_their_module() {
    let items =
        root_reexports("pub use stack::{StackError, WebhookStack};\npub use secret::Secret;");
    assert_eq!(items["WebhookStack"], "stack");
    assert_eq!(items["Secret"], "secret");
}

#[test]
fn only_the_test_module_is_cut() {
    let code = code_of("#[cfg(test)]\nuse crate::stack::X;\nfn f() {}\n#[cfg(test)]\nmod tests {\n    use crate::policy::Y;\n}");
    assert!(code.contains("crate::stack"));
    assert!(!code.contains("crate::policy"));
}

#[test]
fn groups_and_paths_are_both_read() {
    let code =
        "use crate::{body::X, rejection::{Reason, Rejection}, Secret};\nlet x = crate::guard::f();";
    let named = named_modules(code);
    for module in ["body", "rejection", "Secret", "guard"] {
        assert!(named.contains(module), "{module} in {named:?}");
    }
    assert!(!named.contains("Reason"));
}
