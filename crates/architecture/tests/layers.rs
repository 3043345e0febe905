//! The layering ARCHITECTURE.md draws, checked against the real workspace: the dependency
//! graph as cargo resolves it (transitive, normal dependencies only — what ships), and the
//! sources of the edges.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::print_stdout,
    clippy::print_stderr,
    reason = "a test: a failed step is a failed test, and what it prints is for the person reading it"
)]

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::Value;

fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// Each workspace crate's transitive normal dependencies, by package name.
fn dependency_graph() -> BTreeMap<String, BTreeSet<String>> {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let output = Command::new(cargo)
        .args(["metadata", "--format-version", "1", "--offline"])
        .current_dir(workspace())
        .output()
        .expect("cargo metadata runs");
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let metadata: Value = serde_json::from_slice(&output.stdout).expect("cargo metadata's JSON");
    let name_of: BTreeMap<&str, &str> = metadata["packages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| (p["id"].as_str().unwrap(), p["name"].as_str().unwrap()))
        .collect();
    // Direct normal dependencies, by package id.
    let direct: BTreeMap<&str, Vec<&str>> = metadata["resolve"]["nodes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|node| {
            let deps = node["deps"]
                .as_array()
                .unwrap()
                .iter()
                .filter(|dep| {
                    dep["dep_kinds"]
                        .as_array()
                        .unwrap()
                        .iter()
                        .any(|kind| kind["kind"].is_null())
                })
                .map(|dep| dep["pkg"].as_str().unwrap())
                .collect();
            (node["id"].as_str().unwrap(), deps)
        })
        .collect();
    let mut graph = BTreeMap::new();
    for member in metadata["workspace_members"].as_array().unwrap() {
        let member = member.as_str().unwrap();
        let mut seen = BTreeSet::new();
        let mut todo = vec![member];
        while let Some(id) = todo.pop() {
            for dep in direct.get(id).into_iter().flatten() {
                if seen.insert(name_of[dep].to_string()) {
                    todo.push(dep);
                }
            }
        }
        graph.insert(name_of[member].to_string(), seen);
    }
    graph
}

/// Fails naming every crate in `crates` that (transitively) depends on one of `forbidden`.
fn assert_never(
    graph: &BTreeMap<String, BTreeSet<String>>,
    crates: &[&str],
    forbidden: &[&str],
    why: &str,
) {
    let mut broken = Vec::new();
    for krate in crates {
        let deps = graph
            .get(*krate)
            .unwrap_or_else(|| panic!("{krate} is not a workspace crate"));
        for bad in forbidden {
            if deps.contains(*bad) {
                broken.push(format!("{krate} depends on {bad}"));
            }
        }
    }
    assert!(broken.is_empty(), "{why}:\n{}", broken.join("\n"));
}

const DATABASES: &[&str] = &[
    "tollgate-store",
    "sqlx",
    "sqlx-core",
    "libsqlite3-sys",
    "rusqlite",
    "postgres",
    "tokio-postgres",
    "diesel",
    "sea-orm",
];

/// The crates that serve HTTP edges over the operations.
const EDGES: &[&str] = &[
    "tollgate-restcore",
    "tollgate-publisher",
    "tollgate-devportal",
    "tollgate-admin",
    "tollgate-identity",
    "tollgate-portals",
];

#[test]
fn the_data_plane_never_opens_a_database() {
    let graph = dependency_graph();
    assert_never(
        &graph,
        &[
            "tollgate-gateway",
            "tollgate-model",
            "tollgate-hublink",
            "tollgate-net",
            "tollgate-guard",
            "tollgate-jwt",
        ],
        DATABASES,
        "the gateway gets everything from snapshots and events",
    );
}

#[test]
fn the_model_does_no_io() {
    let graph = dependency_graph();
    assert_never(
        &graph,
        &["tollgate-model"],
        &["tokio", "hyper", "reqwest", "axum", "mio"],
        "model is plain data: no I/O, no async, no HTTP",
    );
}

