//! The architecture, checked: each crate depends only on the layers below it (Cargo.toml), and
//! inside every crate the top-level modules import each other without a cycle (read from the
//! sources' `crate::` paths), as ARCHITECTURE.md draws them.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

const ROOT: &str = env!("CARGO_MANIFEST_DIR");

/// Each crate's source folder and the workspace crates it may depend on.
const LAYERS: [(&str, &str, &[&str]); 6] = [
    ("voiceswarm-model", "crates/model", &[]),
    ("voiceswarm-net", "crates/net", &[]),
    (
        "voiceswarm-engine",
        "crates/engine",
        &["voiceswarm-model", "voiceswarm-net"],
    ),
    (
        "voiceswarm-results",
        "crates/results",
        &["voiceswarm-model"],
    ),
    (
        "voiceswarm-backend",
        "crates/backend",
        &["voiceswarm-model", "voiceswarm-net"],
    ),
    (
        "voiceswarm",
        ".",
        &[
            "voiceswarm-model",
            "voiceswarm-engine",
            "voiceswarm-results",
            "voiceswarm-backend",
        ],
    ),
];

/// The workspace crates a manifest's `[dependencies]` names.
fn workspace_dependencies(manifest: &Path) -> BTreeSet<String> {
    let text = std::fs::read_to_string(manifest).unwrap();
    let deps = text.split("\n[dependencies]\n").nth(1).unwrap_or("");
    let deps = deps.split("\n[").next().unwrap_or("");
    deps.lines()
        .filter_map(|l| l.split(['=', '.']).next())
        .map(str::trim)
        .filter(|name| name.starts_with("voiceswarm-"))
        .map(String::from)
        .collect()
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// Top-level module → the other top-level modules of the same crate its files name.
fn module_graph(src: &Path) -> BTreeMap<String, BTreeSet<String>> {
    let mut files = Vec::new();
    rust_files(src, &mut files);
    let mut graph: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for file in files {
        let rel = file.strip_prefix(src).unwrap();
        let first = rel
            .components()
            .next()
            .unwrap()
            .as_os_str()
            .to_string_lossy();
        let module = first.trim_end_matches(".rs").to_string();
        if module == "lib" || module == "main" {
            continue;
        }
        let text = std::fs::read_to_string(&file).unwrap();
        let edges = graph.entry(module.clone()).or_default();
        for (i, _) in text.match_indices("crate::") {
            let preceded_by_word = text[..i].ends_with(|c: char| c.is_alphanumeric() || c == '_');
            let name: String = text[i + 7..]
                .chars()
                .take_while(|c| c.is_alphanumeric() || *c == '_')
                .collect();
            if !preceded_by_word && !name.is_empty() && name != module {
                edges.insert(name);
            }
        }
    }
    graph
}

/// A cycle in `graph`, if there is one, as the modules along it.
fn cycle(graph: &BTreeMap<String, BTreeSet<String>>) -> Option<Vec<String>> {
    fn visit(
        node: &str,
        graph: &BTreeMap<String, BTreeSet<String>>,
        path: &mut Vec<String>,
        done: &mut BTreeSet<String>,
    ) -> Option<Vec<String>> {
        if let Some(at) = path.iter().position(|n| n == node) {
            let mut found = path[at..].to_vec();
            found.push(node.to_string());
            return Some(found);
        }
        if !done.insert(node.to_string()) {
            return None;
        }
        path.push(node.to_string());
        for next in graph.get(node).into_iter().flatten() {
            if let Some(c) = visit(next, graph, path, done) {
                return Some(c);
            }
        }
        path.pop();
        None
    }
    let mut done = BTreeSet::new();
    graph
        .keys()
        .find_map(|n| visit(n, graph, &mut Vec::new(), &mut done))
}

#[test]
fn each_crate_depends_only_on_the_layers_below_it() {
    for (name, dir, allowed) in LAYERS {
        let deps = workspace_dependencies(&Path::new(ROOT).join(dir).join("Cargo.toml"));
        let allowed: BTreeSet<String> = allowed.iter().map(|s| s.to_string()).collect();
        let upward: Vec<_> = deps.difference(&allowed).collect();
        assert!(
            upward.is_empty(),
            "{name} depends on {upward:?}, above or beside it"
        );
    }
}

#[test]
fn no_crate_has_an_import_cycle_between_its_modules() {
    for (name, dir, _) in LAYERS {
        let src = Path::new(ROOT).join(dir).join("src");
        let root = ["lib.rs", "main.rs"].iter().any(|f| src.join(f).is_file());
        assert!(root, "{name}: no lib.rs or main.rs in {dir}/src");
        let graph = module_graph(&src);
        if let Some(c) = cycle(&graph) {
            panic!("{name}: import cycle {}", c.join(" → "));
        }
    }
}

#[test]
fn the_cycle_finder_finds_a_cycle() {
    let graph: BTreeMap<String, BTreeSet<String>> = [
        ("a", vec!["b"]),
        ("b", vec!["c"]),
        ("c", vec!["a"]),
        ("d", vec![]),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v.into_iter().map(String::from).collect()))
    .collect();
    assert_eq!(cycle(&graph).unwrap(), ["a", "b", "c", "a"]);
}
