//! An app's own page under Settings → Developer apps: its owner (or a server administrator)
//! opens it from the list, edits every field and sees the change there; bad URLs and redirect
//! URIs are refused with each bad field marked and what was typed kept; nobody else sees it.

use serde_json::Value;

use crate::helpers::{TestApp, client, location, spawn_app};
use crate::oauth_helpers::{REDIRECT, TestClient};

pub const PASSWORD: &str = "correct horse battery";

/// The first account (the server administrator) on `app`, and a second person, "Bob Maker",
/// signed in on their own client.
pub async fn admin_and_owner(app: &TestApp) -> TestApp {
    app.signed_in_user().await;
    let bob = TestApp::with_client(app, client());
    let email = format!("bob-{}@example.com", uuid::Uuid::new_v4().simple());
    assert_eq!(bob.sign_up(&email, "Bob Maker", PASSWORD).await.status(), 303);
    bob
}

/// Registers a confidential app on Settings → Developer apps as the person signed in on `app`,
/// with these grants (none: the default ones) and `read openid`; its id and secret from the
/// one-time reveal.
pub async fn register_on_page(app: &TestApp, name: &str, grants: &[&str]) -> TestClient {
    let mut fields = vec![
        ("name", name),
        ("redirect_uris", REDIRECT),
        ("client_type", "confidential"),
        ("scope", "read"),
        ("scope", "openid"),
    ];
    fields.extend(grants.iter().map(|g| ("grant", *g)));
    let res = app.post_form("/settings/apps", "/settings/apps", &fields).await;
    let html = app.reveal(res).await.text().await.unwrap();
    let between = |a: &str| html.split(a).nth(1).unwrap().split('<').next().unwrap();
    TestClient {
        id: between("id=\"client-id\">").to_owned(),
        secret: Some(between("id=\"client-secret\">").to_owned()),
    }
}

/// Posts the edit form of app `id` with `fields`.
pub async fn edit(app: &TestApp, id: &str, fields: &[(&str, &str)]) -> reqwest::Response {
    let page = format!("/settings/apps/{id}");
    app.post_form(&page, &format!("{page}/edit"), fields).await
}

/// The audit log's events of one type, read by the administrator signed in on `admin`.
pub async fn audit_events(admin: &TestApp, event_type: &str) -> Vec<Value> {
    let token = admin.session_token().await;
    let page: Value = admin
        .client
        .get(admin.url(&format!("/api/v1/audit-events?event_type={event_type}")))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    page["data"].as_array().unwrap().clone()
}

/// Every field of the edit form, filled in.
pub const EDITED: &[(&str, &str)] = &[
    ("name", "Renamed App"),
    ("description", "Keeps your notes in sync."),
    ("homepage_url", "https://notes.example/"),
    ("privacy_policy_url", "https://notes.example/privacy"),
    ("terms_url", "https://notes.example/terms"),
    ("logo_url", "https://cdn.notes.example/logo.png"),
    (
        "redirect_uris",
        "https://app.example/callback\r\nhttp://127.0.0.1:8080/cb",
    ),
    ("scope", "read"),
    ("scope", "write"),
    ("scope", "openid"),
    ("grant", "authorization_code"),
    ("grant", "refresh_token"),
    ("grant", "client_credentials"),
];

#[tokio::test]
async fn an_owner_opens_an_app_from_the_list_and_edits_every_field() {
    let app = spawn_app().await;
    let bob = admin_and_owner(&app).await;
    let c = register_on_page(&bob, "Notes", &[]).await;
    let list = bob.get_html("/settings/apps").await;
    assert!(list.contains(&format!("<a href=\"/settings/apps/{}\">Notes</a>", c.id)));

    let res = edit(&bob, &c.id, EDITED).await;
    assert_eq!(res.status(), 303);
    assert_eq!(location(&res), format!("/settings/apps/{}", c.id));
    let page = bob.get_html(&format!("/settings/apps/{}", c.id)).await;
    assert!(page.contains("id=\"flash\">App saved.</p>"), "{page}");
    for shown in [
        "<span id=\"app-name\">Renamed App</span>",
        "<p id=\"app-description\">Keeps your notes in sync.</p>",
        "href=\"https://notes.example/\" id=\"app-homepage\"",
        "href=\"https://notes.example/privacy\" id=\"app-privacy\"",
        "href=\"https://notes.example/terms\" id=\"app-terms\"",
        "<img src=\"https://cdn.notes.example/logo.png\" alt=\"\" width=\"40\" height=\"40\"",
        "<code>http://127.0.0.1:8080/cb</code>",
        "<dd id=\"app-scopes\">openid read write</dd>",
        "<dd id=\"app-grants\">authorization_code refresh_token client_credentials</dd>",
    ] {
        assert!(page.contains(shown), "{shown} missing: {page}");
    }
    // The flash is shown once.
    let again = bob.get_html(&format!("/settings/apps/{}", c.id)).await;
    assert!(!again.contains("id=\"flash\""));
    // An administrator opens it too.
    let admin_view = app.get(&format!("/settings/apps/{}", c.id)).await;
    assert_eq!(admin_view.status(), 200);

    // Saving the same again changes nothing and records nothing more.
    assert_eq!(edit(&bob, &c.id, EDITED).await.status(), 303);
    let events = audit_events(&app, "app.updated").await;
    assert_eq!(events.len(), 1, "{events:?}");
    let changed = &events[0]["detail"]["changed"];
    for field in [
        "name",
        "description",
        "homepage_url",
        "privacy_policy_url",
        "terms_url",
        "logo_url",
        "redirect_uris",
        "scope",
        "grant_types",
    ] {
        assert!(
            changed.as_array().unwrap().iter().any(|f| f == field),
            "{field} in {changed}"
        );
    }
    assert_eq!(events[0]["target"], format!("client:{}", c.id));
}

