//! Packaging that cannot run here (Docker) is checked for agreement with
//! the binary: docker-compose.yml, .env.example, the Dockerfile, README and
//! CI script.

use std::collections::BTreeSet;

use estuary::config::ENV_VARS;
use serde_yaml_ng::Value;

fn read(path: &str) -> String {
    std::fs::read_to_string(format!("{}/{path}", env!("CARGO_MANIFEST_DIR")))
        .unwrap_or_else(|e| panic!("{path}: {e}"))
}

fn compose() -> Value {
    serde_yaml_ng::from_str(&read("docker-compose.yml")).expect("docker-compose.yml parses")
}

/// Names used as `${NAME}`, `${NAME:-default}` or `${NAME:?message}`.
fn interpolated_names(text: &str) -> BTreeSet<String> {
    let mut names = BTreeSet::new();
    let mut rest = text;
    while let Some(start) = rest.find("${") {
        let after = &rest[start + 2..];
        let end = after
            .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
            .unwrap_or(after.len());
        // `$${X}` is an escaped dollar, read by the container's shell.
        if !rest[..start].ends_with('$') {
            names.insert(after[..end].to_owned());
        }
        rest = &after[end..];
    }
    names
}

fn env_example() -> Vec<(String, String, bool)> {
    let text = read(".env.example");
    let mut previous_is_comment = false;
    let mut entries = Vec::new();
    for line in text.lines() {
        let line = line.trim();
        if let Some((name, value)) = line.split_once('=')
            && !line.starts_with('#')
        {
            entries.push((name.to_owned(), value.to_owned(), previous_is_comment));
        }
        previous_is_comment = line.starts_with('#');
    }
    entries
}

#[test]
fn compose_has_estuary_postgres_and_caddy_wired_together() {
    let compose = compose();
    let services = &compose["services"];
    let names: BTreeSet<&str> = services
        .as_mapping()
        .unwrap()
        .keys()
        .map(|k| k.as_str().unwrap())
        .collect();
    assert_eq!(names, BTreeSet::from(["caddy", "estuary", "postgres"]));

    let estuary = &services["estuary"];
    assert_eq!(estuary["build"], Value::from("."));
    assert_eq!(
        estuary["depends_on"]["postgres"]["condition"],
        Value::from("service_healthy")
    );
    assert_eq!(estuary["command"][0], Value::from("serve"));

    let postgres = &services["postgres"];
    assert!(
        postgres["image"]
            .as_str()
            .unwrap()
            .starts_with("postgres:16")
    );
    assert!(!postgres["healthcheck"]["test"].is_null());
    let volume = postgres["volumes"][0].as_str().unwrap();
    let (volume_name, mount) = volume.split_once(':').unwrap();
    assert_eq!(mount, "/var/lib/postgresql/data");
    assert!(
        compose["volumes"]
            .as_mapping()
            .unwrap()
            .contains_key(volume_name),
        "{volume_name} is a named volume"
    );

    let caddy = &services["caddy"];
    assert!(caddy["image"].as_str().unwrap().starts_with("caddy:2"));
    let ports: Vec<&str> = caddy["ports"]
        .as_sequence()
        .unwrap()
        .iter()
        .map(|p| p.as_str().unwrap())
        .collect();
    assert!(ports.contains(&"80:80") && ports.contains(&"443:443"));
    let caddyfile = read("Caddyfile");
    assert!(caddyfile.contains("{$ESTUARY_DOMAIN}"));
    assert!(caddyfile.contains("reverse_proxy estuary:8080"));
}

#[test]
fn compose_sets_only_variables_the_binary_reads() {
    let compose = compose();
    let environment = compose["services"]["estuary"]["environment"]
        .as_mapping()
        .expect("estuary.environment is a mapping");
    let keys: BTreeSet<&str> = environment.keys().map(|k| k.as_str().unwrap()).collect();
    for key in &keys {
        assert!(ENV_VARS.contains(key), "{key} is not read by estuary");
    }
    for required in ["ESTUARY_BASE_URL", "ESTUARY_BIND", "DATABASE_URL"] {
        assert!(
            keys.contains(required),
            "{required} must be set for estuary"
        );
    }
    let database_url = environment[&Value::from("DATABASE_URL")].as_str().unwrap();
    assert!(database_url.starts_with("postgres://") && database_url.contains("@postgres:5432/"));
    let bind = environment[&Value::from("ESTUARY_BIND")].as_str().unwrap();
    assert!(
        bind.starts_with("0.0.0.0:")
            && read("Caddyfile").contains(&format!("estuary:{}", &bind[8..]))
    );
}

#[test]
fn env_example_documents_every_variable_compose_uses() {
    let documented = env_example();
    let names: BTreeSet<String> = documented.iter().map(|(n, _, _)| n.clone()).collect();
    let used = interpolated_names(&read("docker-compose.yml"));
    assert!(!used.is_empty());
    for name in &used {
        assert!(
            names.contains(name),
            "{name} is used but not in .env.example"
        );
    }
    for (name, _, commented) in &documented {
        assert!(commented, "{name} has no comment explaining it");
        assert!(used.contains(name), "{name} is in .env.example but unused");
    }
}

