//! `ARCHITECTURE.md` is the map of the code: every path it names exists.

use std::path::Path;

/// Backquoted words of the map that name a file or folder of the tree.
fn named_paths(map: &str) -> Vec<String> {
    const ROOTS: &[&str] = &[
        "src/",
        "tests/",
        "benches/",
        "migrations/",
        "schema/",
        "templates/",
        ".ci/",
        "fuzz/",
    ];
    map.split('`')
        .skip(1)
        .step_by(2)
        .filter(|word| ROOTS.iter().any(|root| word.starts_with(root)))
        .filter(|word| !word.contains('<') && !word.contains('*') && !word.contains(' '))
        .map(|word| word.trim_end_matches('/').to_owned())
        .collect()
}

#[test]
fn every_path_the_architecture_map_names_exists() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let map = std::fs::read_to_string(root.join("ARCHITECTURE.md")).unwrap();
    let paths = named_paths(&map);
    assert!(paths.len() > 40, "the map names the modules: {paths:?}");
    let missing: Vec<&String> = paths.iter().filter(|p| !root.join(p).exists()).collect();
    assert!(
        missing.is_empty(),
        "named in ARCHITECTURE.md but missing: {missing:?}"
    );
}

#[test]
fn every_module_of_the_crate_is_on_the_map() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let map = std::fs::read_to_string(root.join("ARCHITECTURE.md")).unwrap();
    let mut unmapped = Vec::new();
    for folder in [
        "src/domain",
        "src/federation",
        "src/rooms",
        "src/delivery",
        "src/store",
    ] {
        for entry in std::fs::read_dir(root.join(folder)).unwrap() {
            let name = entry.unwrap().file_name().to_string_lossy().into_owned();
            let Some(stem) = name.strip_suffix(".rs") else {
                continue;
            };
            if stem == "mod" {
                continue;
            }
            let path = format!("{folder}/{name}");
            if !map.contains(&path) && !map.contains(&format!("{stem}.rs")) {
                unmapped.push(path);
            }
        }
    }
    assert!(
        unmapped.is_empty(),
        "modules missing from ARCHITECTURE.md: {unmapped:?}"
    );
}