#[tokio::test]
async fn bad_urls_and_redirect_uris_are_refused_with_every_bad_field_marked_and_kept() {
    let app = spawn_app().await;
    let bob = admin_and_owner(&app).await;
    let c = register_on_page(&bob, "Notes", &[]).await;
    let before = bob.get_html(&format!("/settings/apps/{}", c.id)).await;
    let long = format!("https://notes.example/{}", "a".repeat(2100));
    let typed = [
        ("name", "   "),
        ("description", "fine"),
        ("homepage_url", "http://notes.example/"),
        ("privacy_policy_url", "javascript:alert(1)"),
        ("terms_url", long.as_str()),
        ("logo_url", "not a url"),
        ("redirect_uris", "https://app.example/cb#fragment"),
        ("scope", "read"),
    ];
    let res = edit(&bob, &c.id, &typed).await;
    assert_eq!(res.status(), 422);
    let page = res.text().await.unwrap();
    assert!(page.contains("id=\"app-edit-error\""));
    for field in [
        "name",
        "homepage_url",
        "privacy_policy_url",
        "terms_url",
        "logo_url",
        "redirect_uris",
    ] {
        let marked = format!("aria-invalid=\"true\" aria-describedby=\"edit-{field}-error\"");
        assert!(page.contains(&marked), "{field} not marked");
        assert!(
            page.contains(&format!("class=\"field-error\" id=\"edit-{field}-error\"")),
            "{field} has no message"
        );
    }
    assert!(!page.contains("edit-description-error"), "a good field is not marked");
    // What was typed is shown back (escaped), so nothing has to be typed again.
    for kept in [
        "value=\"http://notes.example/\"",
        "value=\"javascript:alert(1)\"",
        "value=\"not a url\"",
        ">https://app.example/cb#fragment</textarea>",
        ">fine</textarea>",
    ] {
        assert!(page.contains(kept), "{kept} not kept");
    }
    assert!(page.contains("must not contain a fragment"));
    // Nothing was saved.
    let after = bob.get_html(&format!("/settings/apps/{}", c.id)).await;
    assert_eq!(strip_csrf(&before), strip_csrf(&after));
    assert!(audit_events(&app, "app.updated").await.is_empty());

    // A public-client rule still holds: client_credentials needs a secret; and the
    // authorization-code grant needs a redirect URI.
    let res = edit(&bob, &c.id, &[("name", "Notes"), ("redirect_uris", "")]).await;
    assert_eq!(res.status(), 422);
    let page = res.text().await.unwrap();
    assert!(page.contains("aria-describedby=\"edit-redirect_uris-error\""));
    assert!(page.contains("Add at least one redirect URI."));
}

fn strip_csrf(page: &str) -> String {
    page.lines().filter(|l| !l.contains("csrf_token")).collect()
}

#[tokio::test]
async fn nobody_else_opens_or_changes_an_app_and_a_visitor_is_sent_to_sign_in() {
    let app = spawn_app().await;
    let bob = admin_and_owner(&app).await;
    let c = register_on_page(&bob, "Notes", &[]).await;
    let carol = TestApp::with_client(&app, client());
    carol.signed_in_user().await;
    let page = format!("/settings/apps/{}", c.id);
    assert_eq!(carol.get(&page).await.status(), 404);
    for (action, fields) in [
        ("edit", EDITED.to_vec()),
        ("rotate-secret", vec![("overlap", "1h")]),
        ("delete", vec![("confirm_name", "Notes")]),
    ] {
        let path = format!("{page}/{action}");
        let res = carol.post_form("/account", &path, &fields).await;
        assert_eq!(res.status(), 404, "{action}");
    }
    // An id that names no app is the same 404.
    let unknown = format!("/settings/apps/{}", "0".repeat(32));
    assert_eq!(bob.get(&unknown).await.status(), 404);

    let visitor = TestApp::with_client(&app, client());
    let res = visitor.get(&page).await;
    assert_eq!(res.status(), 303);
    assert!(location(&res).starts_with("/signin?return_to="));
    let res = visitor
        .client
        .post(visitor.url(&format!("{page}/delete")))
        .form(&[("confirm_name", "Notes")])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 303, "no session: sent to sign in");
    assert!(location(&res).starts_with("/signin"));

    // Still there, unchanged.
    let owner_view = bob.get_html(&page).await;
    assert!(owner_view.contains("<span id=\"app-name\">Notes</span>"));
}
