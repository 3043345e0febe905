//! The gateway opens no database: neither it nor the model it builds on may depend on one.

const FORBIDDEN: &[&str] = &[
    "tollgate-store",
    "sqlx",
    "rusqlite",
    "postgres",
    "tokio-postgres",
    "diesel",
    "sea-orm",
];

fn dependencies_of(manifest: &str) -> Vec<String> {
    let mut deps = Vec::new();
    let mut in_deps = false;
    for line in manifest.lines() {
        let line = line.trim();
        if line.starts_with('[') {
            in_deps = line == "[dependencies]";
            continue;
        }
        if in_deps {
            if let Some((name, _)) = line.split_once(['=', '.']) {
                deps.push(name.trim().to_string());
            }
        }
    }
    deps
}

#[test]
fn gateway_and_model_have_no_database_dependency() {
    for manifest in [
        concat!(env!("CARGO_MANIFEST_DIR"), "/Cargo.toml"),
        concat!(env!("CARGO_MANIFEST_DIR"), "/../model/Cargo.toml"),
    ] {
        let text = std::fs::read_to_string(manifest).expect("manifest");
        let deps = dependencies_of(&text);
        assert!(!deps.is_empty(), "{manifest}: no dependencies parsed");
        for dep in deps {
            assert!(
                !FORBIDDEN.contains(&dep.as_str()),
                "{manifest} depends on {dep}: the gateway must never open a database"
            );
        }
    }
}
