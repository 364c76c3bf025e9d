//! An app's OpenID Connect settings: the algorithm its ID tokens are signed with and its
//! post-logout redirect URIs, changed by its owner on Settings → Developer apps and by the
//! operator with `portcullis client create|set`, and refused when malformed.

use std::process::Output;

use crate::helpers::{TestApp, client, location, spawn_app};
use crate::oauth_helpers::*;
use crate::oidc::{header, tokens_with_nonce};

/// `portcullis ARGS` on the app's database.
async fn portcullis(app: &TestApp, args: &[&str]) -> Output {
    let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_portcullis"));
    cmd.args(args).env(
        "PORTCULLIS_DATABASE_URL",
        app.settings.database_url.expose(),
    );
    tokio::task::spawn_blocking(move || cmd.output())
        .await
        .unwrap()
        .unwrap()
}

/// Registers an app allowed `openid email offline_access` on Settings → Developer apps, as the
/// person signed in on `app`.
async fn register_on_page(app: &TestApp) -> TestClient {
    let fields = [
        ("name", "Relying Party"),
        ("redirect_uris", REDIRECT),
        ("client_type", "confidential"),
        ("scope", "openid"),
        ("scope", "email"),
        ("scope", "offline_access"),
    ];
    let created = app
        .post_form("/settings/apps", "/settings/apps", &fields)
        .await;
    let created = app.reveal(created).await;
    let html = created.text().await.unwrap();
    let between = |a: &str| html.split(a).nth(1).unwrap().split('<').next().unwrap();
    TestClient {
        id: between("id=\"client-id\">").to_owned(),
        secret: Some(between("id=\"client-secret\">").to_owned()),
    }
}

/// The settings an app's page shows: (selected algorithm, post-logout redirect URIs).
async fn shown_settings(app: &TestApp, client_id: &str) -> (String, Vec<String>) {
    let res = app.get(&format!("/settings/apps/{client_id}")).await;
    assert_eq!(res.status(), 200);
    let page = res.text().await.unwrap();
    let selected = page
        .split("<option ")
        .skip(1)
        .find(|o| o.split('>').next().unwrap().contains("selected"))
        .expect("a selected algorithm");
    let alg = selected.split('"').nth(1).unwrap().to_owned();
    let uris = page
        .split("name=\"post_logout_redirect_uris\"")
        .nth(1)
        .unwrap()
        .split_once('>')
        .unwrap()
        .1
        .split("</textarea>")
        .next()
        .unwrap()
        .lines()
        .filter(|l| !l.is_empty())
        .map(str::to_owned)
        .collect();
    (alg, uris)
}

async fn post_settings(app: &TestApp, client_id: &str, alg: &str, uris: &str) -> reqwest::Response {
    let path = format!("/settings/apps/{client_id}");
    let fields = [
        ("id_token_signed_response_alg", alg),
        ("post_logout_redirect_uris", uris),
    ];
    app.post_form(&path, &path, &fields).await
}

