//! The flags server administrators set on apps: who may introspect what (`resource_server`), who
//! is asked to consent (`first_party`, public clients), and who may set them (Admin → Apps, the
//! CLI).

use serde_json::{Value, json};

use crate::helpers::{TestApp, client, create_api_key, location, spawn_app};
use crate::oauth_helpers::*;

/// Tokens and credentials of one person and of apps other than the introspecting one.
struct Others {
    /// An access and a refresh token another app obtained for the person.
    app_access: String,
    app_refresh: String,
    /// Another app's own client-credentials token.
    machine_access: String,
    api_key_id: String,
    api_key: String,
    pat: String,
    personal_token: String,
    secret_key: String,
    session: String,
}

impl Others {
    fn all(&self) -> [(&'static str, &str); 8] {
        [
            ("another app's access token", &self.app_access),
            ("another app's refresh token", &self.app_refresh),
            ("another client's own token", &self.machine_access),
            ("API key", &self.api_key),
            ("sk- token", &self.pat),
            ("personal token", &self.personal_token),
            ("account secret key", &self.secret_key),
            ("session token", &self.session),
        ]
    }
}

async fn rest(
    app: &TestApp,
    method: reqwest::Method,
    path: &str,
    session: &str,
    body: Value,
) -> Value {
    let req = app.client.request(method, app.url(path));
    let res = req.bearer_auth(session).json(&body).send().await.unwrap();
    assert!(res.status().is_success(), "{path}: {}", res.status());
    res.json().await.unwrap()
}

/// Signs a person in (the server's administrator: the first account) and makes the lot.
async fn others(app: &TestApp) -> Others {
    app.signed_in_user().await;
    let session = app.session_token().await;
    let other = confidential(app).await;
    let (code, verifier) = obtain_code(app, &other, "read").await;
    let grant = json(exchange(app, &other, &code, &verifier).await).await;
    let machine = json(client_credentials(app, &machine_client(app).await).await).await;
    let (api_key_id, api_key) = create_api_key(app, &session, "Scraper", &["read"]).await;
    let (post, put) = (reqwest::Method::POST, reqwest::Method::PUT);
    let expiring = json!({"name": "p", "expiry_date": "2099-01-01T00:00:00Z"});
    let pat = rest(
        app,
        post.clone(),
        "/api/v1/active/tokens/",
        &session,
        expiring,
    )
    .await;
    let pt = rest(
        app,
        post,
        "/api/v1/active/personal-token",
        &session,
        json!({}),
    )
    .await;
    let usk = rest(app, put, "/user/generate_secret_key", &session, json!({})).await;
    let s = |v: &Value| v.as_str().unwrap().to_owned();
    Others {
        app_access: s(&grant["access_token"]),
        app_refresh: s(&grant["refresh_token"]),
        machine_access: s(&machine["access_token"]),
        api_key_id,
        api_key,
        pat: s(&pat["token"]),
        personal_token: s(&pt["token"]),
        secret_key: s(&usk["secretKey"]),
        session,
    }
}

async fn api_key_last_used(app: &TestApp, o: &Others) -> Value {
    let list = rest_get(app, "/api/v1/active/api-keys", &o.session).await;
    let mut keys = list["data"].as_array().unwrap().iter();
    let key = keys.find(|k| k["id"] == o.api_key_id.as_str()).unwrap();
    key["last_used_at"].clone()
}

async fn rest_get(app: &TestApp, path: &str, session: &str) -> Value {
    let res = app.client.get(app.url(path)).bearer_auth(session).send();
    let res = res.await.unwrap();
    assert_eq!(res.status(), 200, "{path}");
    res.json().await.unwrap()
}

/// Audit events of a type, read with an administrator's session token.
async fn events(app: &TestApp, admin_session: &str, event_type: &str) -> Vec<Value> {
    let path = format!("/api/v1/audit-events?event_type={event_type}");
    let page = rest_get(app, &path, admin_session).await;
    page["data"].as_array().unwrap().clone()
}

// ------------------------------------------------------------------------------ introspection

#[tokio::test]
async fn an_ordinary_client_learns_nothing_about_tokens_not_issued_to_it() {
    let app = spawn_app().await;
    let o = others(&app).await;
    let snoop = confidential(&app).await;
    for (what, token) in o.all() {
        let body = introspect(&app, &snoop, token).await;
        assert_eq!(body, json!({"active": false}), "{what}");
    }
    // Nor did presenting the API key count as using it.
    assert_eq!(api_key_last_used(&app, &o).await, Value::Null);
}

#[tokio::test]
async fn an_ordinary_client_still_sees_its_own_tokens_active() {
    let app = spawn_app().await;
    app.signed_in_user().await;
    let own = register(&app, "read", false, &[]).await;
    let (code, verifier) = obtain_code(&app, &own, "read").await;
    let grant = json(exchange(&app, &own, &code, &verifier).await).await;
    for (kind, token) in [
        ("Bearer", &grant["access_token"]),
        ("refresh_token", &grant["refresh_token"]),
    ] {
        let body = introspect(&app, &own, token.as_str().unwrap()).await;
        assert_eq!(body["active"], true, "{kind}");
        assert_eq!(body["token_type"], kind);
        assert_eq!(body["client_id"], own.id.as_str());
    }
}

#[tokio::test]
async fn a_resource_server_sees_every_token_and_credential_active() {
    let app = spawn_app().await;
    let o = others(&app).await;
    let rs = resource_server(&app).await;
    for (what, token) in o.all() {
        let body = introspect(&app, &rs, token).await;
        assert_eq!(body["active"], true, "{what}: {body}");
    }
    let key = introspect(&app, &rs, &o.api_key).await;
    assert_eq!(key["token_type"], "api_key");
    assert_eq!(key["client_id"], o.api_key_id.as_str());
}

crate::helpers::on_both_backends!(
    introspection_by_a_resource_server_is_not_a_use_of_the_credential,
    |app: TestApp| async move {
        let o = others(&app).await;
        let rs = resource_server(&app).await;
        for _ in 0..2 {
            assert_eq!(introspect(&app, &rs, &o.api_key).await["active"], true);
        }
        // The credentials page writes pending last-use times, as the background writer does.
        app.get_html("/settings/credentials").await;
        assert_eq!(api_key_last_used(&app, &o).await, Value::Null);
        let target = format!("credential:{}", o.api_key_id);
        let first_uses = |evs: Vec<Value>| {
            evs.iter()
                .filter(|e| e["target"] == target.as_str())
                .count()
        };
        let logged = events(&app, &o.session, "credential.first_used").await;
        assert_eq!(first_uses(logged), 0);

        // Whereas presenting the key is a use: both checks above would have seen one.
        let me = app
            .client
            .get(app.url("/v1/users/me"))
            .bearer_auth(&o.api_key);
        assert_eq!(me.send().await.unwrap().status(), 200);
        app.get_html("/settings/credentials").await;
        assert!(api_key_last_used(&app, &o).await.is_string());
        let logged = events(&app, &o.session, "credential.first_used").await;
        assert_eq!(first_uses(logged), 1);
    }
);

// ---------------------------------------------------------------------- who sets the flags

/// The table row of an app on Admin → Apps.
fn row<'a>(page: &'a str, client_id: &str) -> &'a str {
    let start = page
        .find(&format!("data-client=\"{client_id}\""))
        .unwrap_or_else(|| panic!("{client_id} listed"));
    let end = page[start..].find("</tr>").unwrap() + start;
    &page[start..end]
}

