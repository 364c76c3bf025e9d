//! Helpers of the invitation and member tests: a tenant with its administrator, other people,
//! and bearer-token requests.

#![allow(dead_code)]

use reqwest::Method;
use serde_json::{Value, json};

use crate::helpers::{TestApp, client, create_tenant, spawn_app, switch_to};

/// A request with a bearer token: status and raw body.
pub async fn send_raw(
    app: &TestApp,
    method: Method,
    path: &str,
    token: &str,
    body: Option<Value>,
) -> (u16, String) {
    let mut req = app.client.request(method, app.url(path)).bearer_auth(token);
    if let Some(b) = body {
        req = req.json(&b);
    }
    let res = req.send().await.unwrap();
    (res.status().as_u16(), res.text().await.unwrap())
}

/// A request with a bearer token: status and JSON body (null when empty).
pub async fn send(
    app: &TestApp,
    method: Method,
    path: &str,
    token: &str,
    body: Option<Value>,
) -> (u16, Value) {
    let (status, text) = send_raw(app, method, path, token, body).await;
    (status, serde_json::from_str(&text).unwrap_or(Value::Null))
}

/// A server whose first account (a server administrator) created Acme and holds a session
/// token bound to it.
pub struct World {
    pub app: TestApp,
    pub acme: String,
    pub admin: String,
}

/// A world on a fresh SQLite server.
pub async fn world() -> World {
    World::on(spawn_app().await).await
}

/// Another person, signed up in their own browser: (browser, email, session token).
pub async fn person(app: &TestApp) -> (TestApp, String, String) {
    let other = TestApp::with_client(app, client());
    let email = other.signed_in_user().await;
    let token = other.session_token().await;
    (other, email, token)
}

impl World {
    /// A world on `app`, a fresh server.
    pub async fn on(app: TestApp) -> World {
        app.signed_in_user().await;
        let acme = create_tenant(&app, "Acme").await;
        switch_to(&app, &acme).await;
        let admin = app.session_token().await;
        World { app, acme, admin }
    }

    /// Invites through the API with `token`: status and raw body.
    pub async fn invite(&self, token: &str, email: &str, role: &str) -> (u16, String) {
        let path = format!("/api/v1/{}/invitations", self.acme);
        let body = json!({"email": email, "role": role});
        send_raw(&self.app, Method::POST, &path, token, Some(body)).await
    }

    /// Invites on the tenant's admin page.
    pub async fn invite_page(&self, email: &str, role: &str) -> reqwest::Response {
        let page = format!("/admin/tenants/{}", self.acme);
        let action = format!("{page}/invitations");
        self.app
            .post_form(&page, &action, &[("email", email), ("role", role)])
            .await
    }

    /// Acme's pending invitations, as its administrator lists them.
    pub async fn pending(&self) -> Vec<Value> {
        let path = format!("/api/v1/{}/invitations", self.acme);
        let (status, body) = send(&self.app, Method::GET, &path, &self.admin, None).await;
        assert_eq!(status, 200);
        body["data"].as_array().unwrap().clone()
    }

    /// Acme's members, as its administrator lists them.
    pub async fn members(&self) -> Vec<Value> {
        let path = format!("/api/v1/{}/members", self.acme);
        let (status, body) = send(&self.app, Method::GET, &path, &self.admin, None).await;
        assert_eq!(status, 200);
        body["data"].as_array().unwrap().clone()
    }
}

/// The caller's pending invitations.
pub async fn mine(app: &TestApp, token: &str) -> Vec<Value> {
    let (status, body) = send(app, Method::GET, "/api/v1/invitations", token, None).await;
    assert_eq!(status, 200);
    body["data"].as_array().unwrap().clone()
}

/// The caller's `usr_…` id.
pub async fn user_id(app: &TestApp, token: &str) -> String {
    let (_, me) = send(app, Method::GET, "/v1/users/me", token, None).await;
    me["data"]["id"].as_str().unwrap().to_owned()
}

/// The status of a request with a bearer token.
pub async fn status(
    app: &TestApp,
    method: Method,
    path: &str,
    token: &str,
    body: Option<Value>,
) -> u16 {
    send_raw(app, method, path, token, body).await.0
}

/// The `id` field of a listed item.
pub fn id_of(item: &Value) -> String {
    item["id"].as_str().unwrap().to_owned()
}