crate::helpers::on_both_backends!(
    an_owner_changes_the_id_token_algorithm_and_post_logout_uris_on_the_app_page,
    |app: TestApp| async move {
        app.signed_in_user().await; // the administrator
        let bob = TestApp::with_client(&app, client());
        bob.signed_in_user().await;
        let c = register_on_page(&bob).await;
        assert!(
            bob.get_html("/settings/apps")
                .await
                .contains(&format!("href=\"/settings/apps/{}\"", c.id))
        );
        assert_eq!(shown_settings(&bob, &c.id).await, ("RS256".into(), vec![]));
        let first = tokens_with_nonce(&bob, &c, "openid offline_access", "n").await;
        assert_eq!(header(first["id_token"].as_str().unwrap())["alg"], "RS256");

        let uris = "https://app.example/bye\r\nhttp://127.0.0.1:9000/out";
        let res = post_settings(&bob, &c.id, "EdDSA", uris).await;
        assert_eq!(res.status(), 303);
        assert_eq!(location(&res), format!("/settings/apps/{}", c.id));
        let expected = vec![
            "https://app.example/bye".to_owned(),
            "http://127.0.0.1:9000/out".to_owned(),
        ];
        assert_eq!(
            shown_settings(&bob, &c.id).await,
            ("EdDSA".into(), expected.clone())
        );
        // An administrator sees the same.
        assert_eq!(
            shown_settings(&app, &c.id).await,
            ("EdDSA".into(), expected)
        );

        // Used at once, on refresh as on the code grant.
        let refresh_token = first["refresh_token"].as_str().unwrap();
        let refreshed = json(refresh(&bob, &c, refresh_token, None).await).await;
        assert_eq!(
            header(refreshed["id_token"].as_str().unwrap())["alg"],
            "EdDSA"
        );
        let again = tokens_with_nonce(&bob, &c, "openid", "m").await;
        assert_eq!(header(again["id_token"].as_str().unwrap())["alg"], "EdDSA");

        // Emptying the list clears it.
        let res = post_settings(&bob, &c.id, "RS256", "").await;
        assert_eq!(res.status(), 303);
        assert_eq!(shown_settings(&bob, &c.id).await, ("RS256".into(), vec![]));
    }
);

