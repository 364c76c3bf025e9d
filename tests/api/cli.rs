//! The `portcullis` binary's subcommands.

use std::io::Write;
use std::process::{Command, Stdio};

use crate::helpers::{location, spawn_app_with};

fn portcullis() -> Command {
    Command::new(env!("CARGO_BIN_EXE_portcullis"))
}

/// `portcullis user create ARGS` with the password piped in; the printed id.
fn create_user(url: &str, args: &[&str], password: &str) -> String {
    let mut child = portcullis()
        .args(["user", "create"])
        .args(args)
        .env("PORTCULLIS_DATABASE_URL", url)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(format!("{password}\n").as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap().trim().to_owned()
}

#[tokio::test]
async fn user_create_reads_the_password_from_stdin_and_prints_the_id() {
    let tmp = tempfile::tempdir().unwrap();
    let url = crate::helpers::suite_database_url(tmp.path(), "cli.db").await;
    let id = create_user(
        &url,
        &["--email", "root@example.com", "--name", "Root", "--admin"],
        "a long admin password",
    );
    assert!(uuid::Uuid::parse_str(&id).is_ok(), "prints the id: {id}");

    let app = spawn_app_with(|s| s.database_url = url.clone().into()).await;
    let res = app
        .sign_in("root@example.com", "a long admin password")
        .await;
    assert_eq!(res.status(), 303);
    assert_eq!(location(&res), "/account");
    assert!(app.get_html("/account").await.contains("Administrator"));
}

#[test]
fn user_create_refuses_a_short_password() {
    crate::helpers::sqlite_only!("the CLI's password rule is checked before it opens any database");
    let tmp = tempfile::tempdir().unwrap();
    let mut child = portcullis()
        .args(["user", "create", "--email", "a@example.com", "--name", "A"])
        .env(
            "PORTCULLIS_DATABASE_URL",
            format!("sqlite://{}/c.db?mode=rwc", tmp.path().display()),
        )
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(b"short\n").unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("at least 8 characters"));
}

#[test]
fn user_create_has_no_password_flag() {
    let out = portcullis()
        .args([
            "user",
            "create",
            "--email",
            "a@example.com",
            "--name",
            "A",
            "--password",
            "x",
        ])
        .output()
        .unwrap();
    assert!(!out.status.success());
}

#[test]
fn migrate_applies_migrations_and_exits() {
    crate::helpers::sqlite_only!("it checks that the SQLite file appears on disk");
    let tmp = tempfile::tempdir().unwrap();
    let out = portcullis()
        .arg("migrate")
        .env(
            "PORTCULLIS_DATABASE_URL",
            format!("sqlite://{}/m.db?mode=rwc", tmp.path().display()),
        )
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(tmp.path().join("m.db").exists());
}

#[test]
fn help_describes_every_subcommand_and_setting() {
    let top = portcullis().arg("--help").output().unwrap();
    let text = String::from_utf8(top.stdout).unwrap();
    for word in [
        "serve",
        "migrate",
        "user",
        "PORTCULLIS_BIND",
        "PORTCULLIS_DATABASE_URL",
        "PORTCULLIS_ISSUER",
        "PORTCULLIS_LOG",
    ] {
        assert!(text.contains(word), "--help lacks {word}");
    }
    let create = portcullis()
        .args(["user", "create", "--help"])
        .output()
        .unwrap();
    let text = String::from_utf8(create.stdout).unwrap();
    assert!(
        text.contains("--email") && text.contains("--admin") && text.contains("standard input")
    );
    for sub in [&["serve", "--help"][..], &["migrate", "--help"]] {
        assert!(portcullis().args(sub).output().unwrap().status.success());
    }
}

#[test]
fn key_check_recognises_every_kind_offline() {
    use portcullis::domain::secret_format::{Kind, generate};
    for (kind, label) in [
        (Kind::ApiKeyLive, "live API key"),
        (Kind::ApiKeyTest, "test API key"),
        (Kind::PersonalAccessToken, "personal access token"),
        (Kind::PersonalToken, "personal token"),
        (Kind::AccountSecretKey, "account secret key"),
        (Kind::ClientSecret, "OAuth client secret"),
        (Kind::SystemSecret, "system credential secret"),
    ] {
        let secret = generate(kind);
        // No database URL that could work: the check must not need one.
        let out = portcullis()
            .args(["key", "check", &secret])
            .env(
                "PORTCULLIS_DATABASE_URL",
                "postgres://nobody@127.0.0.1:1/none",
            )
            .output()
            .unwrap();
        assert!(out.status.success(), "{secret}");
        assert!(String::from_utf8_lossy(&out.stdout).contains(label));
    }
}

#[test]
fn key_check_says_why_a_string_is_refused() {
    let good = portcullis::domain::secret_format::generate(
        portcullis::domain::secret_format::Kind::ApiKeyLive,
    );
    let mut typo = good.clone().into_bytes();
    typo[10] = if typo[10] == b'x' { b'y' } else { b'x' };
    for (input, reason) in [
        (good[..good.len() - 1].to_owned(), "wrong length"),
        (String::from_utf8(typo).unwrap(), "checksum mismatch"),
        ("hello".to_owned(), "unknown prefix"),
    ] {
        let out = portcullis()
            .args(["key", "check", &input])
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(1));
        assert!(
            String::from_utf8_lossy(&out.stdout).contains(reason),
            "{input}"
        );
    }
}

#[tokio::test]
async fn cli_actions_are_in_the_audit_log_as_the_operator() {
    let app = crate::helpers::spawn_app().await;
    app.signed_in_user().await;
    let admin = app.session_token().await;
    let url = app.settings.database_url.expose().to_owned();
    let id = create_user(
        &url,
        &["--email", "ops@example.com", "--name", "Ops"],
        "a long operator password",
    );
    let rotated = portcullis()
        .args(["keys", "rotate"])
        .env("PORTCULLIS_DATABASE_URL", &url)
        .output()
        .unwrap();
    assert!(rotated.status.success());

    let events = |event_type: &'static str| {
        let (app, admin) = (&app, &admin);
        async move {
            let res = app
                .client
                .get(app.url(&format!("/api/v1/audit-events?event_type={event_type}")))
                .bearer_auth(admin)
                .send()
                .await
                .unwrap();
            assert_eq!(res.status(), 200);
            let page: serde_json::Value = res.json().await.unwrap();
            page["data"].as_array().unwrap().clone()
        }
    };
    let created = events("account.created").await;
    let by_cli: Vec<_> = created
        .iter()
        .filter(|e| e["actor_type"] == "cli")
        .collect();
    assert_eq!(by_cli.len(), 1, "{created:?}");
    assert_eq!(by_cli[0]["subject_user_id"], id.as_str());
    assert!(by_cli[0]["actor_id"].is_null());
    assert_eq!(by_cli[0]["detail"]["admin"], false);
    // One new key per algorithm.
    let keys = events("signing_key.rotated").await;
    assert_eq!(keys.len(), 2, "{keys:?}");
    assert!(keys.iter().all(|k| k["actor_type"] == "cli"), "{keys:?}");
    let mut algs: Vec<_> = keys.iter().map(|k| k["detail"]["alg"].clone()).collect();
    algs.sort_by_key(|a| a.to_string());
    assert_eq!(
        algs,
        [serde_json::json!("EdDSA"), serde_json::json!("RS256")]
    );
}
