//! `portcullis user list`, `user disable`, `user enable` and `user reset-password`: the same
//! operations as Admin → Users, audited with the actor `cli`.

use std::io::Write;
use std::process::{Command, Output, Stdio};

use crate::helpers::{TestApp, client, spawn_app};
use crate::tenancy::stored_user_id;
use crate::users_admin::events;

const PASSWORD: &str = "correct horse battery";

fn portcullis(app: &TestApp, args: &[&str], stdin: Option<&str>) -> Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_portcullis"))
        .arg("user")
        .args(args)
        .env("PORTCULLIS_DATABASE_URL", app.settings.database_url.expose())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut input = child.stdin.take().unwrap();
    if let Some(line) = stdin {
        input.write_all(format!("{line}\n").as_bytes()).unwrap();
    }
    drop(input);
    child.wait_with_output().unwrap()
}

fn stdout(out: &Output) -> String {
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout.clone()).unwrap()
}

#[tokio::test]
async fn user_list_prints_one_line_per_account_with_id_email_name_admin_and_status() {
    let admin = spawn_app().await;
    let admin_email = admin.signed_in_user().await;
    let person = TestApp::with_client(&admin, client());
    let email = person.signed_in_user().await;
    let id = stored_user_id(&person).await;

    let listed = stdout(&portcullis(&admin, &["list"], None));
    let lines: Vec<&str> = listed.lines().collect();
    assert_eq!(lines.len(), 2, "{listed}");
    assert!(lines[0].contains(&admin_email) && lines[0].ends_with("\tadmin\tactive"));
    assert_eq!(lines[1], format!("{id}\t{email}\tTest User\t-\tactive"));
}

#[tokio::test]
async fn user_disable_and_enable_suspend_and_restore_sign_in_and_are_audited_as_the_operator() {
    let admin = spawn_app().await;
    let admin_email = admin.signed_in_user().await;
    let person = TestApp::with_client(&admin, client());
    let email = person.signed_in_user().await;
    let id = stored_user_id(&person).await;

    let out = stdout(&portcullis(&admin, &["disable", "--email", &email], None));
    assert_eq!(out.trim(), format!("{email}: disabled"));
    assert!(stdout(&portcullis(&admin, &["list"], None)).contains(&format!("{email}\tTest User\t-\tdisabled")));
    assert_eq!(person.get("/account").await.status(), 303, "signed out");
    assert_eq!(person.sign_in(&email, PASSWORD).await.status(), 401);

    let out = stdout(&portcullis(&admin, &["enable", "--email", &email], None));
    assert_eq!(out.trim(), format!("{email}: active"));
    assert_eq!(person.sign_in(&email, PASSWORD).await.status(), 303);

    for event_type in ["user.disabled", "user.enabled"] {
        let found = events(&admin, event_type).await;
        assert_eq!(found.len(), 1, "{event_type}: {found:?}");
        assert_eq!(found[0]["actor_type"], "cli");
        assert_eq!(found[0]["subject_user_id"], id.as_str());
    }

    // The only administrator is never disabled; an unknown address is an error.
    let out = portcullis(&admin, &["disable", "--email", &admin_email], None);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("at least one active administrator"));
    assert_eq!(admin.get("/admin/users").await.status(), 200);
    let out = portcullis(&admin, &["disable", "--email", "nobody@example.com"], None);
    assert!(!out.status.success());
}

#[tokio::test]
async fn user_reset_password_sets_a_new_password_read_from_stdin() {
    let admin = spawn_app().await;
    admin.signed_in_user().await;
    let person = TestApp::with_client(&admin, client());
    let email = person.signed_in_user().await;

    let out = portcullis(&admin, &["reset-password", "--email", &email], Some("a brand new password"));
    assert!(stdout(&out).contains("password reset"));
    assert_eq!(person.sign_in(&email, PASSWORD).await.status(), 401);
    assert_eq!(person.sign_in(&email, "a brand new password").await.status(), 303);
}
