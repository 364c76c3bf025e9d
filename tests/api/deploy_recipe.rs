//! The deployment recipe in `deploy/` (compose file, nginx configuration, systemd unit) checked
//! against the binary it deploys: every flag and variable it passes is one `portcullis` knows,
//! the node command it runs starts a node that is ready and live, and the balancer spreads over
//! every node and forwards client addresses. Docker and nginx are not needed: the files are read
//! as text (a few indentation rules of YAML, enough for this file's shape).

use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::helpers::fresh_postgres_database;

fn deploy_file(name: &str) -> String {
    let path: PathBuf = [env!("CARGO_MANIFEST_DIR"), "deploy", name]
        .iter()
        .collect();
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn indent(line: &str) -> usize {
    line.len() - line.trim_start().len()
}

fn significant(line: &str) -> bool {
    let t = line.trim();
    !t.is_empty() && !t.starts_with('#')
}

/// The lines under the nested mapping keys `path` (each key deeper than the one before).
fn block<'a>(lines: &[&'a str], path: &[&str]) -> Vec<&'a str> {
    let mut current: Vec<&'a str> = lines.to_vec();
    for key in path {
        let head = format!("{key}:");
        let top = current
            .iter()
            .filter(|l| significant(l))
            .map(|l| indent(l))
            .min()
            .unwrap_or(0);
        let start = current
            .iter()
            .position(|l| {
                // `key:` or `key: &anchor`
                let t = l.trim();
                indent(l) == top && (t == head || t.starts_with(&format!("{head} &")))
            })
            .unwrap_or_else(|| panic!("no `{key}:` in the recipe at {path:?}"));
        current = current[start + 1..]
            .iter()
            .take_while(|l| !significant(l) || indent(l) > top)
            .copied()
            .collect();
    }
    current
}

/// The items of a block-style YAML list, unquoted.
fn items(block: &[&str]) -> Vec<String> {
    block
        .iter()
        .filter_map(|l| l.trim().strip_prefix("- "))
        .map(|v| v.trim_matches('"').to_owned())
        .collect()
}

/// `key: value` pairs directly under a block.
fn pairs(block: &[&str]) -> Vec<(String, String)> {
    block
        .iter()
        .filter(|l| significant(l))
        .filter_map(|l| l.trim().split_once(": "))
        .map(|(k, v)| (k.to_owned(), v.trim().to_owned()))
        .collect()
}

/// Compose interpolation as the recipe uses it: `${NAME:-default}` becomes the default.
fn interpolate(value: &str) -> String {
    let mut out = value.to_owned();
    while let Some(start) = out.find("${") {
        let end = start + out[start..].find('}').unwrap();
        let (_, default) = out[start + 2..end]
            .split_once(":-")
            .unwrap_or_else(|| panic!("{value}: only ${{NAME:-default}} has a default"));
        out = format!("{}{}{}", &out[..start], default, &out[end + 1..]);
    }
    out
}

/// What the recipe says about the nodes.
struct Recipe {
    /// The command every node runs (`serve` and its flags), defaults filled in.
    node_command: Vec<String>,
    /// The migration service's command.
    migrate_command: Vec<String>,
    /// `PORTCULLIS_*` variables the migration and the nodes share.
    environment: Vec<(String, String)>,
    /// Services running the node command, in file order.
    nodes: Vec<String>,
    /// The subnet of the network the balancer is on.
    edge_subnet: String,
    /// The Dockerfile the image is built from, relative to the repository.
    dockerfile: String,
}

fn recipe() -> Recipe {
    let text = deploy_file("compose.yaml");
    let lines: Vec<&str> = text.lines().collect();
    let services = block(&lines, &["services"]);
    let service_indent = services
        .iter()
        .filter(|l| significant(l))
        .map(|l| indent(l))
        .min()
        .unwrap();
    let nodes = services
        .iter()
        .filter(|l| significant(l) && indent(l) == service_indent)
        .map(|l| l.trim().trim_end_matches(':'))
        .filter(|name| {
            block(&services, &[name])
                .iter()
                .any(|l| l.trim() == "<<: *portcullis-node")
        })
        .map(str::to_owned)
        .collect();
    let subnet = block(&lines, &["networks", "edge", "ipam"])
        .iter()
        .find_map(|l| l.trim().strip_prefix("- subnet: "))
        .unwrap()
        .to_owned();
    Recipe {
        node_command: items(&block(&lines, &["x-portcullis-node", "command"]))
            .iter()
            .map(|v| interpolate(v))
            .collect(),
        migrate_command: block(&services, &["migrate"])
            .iter()
            .find_map(|l| l.trim().strip_prefix("command: "))
            .map(|c| {
                c.trim_matches(['[', ']'])
                    .split(',')
                    .map(|v| v.trim().trim_matches('"').to_owned())
                    .collect()
            })
            .unwrap(),
        environment: pairs(&block(&lines, &["x-portcullis-image", "environment"])),
        nodes,
        edge_subnet: subnet,
        dockerfile: pairs(&block(&services, &["migrate", "build"]))
            .into_iter()
            .find(|(k, _)| k == "dockerfile")
            .unwrap()
            .1,
    }
}