fn flag_checked(row: &str, flag: &str) -> bool {
    let at = row.find(&format!("name=\"{flag}\"")).unwrap();
    row[at..].split('>').next().unwrap().contains("checked")
}

async fn post_flags(app: &TestApp, client_id: &str, fields: &[(&str, &str)]) -> reqwest::Response {
    let action = format!("/admin/apps/{client_id}/flags");
    app.post_form("/settings/apps", &action, fields).await
}

#[tokio::test]
async fn a_normal_user_cannot_open_admin_apps_nor_set_flags() {
    let app = spawn_app().await;
    app.signed_in_user().await; // the administrator
    let bob = TestApp::with_client(&app, client());
    bob.signed_in_user().await;
    let bobs = confidential(&app).await;

    assert!(
        !bob.get_html("/settings/apps")
            .await
            .contains("href=\"/admin/apps\"")
    );
    assert_eq!(bob.get("/admin/apps").await.status(), 403);
    let res = post_flags(&bob, &bobs.id, &[("resource_server", "on")]).await;
    assert_eq!(res.status(), 403);

    let page = app.get_html("/admin/apps").await;
    assert!(!flag_checked(row(&page, &bobs.id), "resource_server"));
    let o_token = json(client_credentials(&app, &machine_client(&app).await).await).await;
    let seen = introspect(&app, &bobs, o_token["access_token"].as_str().unwrap()).await;
    assert_eq!(seen, json!({"active": false}));
}