#[test]
fn dockerfile_builds_in_two_stages_and_runs_serve_unprivileged() {
    let dockerfile = read("Dockerfile");
    let stages = dockerfile
        .lines()
        .filter(|l| l.starts_with("FROM "))
        .count();
    assert!(stages >= 2, "multi-stage");
    assert!(dockerfile.contains("libssl3") && dockerfile.contains("libpq5"));
    let user = dockerfile
        .lines()
        .find_map(|l| l.strip_prefix("USER "))
        .expect("USER line");
    assert_ne!(user.trim(), "root");
    assert!(dockerfile.contains("HEALTHCHECK") && dockerfile.contains("/healthz"));
    assert!(dockerfile.contains(r#"CMD ["serve"]"#));
    // The build settings reach the first `cargo build` (the bundled SQLite
    // is compiled there, with the flags they give).
    let settings = dockerfile
        .find("COPY .cargo .cargo")
        .expect("the Dockerfile copies .cargo/");
    let first_build = dockerfile.find("cargo build").expect("a cargo build");
    assert!(settings < first_build, "copy .cargo/ before building");
    for line in dockerfile
        .lines()
        .filter(|l| l.starts_with("ENV ") || l.starts_with("    "))
    {
        if let Some((name, _)) = line.trim().trim_start_matches("ENV ").split_once('=') {
            assert!(
                ENV_VARS.contains(&name.trim()),
                "Dockerfile sets unknown {name}"
            );
        }
    }
}

#[test]
fn readme_commands_are_the_ones_ci_runs() {
    let readme = read("README.md");
    let ci = read(".ci/run");
    assert!(readme.contains("cargo run --release -- serve"));
    let test_command = readme
        .lines()
        .map(str::trim)
        .find(|l| l.starts_with("cargo test"))
        .expect("README shows the test command");
    assert!(ci.contains(test_command), ".ci/run runs {test_command:?}");
    for name in ENV_VARS {
        assert!(
            readme.contains(name),
            "README's configuration table lacks {name}"
        );
    }
}

/// The variables compose derives from others rather than passing through.
const DERIVED: [&str; 3] = ["ESTUARY_BASE_URL", "ESTUARY_BIND", "DATABASE_URL"];

#[test]
fn compose_passes_every_variable_the_binary_reads() {
    let compose = compose();
    let environment = compose["services"]["estuary"]["environment"]
        .as_mapping()
        .expect("estuary.environment is a mapping");
    for name in ENV_VARS {
        let value = environment
            .get(Value::from(*name))
            .unwrap_or_else(|| panic!("docker-compose.yml does not pass {name} to estuary"));
        if DERIVED.contains(name) {
            continue;
        }
        let value = value.as_str().unwrap_or_default();
        assert!(
            value.starts_with(&format!("${{{name}:-")) && value.ends_with('}'),
            "{name} is not settable from .env: {value:?}"
        );
    }
    let used = interpolated_names(&read("docker-compose.yml"));
    for name in ENV_VARS.iter().filter(|n| !DERIVED.contains(n)) {
        assert!(used.contains(*name), "{name} is not read from .env");
    }
}

#[test]
fn caddy_waits_for_a_healthy_estuary_and_keeps_metrics_inside() {
    let compose = compose();
    let services = &compose["services"];
    assert_eq!(
        services["caddy"]["depends_on"]["estuary"]["condition"],
        Value::from("service_healthy")
    );
    let test: Vec<&str> = services["estuary"]["healthcheck"]["test"]
        .as_sequence()
        .expect("estuary has a healthcheck")
        .iter()
        .map(|v| v.as_str().unwrap())
        .collect();
    assert!(
        test.join(" ").contains("http://127.0.0.1:8080/healthz"),
        "{test:?}"
    );
    assert!(
        read("Dockerfile").contains("curl"),
        "the health check's curl is in the image"
    );
    // Caddy answers /metrics itself, before the proxy sees it.
    let caddyfile = read("Caddyfile");
    let metrics = caddyfile
        .find("respond /metrics 404")
        .expect("Caddy refuses /metrics");
    let proxy = caddyfile.find("reverse_proxy").unwrap();
    assert!(metrics < proxy);
    assert!(caddyfile.contains("respond /metrics/* 404"));
}

#[test]
fn readme_tells_operators_how_to_back_up_upgrade_and_pipe_commands() {
    let readme = read("README.md");
    for needle in [
        "git pull && docker compose up -d --build",
        "docker compose exec -T postgres pg_dump",
        "docker compose exec -T postgres pg_restore",
        "| docker compose exec -T estuary estuary user passwd",
        "private key",
        "cargo install --locked --path .",
    ] {
        assert!(readme.contains(needle), "README lacks {needle:?}");
    }
}