impl Recipe {
    /// The value of `--name=value` in the node command.
    fn flag(&self, name: &str) -> &str {
        self.node_command
            .iter()
            .find_map(|a| a.strip_prefix(&format!("{name}=")))
            .unwrap_or_else(|| panic!("the node command has no {name}"))
    }
}

fn portcullis() -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_portcullis"));
    for (name, _) in std::env::vars() {
        if name.starts_with("PORTCULLIS_") {
            cmd.env_remove(name);
        }
    }
    cmd
}

fn help() -> String {
    let out = portcullis().args(["serve", "--help"]).output().unwrap();
    assert!(out.status.success());
    String::from_utf8(out.stdout).unwrap()
}

/// Whether `help` lists the variable (`[env: NAME=value]`, or `[env: NAME]` for a secret).
fn knows_env(help: &str, name: &str) -> bool {
    help.contains(&format!("[env: {name}=")) || help.contains(&format!("[env: {name}]"))
}

/// Fails unless `--name` (from `--name=value` or `--name value`) is an option in `help`.
fn assert_known_flag(help: &str, arg: &str, source: &str) {
    let name = arg.split('=').next().unwrap();
    assert!(
        help.contains(&format!("{name} <")) || help.contains(&format!("{name}\n")),
        "{source} passes {name}, which `portcullis serve --help` does not list"
    );
}

#[test]
fn the_compose_recipe_runs_three_nodes_with_one_issuer_one_database_and_the_balancer_trusted() {
    let r = recipe();
    assert_eq!(
        r.nodes,
        ["portcullis-1", "portcullis-2", "portcullis-3"],
        "three services run the one node definition, so they share every flag"
    );
    assert_eq!(r.node_command[0], "serve");
    assert!(r.flag("--issuer").starts_with("http"));
    assert_eq!(r.flag("--bind"), "0.0.0.0:8080");
    let db = &r
        .environment
        .iter()
        .find(|(k, _)| k == "PORTCULLIS_DATABASE_URL")
        .unwrap()
        .1;
    assert!(db.starts_with("postgres://"), "{db}");
    assert_eq!(r.migrate_command, ["migrate"]);
    assert_eq!(
        r.flag("--trusted-proxies"),
        r.edge_subnet,
        "the nodes trust exactly the network the balancer is on"
    );
    let compose = deploy_file("compose.yaml");
    let lines: Vec<&str> = compose.lines().collect();
    let nginx = block(&lines, &["services", "nginx"]);
    assert!(nginx.iter().any(|l| l.trim() == "networks: [edge]"));
    let postgres = block(&lines, &["services", "postgres"]);
    assert!(postgres.iter().any(|l| l.trim() == "networks: [backend]"));
    let dockerfile: PathBuf = [env!("CARGO_MANIFEST_DIR"), &r.dockerfile].iter().collect();
    assert!(dockerfile.exists(), "{} is missing", dockerfile.display());
}

#[test]
fn every_flag_and_variable_the_recipe_passes_is_one_the_binary_knows() {
    let r = recipe();
    let help = help();
    for arg in r.node_command.iter().filter(|a| a.starts_with("--")) {
        assert_known_flag(&help, arg, "deploy/compose.yaml");
    }
    for (name, _) in &r.environment {
        assert!(
            knows_env(&help, name),
            "deploy/compose.yaml sets {name}, which `portcullis serve --help` does not list"
        );
    }
    let unit = deploy_file("portcullis@.service");
    let exec = |key: &str| {
        unit.lines()
            .find_map(|l| l.strip_prefix(key))
            .unwrap_or_else(|| panic!("the unit has no {key}"))
            .split_whitespace()
            .skip(1)
            .map(str::to_owned)
            .collect::<Vec<_>>()
    };
    assert_eq!(exec("ExecStartPre="), ["migrate"]);
    let start = exec("ExecStart=");
    assert_eq!(start[0], "serve");
    for arg in start.iter().filter(|a| a.starts_with("--")) {
        assert_known_flag(&help, arg, "deploy/portcullis@.service");
    }
    for name in unit
        .lines()
        .filter_map(|l| l.strip_prefix("#   PORTCULLIS_"))
    {
        let name = format!("PORTCULLIS_{}", name.split('=').next().unwrap());
        assert!(knows_env(&help, &name), "the unit documents {name}");
    }
}

