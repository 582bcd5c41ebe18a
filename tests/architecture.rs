//! The shape of the house, checked: the library's top-level modules import one another without
//! a cycle, stages never import the modules that run them, and nothing imports the binary.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

/// Top-level module → the top-level modules its code (not its docs or tests) names.
fn imports() -> BTreeMap<String, BTreeSet<String>> {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut graph: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    let mut stack = vec![src.clone()];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).unwrap().flatten() {
            let path = entry.path();
            if path.is_dir() {
                stack.push(path);
                continue;
            }
            if path.extension().is_none_or(|e| e != "rs") {
                continue;
            }
            let relative = path.strip_prefix(&src).unwrap();
            let first = relative.components().next().unwrap().as_os_str();
            let module = first.to_string_lossy().trim_end_matches(".rs").to_string();
            if module == "lib" {
                continue;
            }
            let text = std::fs::read_to_string(&path).unwrap();
            let code = text.split("#[cfg(test)]").next().unwrap_or("");
            let names = graph.entry(module.clone()).or_default();
            for line in code.lines().map(str::trim) {
                if line.starts_with("//") {
                    continue;
                }
                for (at, _) in line.match_indices("crate::") {
                    let rest = &line[at + "crate::".len()..];
                    let listed: Vec<&str> = match rest.strip_prefix('{') {
                        Some(list) => list
                            .split(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
                            .collect(),
                        None => vec![
                            rest.split(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
                                .next()
                                .unwrap_or(""),
                        ],
                    };
                    for name in listed {
                        let lower = name.chars().next().is_some_and(|c| c.is_ascii_lowercase());
                        if lower && name != module {
                            names.insert(name.to_string());
                        }
                    }
                }
            }
        }
    }
    graph
}

#[test]
fn modules_import_each_other_without_a_cycle() {
    let graph = imports();
    // Known edges, so that a reader that sees nothing cannot pass.
    assert!(graph["track"].contains("record") && graph["memo"].contains("analyse"));
    // Depth-first search for a back edge.
    fn visit(
        module: &str,
        graph: &BTreeMap<String, BTreeSet<String>>,
        path: &mut Vec<String>,
        done: &mut BTreeSet<String>,
    ) {
        if let Some(at) = path.iter().position(|m| m == module) {
            panic!("import cycle: {} → {module}", path[at..].join(" → "));
        }
        if done.contains(module) {
            return;
        }
        path.push(module.to_string());
        for next in graph.get(module).into_iter().flatten() {
            visit(next, graph, path, done);
        }
        path.pop();
        done.insert(module.to_string());
    }
    let mut done = BTreeSet::new();
    for module in graph.keys() {
        visit(module, &graph, &mut Vec::new(), &mut done);
    }
}

#[test]
fn stages_never_import_what_runs_them() {
    let graph = imports();
    let around = [
        "track", "daemon", "notify", "status", "audit", "demo", "cli", "main",
    ];
    for stage in [
        "declaration",
        "fetch",
        "extract",
        "record",
        "analyse",
        "memo",
        "report",
    ] {
        for name in &graph[stage] {
            assert!(
                !around.contains(&name.as_str()),
                "the stage {stage} imports {name}, which runs the stages"
            );
        }
    }
    for (module, names) in &graph {
        if module != "main" && module != "cli" {
            assert!(
                !names.contains("cli") && !names.contains("main"),
                "{module} imports the binary"
            );
        }
    }
    // Tracking returns its report; notifying is the caller's choice.
    assert!(!graph["track"].contains("notify"), "track imports notify");
}