#[tokio::test]
async fn setting_flags_without_the_csrf_token_is_refused() {
    let app = spawn_app().await;
    app.signed_in_user().await;
    let c = confidential(&app).await;
    let res = app
        .client
        .post(app.url(&format!("/admin/apps/{}/flags", c.id)))
        .form(&[("resource_server", "on"), ("first_party", "on")])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 403);
    let page = app.get_html("/admin/apps").await;
    assert!(!flag_checked(row(&page, &c.id), "resource_server"));
    assert!(!flag_checked(row(&page, &c.id), "first_party"));
}

#[tokio::test]
async fn a_public_client_cannot_be_made_a_resource_server() {
    let app = spawn_app().await;
    app.signed_in_user().await;
    let spa = register(&app, "read", true, &[]).await;
    let res = post_flags(&app, &spa.id, &[("resource_server", "on")]).await;
    assert_eq!(res.status(), 422);
    assert!(
        res.text()
            .await
            .unwrap()
            .contains("cannot be a resource server")
    );
    let page = app.get_html("/admin/apps").await;
    assert!(!flag_checked(row(&page, &spa.id), "resource_server"));
}

crate::helpers::on_both_backends!(
    an_administrator_marks_an_app_a_resource_server_and_its_owner_sees_it,
    |app: TestApp| async move {
        app.signed_in_user().await;
        let admin_session = app.session_token().await;
        assert!(
            app.get_html("/account")
                .await
                .contains("href=\"/admin/apps\"")
        );
        let bob = TestApp::with_client(&app, client());
        bob.signed_in_user().await;
        let fields = [
            ("name", "Bob's API"),
            ("redirect_uris", REDIRECT),
            ("client_type", "confidential"),
            ("scope", "read"),
        ];
        let created = bob
            .post_form("/settings/apps", "/settings/apps", &fields)
            .await;
        let created = bob.reveal(created).await;
        let html = created.text().await.unwrap();
        let between = |a: &str| html.split(a).nth(1).unwrap().split('<').next().unwrap();
        let bobs = TestClient {
            id: between("id=\"client-id\">").to_owned(),
            secret: Some(between("id=\"client-secret\">").to_owned()),
        };
        let mine = bob.get_html("/settings/apps").await;
        assert!(!mine.contains("resource server</span>"));

        let res = post_flags(&app, &bobs.id, &[("resource_server", "on")]).await;
        assert_eq!(res.status(), 303);
        assert_eq!(location(&res), "/admin/apps");
        let page = app.get_html("/admin/apps").await;
        assert!(flag_checked(row(&page, &bobs.id), "resource_server"));
        assert!(!flag_checked(row(&page, &bobs.id), "first_party"));
        assert!(
            bob.get_html("/settings/apps")
                .await
                .contains("resource server</span>")
        );

        let token = json(client_credentials(&app, &machine_client(&app).await).await).await;
        let seen = introspect(&app, &bobs, token["access_token"].as_str().unwrap()).await;
        assert_eq!(seen["active"], true);
        let changed = events(&app, &admin_session, "client.flags_changed").await;
        assert_eq!(changed.len(), 1, "{changed:?}");
        assert_eq!(changed[0]["target"], format!("client:{}", bobs.id));
        assert_eq!(changed[0]["actor_type"], "user");
        assert_eq!(changed[0]["detail"]["to"]["resource_server"], true);
    }
);