#[test]
fn the_balancer_spreads_over_every_node_and_forwards_client_address_and_scheme() {
    let r = recipe();
    let conf = deploy_file("nginx.conf");
    let upstream: Vec<&str> = conf
        .lines()
        .skip_while(|l| l.trim() != "upstream portcullis {")
        .skip(1)
        .take_while(|l| l.trim() != "}")
        .filter_map(|l| l.trim().strip_prefix("server "))
        .collect();
    let port = r.flag("--bind").rsplit(':').next().unwrap();
    let servers: Vec<String> = upstream
        .iter()
        .map(|s| s.split_whitespace().next().unwrap().to_owned())
        .collect();
    let expected: Vec<String> = r.nodes.iter().map(|n| format!("{n}:{port}")).collect();
    assert_eq!(
        servers, expected,
        "one upstream server per node, round robin"
    );
    for server in &upstream {
        assert!(
            server.contains("max_fails=") && server.contains("fail_timeout="),
            "passive health on {server}"
        );
    }
    assert!(
        !conf.contains("least_conn") && !conf.contains("ip_hash") && !conf.contains(" hash "),
        "round robin, nginx's default"
    );
    let directives: Vec<String> = conf
        .lines()
        .map(|l| l.split_whitespace().collect::<Vec<_>>().join(" "))
        .collect();
    for wanted in [
        "proxy_pass http://portcullis;",
        "proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;",
        "proxy_set_header X-Forwarded-Proto $scheme;",
        "proxy_set_header Host $host;",
    ] {
        assert!(
            directives.iter().any(|d| d == wanted),
            "nginx.conf lacks `{wanted}`"
        );
    }
}

/// A node started with the recipe's command, on `127.0.0.1` and a free port.
struct Node {
    child: Child,
    base: String,
}

impl Drop for Node {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

async fn start_node(recipe: &Recipe, db_url: &str) -> Node {
    let env: Vec<(String, String)> = recipe
        .environment
        .iter()
        .filter(|(k, _)| k != "PORTCULLIS_DATABASE_URL")
        .cloned()
        .collect();
    let migrate = portcullis()
        .args(&recipe.migrate_command)
        .envs(env.iter().cloned())
        .env("PORTCULLIS_DATABASE_URL", db_url)
        .output()
        .unwrap();
    assert!(
        migrate.status.success(),
        "{}",
        String::from_utf8_lossy(&migrate.stderr)
    );
    let http = reqwest::Client::new();
    for _ in 0..5 {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let args: Vec<String> = recipe
            .node_command
            .iter()
            .map(|a| match a.starts_with("--bind=") {
                true => format!("--bind=127.0.0.1:{port}"),
                false => a.clone(),
            })
            .collect();
        let mut node = Node {
            child: portcullis()
                .args(&args)
                .envs(env.iter().cloned())
                .env("PORTCULLIS_DATABASE_URL", db_url)
                .env("PORTCULLIS_LOG", "warn")
                .stdin(Stdio::null())
                .stdout(Stdio::null())
                .stderr(Stdio::piped())
                .spawn()
                .unwrap(),
            base: format!("http://127.0.0.1:{port}"),
        };
        let deadline = Instant::now() + Duration::from_secs(60);
        while Instant::now() < deadline {
            if node.child.try_wait().unwrap().is_some() {
                break; // most likely the port was taken meanwhile: try another
            }
            if let Ok(res) = http.get(format!("{}/livez", node.base)).send().await
                && res.status().is_success()
            {
                return node;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        let _ = node.child.kill();
        let _ = node.child.wait();
        let mut stderr = String::new();
        if let Some(mut pipe) = node.child.stderr.take() {
            let _ = std::io::Read::read_to_string(&mut pipe, &mut stderr);
        }
        eprintln!("{stderr}");
    }
    panic!("a node with the recipe's flags did not start");
}

#[tokio::test]
async fn a_node_started_with_the_recipe_flags_is_ready_live_and_names_the_recipe_issuer() {
    let r = recipe();
    // PostgreSQL, as deployed, when the suite has one; otherwise SQLite proves the flags all
    // the same (none of them is PostgreSQL-only).
    let tmp = tempfile::tempdir().unwrap();
    let url = match fresh_postgres_database().await {
        Some(url) => url,
        None => format!("sqlite://{}/recipe.db?mode=rwc", tmp.path().display()),
    };
    let node = start_node(&r, &url).await;
    let http = reqwest::Client::new();
    let mut ready = false;
    let deadline = Instant::now() + Duration::from_secs(30);
    while !ready && Instant::now() < deadline {
        ready = http
            .get(format!("{}/healthz", node.base))
            .send()
            .await
            .is_ok_and(|res| res.status() == 200);
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(ready, "/healthz answers 200 once the node is ready");
    let live = http
        .get(format!("{}/livez", node.base))
        .send()
        .await
        .unwrap();
    assert_eq!(live.status(), 200);
    let discovery: serde_json::Value = http
        .get(format!("{}/.well-known/openid-configuration", node.base))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(
        discovery["issuer"].as_str().unwrap().trim_end_matches('/'),
        r.flag("--issuer").trim_end_matches('/'),
        "the node speaks for the issuer every node shares"
    );
}
