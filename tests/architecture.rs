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

/// The leaves every module may use, then the stages in the data's order.
const LEAVES: [&str; 4] = ["error", "units", "yaml", "basics"];
const STAGES: [&str; 9] = [
    "declaration",
    "fetch",
    "extract",
    "record",
    "structure",
    "analyse",
    "facts",
    "memo",
    "report",
];

#[test]
fn a_stage_imports_only_earlier_stages() {
    let graph = imports();
    for (at, stage) in STAGES.iter().enumerate() {
        for name in &graph[*stage] {
            if LEAVES.contains(&name.as_str()) {
                continue;
            }
            let earlier = STAGES[..at].contains(&name.as_str());
            assert!(
                earlier,
                "the stage {stage} imports {name}, which is not an earlier stage ({})",
                STAGES[..at].join(", ")
            );
        }
    }
    for leaf in LEAVES {
        for name in &graph[leaf] {
            assert!(
                LEAVES.contains(&name.as_str()),
                "the leaf {leaf} imports {name}"
            );
        }
    }
}

/// The graph drawn in lib.rs's overview: module → the modules it imports (leaves left out).
fn drawn_graph() -> BTreeMap<String, BTreeSet<String>> {
    let lib =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("src/lib.rs")).unwrap();
    let drawing = lib
        .split("//! ```text")
        .nth(1)
        .and_then(|rest| rest.split("//! ```").next())
        .expect("lib.rs draws the module graph in a ```text block");
    let mut graph = BTreeMap::new();
    for line in drawing.lines() {
        let line = line.trim_start_matches("//!").trim();
        let Some((module, rest)) = line.split_once('→') else {
            continue;
        };
        // The names end where the description starts (two spaces or more).
        let names = rest.trim().split("  ").next().unwrap_or("");
        let names: BTreeSet<String> = names
            .split(',')
            .map(|name| name.trim().to_string())
            .filter(|name| !name.is_empty() && name != "none")
            .collect();
        graph.insert(module.trim().to_string(), names);
    }
    graph
}

#[test]
fn the_graph_in_lib_rs_is_the_imports() {
    let drawn = drawn_graph();
    let graph = imports();
    assert!(drawn.len() > 10, "lib.rs draws too few modules: {drawn:?}");
    for (module, names) in &graph {
        if LEAVES.contains(&module.as_str()) || module == "cli" || module == "main" {
            continue;
        }
        let imported: BTreeSet<String> = names
            .iter()
            .filter(|name| !LEAVES.contains(&name.as_str()))
            .cloned()
            .collect();
        assert_eq!(
            drawn.get(module),
            Some(&imported),
            "lib.rs's graph of {module} is not what it imports"
        );
    }
}