crate::helpers::on_both_backends!(
    the_cli_sets_flags_and_the_admin_page_shows_them,
    |app: TestApp| async move {
        app.signed_in_user().await;
        let admin_session = app.session_token().await;
        let rs = resource_server(&app).await;
        let page = app.get_html("/admin/apps").await;
        assert!(flag_checked(row(&page, &rs.id), "resource_server"));
        assert!(!flag_checked(row(&page, &rs.id), "first_party"));

        let set = |args: Vec<String>| {
            let url = app.settings.database_url.expose().to_owned();
            std::process::Command::new(env!("CARGO_BIN_EXE_portcullis"))
                .args(["client", "set"])
                .args(args)
                .env("PORTCULLIS_DATABASE_URL", url)
                .output()
                .unwrap()
        };
        let unknown = set(vec![
            "no-such-app".into(),
            "--first-party".into(),
            "true".into(),
        ]);
        assert!(!unknown.status.success());
        let out = set(vec![rs.id.clone(), "--first-party".into(), "true".into()]);
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(String::from_utf8_lossy(&out.stdout).contains("first_party:     true"));
        let page = app.get_html("/admin/apps").await;
        assert!(flag_checked(row(&page, &rs.id), "resource_server"), "kept");
        assert!(flag_checked(row(&page, &rs.id), "first_party"));

        let changed = events(&app, &admin_session, "client.flags_changed").await;
        assert_eq!(changed.len(), 2, "creation and change: {changed:?}");
        assert!(changed.iter().all(|e| e["actor_type"] == "cli"));
    }
);

// ------------------------------------------------------------------------------------ consent

/// Authorizes `c` for `read` with PKCE as the signed-in person: the first response.
async fn authorize(app: &TestApp, c: &TestClient) -> (String, reqwest::Response) {
    let (_, challenge) = pkce();
    let path = authorize_path(&c.id, "read", "st", Some(&challenge));
    let res = app.get(&path).await;
    (path, res)
}

#[tokio::test]
async fn a_public_client_is_shown_the_consent_page_every_time() {
    let app = spawn_app().await;
    app.signed_in_user().await;
    let spa = register(&app, "read", true, &[]).await;
    let (path, _) = authorize(&app, &spa).await;
    let approved = consent(&app, &path, "allow").await;
    assert!(q(&query_of(&approved), "code").is_some());

    let (_, again) = authorize(&app, &spa).await;
    assert_eq!(again.status(), 200, "no redirect with a code");
    let page = again.text().await.unwrap();
    assert!(page.contains("id=\"consent-allow\""));
}

#[tokio::test]
async fn a_first_party_public_client_is_not_shown_the_consent_page() {
    let app = spawn_app().await;
    app.signed_in_user().await;
    let args = ["--name", "Console", "--redirect-uri", REDIRECT];
    let spa = cli_client(&app, &[&args[..], &["--public", "--first-party"]].concat()).await;
    assert!(spa.secret.is_none());
    let (_, first) = authorize(&app, &spa).await;
    assert_eq!(first.status(), 303);
    let pairs = query_of(&location(&first));
    assert!(q(&pairs, "code").is_some());
    assert_eq!(q(&pairs, "state"), Some("st"));
}

#[tokio::test]
async fn a_confidential_third_party_client_with_a_remembered_grant_is_not_asked_again() {
    let app = spawn_app().await;
    app.signed_in_user().await;
    let c = confidential(&app).await;
    let (path, first) = authorize(&app, &c).await;
    assert_eq!(first.status(), 200, "asked the first time");
    consent(&app, &path, "allow").await;
    let (_, second) = authorize(&app, &c).await;
    assert_eq!(second.status(), 303);
    assert!(q(&query_of(&location(&second)), "code").is_some());
}