#[tokio::test]
async fn app_settings_without_the_csrf_token_change_nothing() {
    let app = spawn_app().await;
    app.signed_in_user().await;
    let c = register_on_page(&app).await;
    let res = app
        .client
        .post(app.url(&format!("/settings/apps/{}", c.id)))
        .form(&[
            ("id_token_signed_response_alg", "EdDSA"),
            ("post_logout_redirect_uris", "https://app.example/bye"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 403);
    assert_eq!(shown_settings(&app, &c.id).await, ("RS256".into(), vec![]));
}

#[tokio::test]
async fn a_bad_algorithm_or_post_logout_uri_is_refused_on_the_app_page() {
    let app = spawn_app().await;
    app.signed_in_user().await;
    let c = register_on_page(&app).await;
    for (alg, uris, says) in [
        ("HS256", "", "RS256 or EdDSA"),
        ("none", "", "RS256 or EdDSA"),
        (
            "EdDSA",
            "http://evil.example/bye",
            "http is allowed only on loopback",
        ),
        (
            "EdDSA",
            "https://app.example/bye#frag",
            "must not contain a fragment",
        ),
        ("EdDSA", "javascript:alert(1)", "must use https"),
    ] {
        let res = post_settings(&app, &c.id, alg, uris).await;
        assert_eq!(res.status(), 422, "{alg} {uris}");
        let page = res.text().await.unwrap();
        assert!(page.contains("id=\"app-settings-error\""), "{alg} {uris}");
        assert!(page.contains(says), "{says} for {alg} {uris}");
        assert_eq!(shown_settings(&app, &c.id).await, ("RS256".into(), vec![]));
    }
}

#[tokio::test]
async fn nobody_else_sees_or_changes_an_apps_settings() {
    let app = spawn_app().await;
    app.signed_in_user().await; // the administrator
    let bob = TestApp::with_client(&app, client());
    bob.signed_in_user().await;
    let c = register_on_page(&bob).await;
    let carol = TestApp::with_client(&app, client());
    carol.signed_in_user().await;
    let path = format!("/settings/apps/{}", c.id);
    assert_eq!(carol.get(&path).await.status(), 404);
    let fields = [
        ("id_token_signed_response_alg", "EdDSA"),
        ("post_logout_redirect_uris", "https://evil.example/bye"),
    ];
    let res = carol.post_form("/account", &path, &fields).await;
    assert_eq!(res.status(), 404);
    assert_eq!(shown_settings(&bob, &c.id).await, ("RS256".into(), vec![]));
}

#[tokio::test]
async fn the_cli_sets_the_id_token_algorithm_and_post_logout_uris() {
    let app = spawn_app().await;
    app.signed_in_user().await; // the administrator, who sees every app's page
    let c = cli_client(
        &app,
        &[
            "--name",
            "Relying Party",
            "--redirect-uri",
            REDIRECT,
            "--scope",
            "openid profile email",
            "--id-token-signed-response-alg",
            "EdDSA",
            "--post-logout-redirect-uri",
            "https://app.example/bye",
            "--post-logout-redirect-uri",
            "http://127.0.0.1/out",
        ],
    )
    .await;
    let both = vec![
        "https://app.example/bye".to_owned(),
        "http://127.0.0.1/out".to_owned(),
    ];
    assert_eq!(shown_settings(&app, &c.id).await, ("EdDSA".into(), both));
    let body = tokens_with_nonce(&app, &c, "openid profile email", "n").await;
    assert_eq!(header(body["id_token"].as_str().unwrap())["alg"], "EdDSA");

    let out = portcullis(
        &app,
        &[
            "client",
            "set",
            &c.id,
            "--id-token-signed-response-alg",
            "RS256",
            "--post-logout-redirect-uri",
            "https://app.example/new",
        ],
    )
    .await;
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let printed = String::from_utf8_lossy(&out.stdout);
    assert!(
        printed.contains("id_token_signed_response_alg: RS256"),
        "{printed}"
    );
    let new = vec!["https://app.example/new".to_owned()];
    assert_eq!(shown_settings(&app, &c.id).await, ("RS256".into(), new));

    let out = portcullis(
        &app,
        &["client", "set", &c.id, "--clear-post-logout-redirect-uris"],
    )
    .await;
    assert!(out.status.success());
    assert_eq!(shown_settings(&app, &c.id).await, ("RS256".into(), vec![]));

    // A default client: RS256.
    let plain = cli_client(&app, &["--name", "Plain", "--redirect-uri", REDIRECT]).await;
    assert_eq!(
        shown_settings(&app, &plain.id).await,
        ("RS256".into(), vec![])
    );
}

#[tokio::test]
async fn the_cli_refuses_a_bad_algorithm_or_post_logout_uri_and_changes_nothing() {
    let app = spawn_app().await;
    app.signed_in_user().await;
    let create = |extra: &'static [&'static str]| {
        let app = &app;
        async move {
            let mut args = vec![
                "client",
                "create",
                "--name",
                "X",
                "--redirect-uri",
                REDIRECT,
            ];
            args.extend_from_slice(extra);
            portcullis(app, &args).await
        }
    };
    for (extra, says) in [
        (
            &["--id-token-signed-response-alg", "HS256"][..],
            "RS256 or EdDSA",
        ),
        (
            &["--post-logout-redirect-uri", "http://evil.example/bye"][..],
            "http is allowed only on loopback",
        ),
    ] {
        let out = create(extra).await;
        assert!(!out.status.success(), "{extra:?} accepted");
        assert!(
            String::from_utf8_lossy(&out.stderr).contains(says),
            "{extra:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    let listed = app.get_html("/settings/apps").await;
    assert!(!listed.contains("\">X</a></td>"), "no app was registered");

    let c = cli_client(&app, &["--name", "Kept", "--redirect-uri", REDIRECT]).await;
    for args in [
        &["--id-token-signed-response-alg", "rs256"][..],
        &[
            "--first-party",
            "true",
            "--post-logout-redirect-uri",
            "ftp://x/bye",
        ][..],
    ] {
        let mut all = vec!["client", "set", c.id.as_str()];
        all.extend_from_slice(args);
        let out = portcullis(&app, &all).await;
        assert!(!out.status.success(), "{args:?} accepted");
    }
    assert_eq!(shown_settings(&app, &c.id).await, ("RS256".into(), vec![]));
    let admin_apps = app.get_html("/admin/apps").await;
    let row = admin_apps
        .split(&format!("data-client=\"{}\"", c.id))
        .nth(1)
        .unwrap()
        .split("</tr>")
        .next()
        .unwrap();
    assert!(
        !row.contains("value=\"on\" checked"),
        "a refused set changes no flag either"
    );
}
