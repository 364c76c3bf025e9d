//! Helpers for tests that need a shared tenant: create one, bring people in with a role,
//! change or end their membership, and mint every kind of credential a member can hold there.

#![allow(dead_code)]

use serde_json::{Value, json};

use crate::helpers::TestApp;

pub use crate::helpers::{create_tenant, switch_to};

/// Brings `member` (signed in as `email`) into `tenant` with `role`: invited, then accepted.
pub async fn join(admin: &TestApp, tenant: &str, member: &TestApp, email: &str, role: &str) {
    crate::helpers::invite_and_accept(admin, tenant, member, email, role).await;
}

/// Changes a member's role from the tenant's admin page.
pub async fn set_role(admin: &TestApp, tenant: &str, member: &TestApp, role: &str) {
    let id = stored_user_id(member).await;
    let res = admin
        .post_form(
            &format!("/admin/tenants/{tenant}"),
            &format!("/admin/tenants/{tenant}/members/{id}/role"),
            &[("role", role)],
        )
        .await;
    assert_eq!(res.status(), 303, "role change to {role}");
}

/// Removes a member from `tenant`.
pub async fn remove(admin: &TestApp, tenant: &str, member: &TestApp) {
    let id = stored_user_id(member).await;
    let res = admin
        .post_form(
            &format!("/admin/tenants/{tenant}"),
            &format!("/admin/tenants/{tenant}/members/{id}/remove"),
            &[],
        )
        .await;
    assert_eq!(res.status(), 303, "removal");
}

/// The signed-in person's stored id (the `usr_` id without its prefix, hyphenated).
pub async fn stored_user_id(member: &TestApp) -> String {
    let token = member.session_token().await;
    let me: Value = member
        .client
        .get(member.url("/v1/users/me"))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let hex = me["data"]["id"]
        .as_str()
        .unwrap()
        .trim_start_matches("usr_");
    uuid::Uuid::try_parse(hex).unwrap().to_string()
}

pub(crate) use crate::credentials::call;

/// Every credential a member holds in a tenant, each as the bearer value that uses it.
pub struct Held {
    /// `ck_live_` key with every permission.
    pub api_key: String,
    /// Its id.
    pub api_key_id: String,
    /// `sk-` token.
    pub pat: String,
    /// The personal token.
    pub personal_token: String,
    /// The account secret key.
    pub secret_key: String,
    /// The 1-hour session token.
    pub session_token: String,
}

/// Mints every kind of credential for the signed-in `member` in their active tenant.
pub async fn mint_all(member: &TestApp) -> Held {
    let session_token = member.session_token().await;
    let t = &session_token;
    let key: Value = call(
        member,
        reqwest::Method::POST,
        "/api/v1/active/api-keys",
        t,
        Some(json!({"name": "all", "permissions": ["read", "write", "delete", "admin"]})),
    )
    .await
    .json()
    .await
    .unwrap();
    let pat: Value = call(
        member,
        reqwest::Method::POST,
        "/api/v1/active/tokens/",
        t,
        Some(json!({"name": "pat", "expiry_date": "2099-01-01T00:00:00Z"})),
    )
    .await
    .json()
    .await
    .unwrap();
    let pt: Value = call(
        member,
        reqwest::Method::POST,
        "/api/v1/active/personal-token",
        t,
        None,
    )
    .await
    .json()
    .await
    .unwrap();
    let usk: Value = call(
        member,
        reqwest::Method::PUT,
        "/user/generate_secret_key",
        t,
        None,
    )
    .await
    .json()
    .await
    .unwrap();
    Held {
        api_key: key["key"]
            .as_str()
            .unwrap_or_else(|| panic!("api key: {key}"))
            .to_owned(),
        api_key_id: key["id"].as_str().unwrap().to_owned(),
        pat: pat["token"].as_str().expect("pat").to_owned(),
        personal_token: pt["token"].as_str().expect("personal token").to_owned(),
        secret_key: usk["secretKey"]
            .as_str()
            .unwrap_or_else(|| panic!("secret key: {usk}"))
            .to_owned(),
        session_token,
    }
}

/// `POST /api/v0/login` with a personal token: the 1-hour access token.
pub async fn login_v0(app: &TestApp, personal_token: &str) -> reqwest::Response {
    app.client
        .post(app.url("/api/v0/login"))
        .bearer_auth(personal_token)
        .send()
        .await
        .unwrap()
}

/// `POST /auth/token` with an email and account secret key.
pub async fn auth_token(app: &TestApp, email: &str, secret_key: &str) -> reqwest::Response {
    app.client
        .post(app.url("/auth/token"))
        .json(&json!({"email": email, "secretKey": secret_key}))
        .send()
        .await
        .unwrap()
}

/// RFC 8693 token exchange of a credential at `/oauth/token`.
pub async fn exchange_credential(
    app: &TestApp,
    credential: &str,
    scope: Option<&str>,
) -> reqwest::Response {
    let mut form = vec![
        (
            "grant_type",
            "urn:ietf:params:oauth:grant-type:token-exchange",
        ),
        ("subject_token", credential),
        (
            "subject_token_type",
            "urn:portcullis:params:oauth:token-type:credential",
        ),
    ];
    if let Some(s) = scope {
        form.push(("scope", s));
    }
    app.client
        .post(app.url("/oauth/token"))
        .form(&form)
        .send()
        .await
        .unwrap()
}

/// The access token of a successful token response.
pub async fn access_token(res: reqwest::Response) -> String {
    assert_eq!(res.status(), 200, "token response");
    let body: Value = res.json().await.unwrap();
    body["access_token"]
        .as_str()
        .or_else(|| body["token"].as_str())
        .unwrap()
        .to_owned()
}
