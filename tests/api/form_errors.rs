//! A refused submission names every bad field at once: the REST API's 422 lists each in
//! `fields`, and a page keeps what was typed and marks each bad field beside it.

use reqwest::Method;
use serde_json::{Value, json};

use crate::helpers::spawn_app;
use crate::tenancy::call;

#[tokio::test]
async fn the_apis_422_lists_every_bad_field_of_an_api_key() {
    let app = spawn_app().await;
    app.signed_in_user().await;
    let token = app.session_token().await;
    let res = call(
        &app,
        Method::POST,
        "/api/v1/active/api-keys",
        &token,
        Some(json!({
            "name": "",
            "permissions": ["root"],
            "environment": "staging",
            "expires_at": "2001-01-01T00:00:00Z",
            "allowed_ips": ["10.0.0.0/33"],
        })),
    )
    .await;
    assert_eq!(res.status(), 422);
    let body: Value = res.json().await.unwrap();
    let fields = body["error"]["fields"].as_object().unwrap();
    let mut names: Vec<&str> = fields.keys().map(String::as_str).collect();
    names.sort_unstable();
    assert_eq!(
        names,
        ["allowed_ips", "environment", "expires_at", "name", "permissions"],
        "{body}"
    );
    assert!(fields["permissions"].as_str().unwrap().contains("root"));
    assert_eq!(body["error"]["code"], "validation_failed");
    assert_eq!(body["error"]["status"], 422);

    // One bad field is one entry, as before.
    let res = call(
        &app,
        Method::POST,
        "/api/v1/active/api-keys",
        &token,
        Some(json!({"name": "ok", "permissions": []})),
    )
    .await;
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["error"]["fields"].as_object().unwrap().len(), 1);
    // And a token without a name or a date names both.
    let res = call(
        &app,
        Method::POST,
        "/api/v1/active/tokens/",
        &token,
        Some(json!({"name": "", "expiry_date": "not a date"})),
    )
    .await;
    assert_eq!(res.status(), 422);
    let body: Value = res.json().await.unwrap();
    let fields = body["error"]["fields"].as_object().unwrap();
    assert!(fields.contains_key("name") && fields.contains_key("expiry_date"), "{body}");
}

#[tokio::test]
async fn a_refused_api_key_form_keeps_what_was_typed_and_marks_every_bad_field() {
    let app = spawn_app().await;
    app.signed_in_user().await;
    let res = app
        .post_form(
            "/settings/credentials",
            "/settings/credentials/api-keys",
            &[
                ("name", "Ops key"),
                ("environment", "test"),
                ("expires_on", "2001-01-01"),
                ("allowed_ips", "10.0.0.0/33"),
            ],
        )
        .await;
    assert_eq!(res.status(), 422);
    let html = res.text().await.unwrap();
    // What was typed is back.
    assert!(html.contains("value=\"Ops key\""));
    assert!(html.contains("value=\"2001-01-01\""));
    assert!(html.contains("value=\"10.0.0.0/33\""));
    assert!(html.contains("value=\"test\" checked"), "the environment chosen");
    assert!(!html.contains("value=\"read\" checked"), "no permission was ticked");
    // Each bad field is marked, with its own message next to it.
    for field in ["permissions", "expires_at", "allowed_ips"] {
        assert!(
            html.contains(&format!("aria-describedby=\"api_key-{field}-error\"")),
            "{field} marked"
        );
        assert!(html.contains(&format!("id=\"api_key-{field}-error\"")), "{field} explained");
    }
    assert!(!html.contains("api_key-name-error"), "the good name is not marked");
    // The token form is untouched.
    assert!(!html.contains("value=\"Ops key\" aria") || !html.contains("pat-name-error"));

    // A refused token form keeps its preset and name.
    let res = app
        .post_form(
            "/settings/credentials",
            "/settings/credentials/tokens",
            &[("name", "Nightly"), ("expires_in", "custom"), ("expires_on", "")],
        )
        .await;
    assert_eq!(res.status(), 422);
    let html = res.text().await.unwrap();
    assert!(html.contains("value=\"Nightly\""));
    assert!(html.contains("id=\"pat-custom\" checked"));
    assert!(html.contains("id=\"pat-expiry_date-error\""));
}

#[tokio::test]
async fn system_credentials_and_invitations_name_every_bad_field_too() {
    let app = spawn_app().await;
    app.signed_in_user().await;
    let tenant = crate::helpers::create_tenant(&app, "Acme").await;
    crate::helpers::switch_to(&app, &tenant).await;
    let token = app.session_token().await;
    let names = |body: &Value| {
        let mut n: Vec<String> = body["error"]["fields"]
            .as_object()
            .unwrap()
            .keys()
            .cloned()
            .collect();
        n.sort_unstable();
        n
    };
    let res = call(
        &app,
        Method::POST,
        "/api/v1/auth-management/clients",
        &token,
        Some(json!({"name": "", "roles": [{"role_id": "owner"}]})),
    )
    .await;
    assert_eq!(res.status(), 422);
    let body: Value = res.json().await.unwrap();
    assert_eq!(names(&body), ["name", "roles"], "{body}");

    let res = call(
        &app,
        Method::POST,
        &format!("/api/v1/{tenant}/invitations"),
        &token,
        Some(json!({"email": "not an address", "role": "emperor"})),
    )
    .await;
    assert_eq!(res.status(), 422);
    let body: Value = res.json().await.unwrap();
    assert_eq!(names(&body), ["email", "role"], "{body}");
}

#[tokio::test]
async fn a_refused_system_credential_form_keeps_what_was_typed() {
    let app = spawn_app().await;
    app.signed_in_user().await;
    let page = "/admin/system-credentials";
    let res = app
        .post_form(
            page,
            page,
            &[
                ("name", "Nightly ETL"),
                ("role", "editor"),
                ("resource_roles", "owner dataset:not-a-uuid"),
            ],
        )
        .await;
    assert_eq!(res.status(), 422);
    let html = res.text().await.unwrap();
    assert!(html.contains("value=\"Nightly ETL\""), "the name is kept");
    assert!(html.contains("id=\"system-role-editor\" checked"), "the ticked role is kept");
    assert!(html.contains(">owner dataset:not-a-uuid</textarea>"), "the lines are kept");
    assert!(html.contains("aria-invalid=\"true\""), "the bad field is marked");
    assert!(!html.contains("revealed-secret"), "nothing was created");
}