#[test]
fn each_layer_depends_only_on_layers_below_it() {
    let graph = dependency_graph();
    assert_never(
        &graph,
        &[
            "tollgate-operations",
            "tollgate-keymanager",
            "tollgate-store",
            "tollgate-model",
        ],
        &[
            "tollgate-restcore",
            "tollgate-publisher",
            "tollgate-devportal",
            "tollgate-admin",
            "tollgate-identity",
            "tollgate-portals",
            "tollgate-controlplane",
            "tollgate-gateway",
            "tollgate-traffic",
        ],
        "rules and storage know nothing of the edges or the data plane",
    );
    assert_never(
        &graph,
        &["tollgate-keymanager", "tollgate-store"],
        &["tollgate-operations"],
        "the key manager and the store sit below the operations",
    );
    assert_never(
        &graph,
        EDGES,
        &[
            "tollgate-gateway",
            "tollgate-traffic",
            "tollgate-controlplane",
        ],
        "a REST API or page never talks to a gateway or the hub directly",
    );
    assert_never(
        &graph,
        &["tollgate-gateway", "tollgate-traffic", "tollgate-hublink"],
        &[
            "tollgate-operations",
            "tollgate-keymanager",
            "tollgate-controlplane",
        ],
        "the data plane and the hub never reach into the control plane",
    );
}

/// The sources of the edges: every REST API, the portals, client registration and the
/// internal data API.
fn edge_sources() -> Vec<PathBuf> {
    let root = workspace().join("crates");
    let mut files = Vec::new();
    for krate in [
        "restcore",
        "publisher",
        "devportal",
        "admin",
        "identity",
        "portals",
    ] {
        collect_rust(&root.join(krate).join("src"), &mut files);
    }
    files.push(root.join("controlplane/src/internal.rs"));
    files.push(root.join("controlplane/src/lib.rs"));
    files.push(root.join("keymanager/src/http.rs"));
    files
}

fn collect_rust(dir: &Path, files: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).expect("a source folder") {
        let path = entry.expect("a directory entry").path();
        if path.is_dir() {
            collect_rust(&path, files);
        } else if path.extension().is_some_and(|e| e == "rs") {
            files.push(path);
        }
    }
}

/// Whether `code` holds `word` as a whole name (not inside `UserChange::` or `StoreError`).
fn names(code: &str, word: &str) -> bool {
    let ident = |c: char| c.is_alphanumeric() || c == '_';
    code.match_indices(word).any(|(at, _)| {
        let before = code[..at].chars().next_back();
        let after = code[at + word.len()..].chars().next();
        let starts = word.starts_with(|c: char| !ident(c)) || !before.is_some_and(ident);
        let ends = word.ends_with(|c: char| !ident(c)) || !after.is_some_and(ident);
        starts && ends
    })
}

/// Whether `line` reaches the store, which only operations (and the key manager's own
/// logic) may: the services' store, a transaction, a change.
fn reaches_the_store(line: &str) -> Option<&'static str> {
    let code = line.split("//").next().unwrap_or("");
    if names(code, ".store") || names(code, ".store()") {
        Some("the store")
    } else if names(code, "ApimTx") || names(code, "begin_shared") || code.contains(".begin()") {
        Some("a write transaction")
    } else if names(code, "Change") {
        Some("a store change")
    } else if names(code, "Store::")
        || (code.contains("tollgate_store") && names(&code.replace("::Store(", ""), "Store"))
    {
        Some("the Store type")
    } else {
        None
    }
}

#[test]
fn edges_only_translate_and_never_reach_the_store() {
    let mut found = Vec::new();
    for file in edge_sources() {
        let text = std::fs::read_to_string(&file).expect("a source file");
        for (number, line) in text.lines().enumerate() {
            if let Some(what) = reaches_the_store(line) {
                found.push(format!(
                    "{}:{}: {what}: {}",
                    file.strip_prefix(workspace()).unwrap_or(&file).display(),
                    number + 1,
                    line.trim()
                ));
            }
        }
    }
    assert!(
        found.is_empty(),
        "edges call operations; rules and store calls live there:\n{}",
        found.join("\n")
    );
}

#[test]
fn the_check_sees_a_store_call() {
    assert!(reaches_the_store("    let rows = ctx.store.policies(t, l).await?;").is_some());
    assert!(reaches_the_store("    let mut tx = services.store.begin().await?;").is_some());
    assert!(reaches_the_store("tx.apply(&Change::DeleteApi(row))").is_some());
    assert!(reaches_the_store("    key_manager.store().begin()").is_some());
    assert!(reaches_the_store("    let stored = item.stored_at; // ctx.store").is_none());
    assert!(reaches_the_store("use tollgate_store::{ApiRow, DocumentRow};").is_none());
    assert!(reaches_the_store("let mut change = UserChange::default();").is_none());
    assert!(reaches_the_store("use tollgate_store::StoreError;").is_none());
    assert!(reaches_the_store("fn f(store: tollgate_store::Store) {}").is_some());
    assert!(reaches_the_store("use tollgate_store::{ApiRow, Store};").is_some());
    assert!(reaches_the_store("OpError::Store(store) => store.into(),").is_none());
}
