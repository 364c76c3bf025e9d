//! System credentials (seeds 000 and 001): CRUD, roles semantics, tokens carrying roles,
//! deletion, tenant isolation and permission checks.

use serde_json::{Value, json};

use crate::helpers::{TestApp, spawn_app};
use crate::seeds::{args, curl};

const DS: &str = "c1a7cb60-1731-4c0f-b966-165263c30896";
const CLIENTS: &str = "/api/v1/auth-management/clients";

async fn admin() -> (TestApp, String) {
    let app = spawn_app().await;
    app.signed_in_user().await;
    let token = app.session_token().await;
    (app, token)
}

async fn send(
    app: &TestApp,
    method: reqwest::Method,
    path: &str,
    bearer: &str,
    body: Option<Value>,
) -> (u16, Value) {
    let mut req = app
        .client
        .request(method, app.url(path))
        .bearer_auth(bearer);
    if let Some(b) = body {
        req = req.json(&b);
    }
    let res = req.send().await.unwrap();
    let status = res.status().as_u16();
    let text = res.text().await.unwrap();
    (
        status,
        if text.is_empty() {
            Value::Null
        } else {
            serde_json::from_str(&text).unwrap()
        },
    )
}

async fn create(app: &TestApp, bearer: &str, body: Value) -> Value {
    let (status, b) = send(app, reqwest::Method::POST, CLIENTS, bearer, Some(body)).await;
    assert_eq!(status, 201, "{b}");
    b
}

async fn login(app: &TestApp, id: &str, secret: &str) -> reqwest::Response {
    app.client
        .post(app.url("/api/v0/login"))
        .basic_auth(id, Some(secret))
        .json(&json!({"grant_type": "client_credentials"}))
        .send()
        .await
        .unwrap()
}

fn claims_of(token: &str) -> Value {
    use base64::Engine as _;
    let payload = token.split('.').nth(1).unwrap();
    serde_json::from_slice(
        &base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(payload)
            .unwrap(),
    )
    .unwrap()
}

#[tokio::test]
async fn the_secret_is_returned_only_at_creation() {
    let (app, admin) = admin().await;
    let created = create(
        &app,
        &admin,
        json!({"name": "My OAuth Client", "roles": [{"role_id": "admin"}]}),
    )
    .await;
    let id = created["client_id"].as_str().unwrap();
    let secret = created["client_secret"].as_str().unwrap();
    assert!(secret.starts_with("sys_"));
    assert_eq!(created["name"], "My OAuth Client");
    assert_eq!(created["roles"], json!([{"role_id": "admin"}]));
    assert_eq!(created["full_access"], false);

    let (status, list) = send(&app, reqwest::Method::GET, CLIENTS, &admin, None).await;
    assert_eq!(status, 200);
    assert_eq!(list["data"].as_array().unwrap().len(), 1);
    assert!(!list.to_string().contains(secret));
    let (status, one) = send(
        &app,
        reqwest::Method::GET,
        &format!("{CLIENTS}/{id}"),
        &admin,
        None,
    )
    .await;
    assert_eq!(status, 200);
    assert!(one.get("client_secret").is_none());
    assert_eq!(one["client_id"], id);
}

#[tokio::test]
async fn login_with_system_credentials_gives_a_token_carrying_roles() {
    let (app, admin) = admin().await;
    let created = create(&app, &admin, json!({"name": "etl", "roles": [{"role_id": "editor", "resource": "dataset", "resource_instance": DS}, {"role_id": "viewer"}]})).await;
    let (id, secret) = (
        created["client_id"].as_str().unwrap(),
        created["client_secret"].as_str().unwrap(),
    );
    let res = login(&app, id, secret).await;
    assert_eq!(res.status(), 200);
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["token_type"], "Bearer");
    assert_eq!(body["expires_in"], 3600);
    let token = body["access_token"].as_str().unwrap();
    let claims = crate::oauth::verify_with_jwks(&app, token).await;
    assert_eq!(
        claims["roles"],
        json!([{"role": "editor", "resource": "dataset", "resource_instance": DS}, {"role": "viewer", "resource": null, "resource_instance": null}])
    );
    assert_eq!(claims["full_access"], false);
    assert_eq!(claims["sub"], id);

    // Introspection returns them too.
    let rs = crate::oauth_helpers::resource_server(&app).await;
    let info = crate::oauth_helpers::introspect(&app, &rs, token).await;
    assert_eq!(info["active"], true);
    assert_eq!(info["roles"], claims["roles"]);
    assert_eq!(info["full_access"], false);

    // The same credentials work at the token endpoint.
    let res = app
        .client
        .post(app.url("/oauth/token"))
        .basic_auth(id, Some(secret))
        .form(&[("grant_type", "client_credentials")])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let at: Value = res.json().await.unwrap();
    assert_eq!(
        claims_of(at["access_token"].as_str().unwrap())["roles"],
        claims["roles"]
    );
}

#[tokio::test]
async fn no_roles_means_full_access_and_says_so() {
    let (app, admin) = admin().await;
    let created = create(&app, &admin, json!({"name": "root"})).await;
    assert_eq!(created["roles"], json!([]));
    assert_eq!(created["full_access"], true);
    let token = login(
        &app,
        created["client_id"].as_str().unwrap(),
        created["client_secret"].as_str().unwrap(),
    )
    .await
    .json::<Value>()
    .await
    .unwrap();
    let claims = claims_of(token["access_token"].as_str().unwrap());
    assert_eq!(claims["roles"], json!([]));
    assert_eq!(claims["full_access"], true);
}

#[tokio::test]
async fn update_without_roles_grants_full_access_even_after_roles() {
    let (app, admin) = admin().await;
    let created = create(
        &app,
        &admin,
        json!({"name": "c", "roles": [{"role_id": "admin"}]}),
    )
    .await;
    let id = created["client_id"].as_str().unwrap();
    for body in [
        json!({"name": "renamed"}),
        json!({"name": "renamed", "roles": null}),
    ] {
        send(
            &app,
            reqwest::Method::PUT,
            &format!("{CLIENTS}/{id}"),
            &admin,
            Some(json!({"roles": [{"role_id": "viewer"}]})),
        )
        .await;
        let (status, updated) = send(
            &app,
            reqwest::Method::PUT,
            &format!("{CLIENTS}/{id}"),
            &admin,
            Some(body),
        )
        .await;
        assert_eq!(status, 200);
        assert_eq!(updated["name"], "renamed");
        assert_eq!(updated["roles"], json!([]));
        assert_eq!(updated["full_access"], true);
        assert!(
            updated["notice"].as_str().unwrap().contains("full access"),
            "says so plainly"
        );
    }
    // Name absent keeps the name; a no-op on an already-full credential carries no notice.
    let (_, again) = send(
        &app,
        reqwest::Method::PUT,
        &format!("{CLIENTS}/{id}"),
        &admin,
        Some(json!({})),
    )
    .await;
    assert_eq!(again["name"], "renamed");
    assert!(again.get("notice").is_none());
}

#[tokio::test]
async fn roles_context_limits_the_update_to_that_context() {
    let (app, admin) = admin().await;
    let other = "0b7e6c2a-5d0c-4f7e-9f0e-6f1f2a3b4c5d";
    let created = create(
        &app,
        &admin,
        json!({"name": "c", "roles": [
            {"role_id": "admin"},
            {"role_id": "editor", "resource": "dataset", "resource_instance": DS},
            {"role_id": "viewer", "resource": "dataset", "resource_instance": other},
        ]}),
    )
    .await;
    let id = created["client_id"].as_str().unwrap();
    let (status, updated) = send(
        &app,
        reqwest::Method::PUT,
        &format!("{CLIENTS}/{id}"),
        &admin,
        Some(json!({
            "roles": [{"role_id": "viewer", "resource": "dataset", "resource_instance": DS}],
            "roles_context": format!("dataset:{DS}"),
        })),
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(
        updated["roles"],
        json!([
            {"role_id": "admin"},
            {"role_id": "viewer", "resource": "dataset", "resource_instance": other},
            {"role_id": "viewer", "resource": "dataset", "resource_instance": DS},
        ])
    );
    // Clearing the system context leaves the dataset roles.
    let (_, cleared) = send(
        &app,
        reqwest::Method::PUT,
        &format!("{CLIENTS}/{id}"),
        &admin,
        Some(json!({"roles_context": "system"})),
    )
    .await;
    assert_eq!(cleared["roles"].as_array().unwrap().len(), 2);
    assert_eq!(cleared["full_access"], false);
    // A role outside the context is refused.
    let (status, err) = send(
        &app,
        reqwest::Method::PUT,
        &format!("{CLIENTS}/{id}"),
        &admin,
        Some(json!({"roles": [{"role_id": "admin"}], "roles_context": format!("dataset:{DS}")})),
    )
    .await;
    assert_eq!(status, 422);
    assert!(err["error"]["fields"]["roles"].is_string());
}

#[tokio::test]
async fn bad_input_gets_422_with_the_field_unknown_ids_404() {
    let (app, admin) = admin().await;
    let cases = [
        (json!({"name": "", "roles": []}), "name"),
        (json!({"name": "x".repeat(101)}), "name"),
        (
            json!({"name": "c", "roles": [{"role_id": "owner"}]}),
            "roles",
        ),
        (
            json!({"name": "c", "roles": [{"role_id": "admin", "resource": "dataset", "resource_instance": "not-a-uuid"}]}),
            "roles",
        ),
        (
            json!({"name": "c", "roles": [{"role_id": "admin", "resource": "dataset"}]}),
            "roles",
        ),
    ];
    for (body, field) in cases {
        let (status, err) = send(
            &app,
            reqwest::Method::POST,
            CLIENTS,
            &admin,
            Some(body.clone()),
        )
        .await;
        assert_eq!(status, 422, "{body}");
        assert_eq!(err["error"]["code"], "validation_failed");
        assert!(err["error"]["fields"][field].is_string(), "{body} -> {err}");
    }
    let (status, err) = send(
        &app,
        reqwest::Method::POST,
        CLIENTS,
        &admin,
        Some(json!({"name": "c", "roles": "admin"})),
    )
    .await;
    assert_eq!(status, 422, "wrong JSON shape: {err}");
    assert_eq!(err["error"]["code"], "validation_failed");

    let id = create(&app, &admin, json!({"name": "c"})).await["client_id"]
        .as_str()
        .unwrap()
        .to_owned();
    for ctx in ["dataset", "dataset:123", "everything"] {
        let (status, err) = send(
            &app,
            reqwest::Method::PUT,
            &format!("{CLIENTS}/{id}"),
            &admin,
            Some(json!({"roles": [], "roles_context": ctx})),
        )
        .await;
        assert_eq!(status, 422, "{ctx}");
        assert!(err["error"]["fields"]["roles_context"].is_string());
    }
    for (method, body) in [
        (reqwest::Method::GET, None),
        (reqwest::Method::PUT, Some(json!({"name": "x"}))),
        (reqwest::Method::DELETE, None),
    ] {
        let (status, err) = send(&app, method, &format!("{CLIENTS}/sys_nope"), &admin, body).await;
        assert_eq!(status, 404);
        assert_eq!(err["error"]["code"], "not_found");
    }
}

#[tokio::test]
async fn deleting_stops_the_credential_and_its_tokens_at_once() {
    let (app, admin) = admin().await;
    let created = create(&app, &admin, json!({"name": "c"})).await;
    let (id, secret) = (
        created["client_id"].as_str().unwrap(),
        created["client_secret"].as_str().unwrap(),
    );
    let token = login(&app, id, secret).await.json::<Value>().await.unwrap()["access_token"]
        .as_str()
        .unwrap()
        .to_owned();
    let rs = crate::oauth_helpers::resource_server(&app).await;
    assert_eq!(
        crate::oauth_helpers::introspect(&app, &rs, &token).await["active"],
        true
    );
    let (status, _) = send(
        &app,
        reqwest::Method::DELETE,
        &format!("{CLIENTS}/{id}"),
        &admin,
        None,
    )
    .await;
    assert_eq!(status, 204);
    let res = login(&app, id, secret).await;
    assert_eq!(res.status(), 401);
    let err: Value = res.json().await.unwrap();
    assert_eq!(
        err["error"]["code"], "authentication_failed",
        "REST shape, not OAuth's"
    );
    assert_eq!(
        crate::oauth_helpers::introspect(&app, &rs, &token).await["active"],
        false
    );
    let (status, _) = send(
        &app,
        reqwest::Method::GET,
        &format!("{CLIENTS}/{id}"),
        &admin,
        None,
    )
    .await;
    assert_eq!(status, 404);
}

#[tokio::test]
async fn login_failures_answer_in_the_rest_shape() {
    let (app, admin) = admin().await;
    let created = create(&app, &admin, json!({"name": "c"})).await;
    let id = created["client_id"].as_str().unwrap();
    let wrong = portcullis::domain::secret_format::generate(
        portcullis::domain::secret_format::Kind::SystemSecret,
    );
    for (user, pass) in [
        (id, wrong.as_str()),
        ("sys_unknown", created["client_secret"].as_str().unwrap()),
        (id, "garbage"),
    ] {
        let res = login(&app, user, pass).await;
        assert_eq!(res.status(), 401);
        let err: Value = res.json().await.unwrap();
        assert_eq!(err["error"]["code"], "authentication_failed");
        assert_eq!(err["error"]["status"], 401);
    }
    let res = app
        .client
        .post(app.url("/api/v0/login"))
        .basic_auth(id, created["client_secret"].as_str())
        .json(&json!({"grant_type": "password"}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 422);
    // An OAuth app's credentials are not system credentials.
    let app_client = crate::oauth_helpers::register(
        &app,
        "read",
        false,
        &[portcullis::domain::client::GrantType::ClientCredentials],
    )
    .await;
    assert_eq!(
        login(&app, &app_client.id, app_client.secret.as_deref().unwrap())
            .await
            .status(),
        401
    );
}

#[tokio::test]
async fn only_tenant_administrators_manage_system_credentials() {
    let (app, admin) = admin().await;
    let id = create(&app, &admin, json!({"name": "c"})).await["client_id"]
        .as_str()
        .unwrap()
        .to_owned();
    // A read-only API key of the same admin lacks the admin permission.
    let (_, key) = send(
        &app,
        reqwest::Method::POST,
        "/api/v1/active/api-keys",
        &admin,
        Some(json!({"name": "ro", "permissions": ["read"]})),
    )
    .await;
    let ro = key["key"].as_str().unwrap();
    for (method, path) in [
        (reqwest::Method::GET, CLIENTS.to_owned()),
        (reqwest::Method::POST, CLIENTS.to_owned()),
        (reqwest::Method::DELETE, format!("{CLIENTS}/{id}")),
    ] {
        let (status, err) = send(&app, method, &path, ro, Some(json!({"name": "x"}))).await;
        assert_eq!(status, 403, "{path}");
        assert_eq!(err["error"]["code"], "insufficient_permissions");
    }
    // A member who is not the tenant's admin: another person, in their own tenant, sees nothing of ours.
    let other = TestApp::with_client(&app, crate::helpers::client());
    other.signed_in_user().await;
    let theirs = other.session_token().await;
    let (status, list) = send(&other, reqwest::Method::GET, CLIENTS, &theirs, None).await;
    assert_eq!(status, 200, "administrator of their own personal tenant");
    assert!(
        list["data"].as_array().unwrap().is_empty(),
        "tenant isolation"
    );
    let (status, _) = send(
        &other,
        reqwest::Method::GET,
        &format!("{CLIENTS}/{id}"),
        &theirs,
        None,
    )
    .await;
    assert_eq!(status, 404);
    let (status, _) = send(
        &other,
        reqwest::Method::PUT,
        &format!("{CLIENTS}/{id}"),
        &theirs,
        Some(json!({"name": "stolen"})),
    )
    .await;
    assert_eq!(status, 404);
    let (status, _) = send(
        &other,
        reqwest::Method::DELETE,
        &format!("{CLIENTS}/{id}"),
        &theirs,
        None,
    )
    .await;
    assert_eq!(status, 404);
    // A system credential's own token cannot manage credentials for a user.
    let created = create(&app, &admin, json!({"name": "machine"})).await;
    let token = login(
        &app,
        created["client_id"].as_str().unwrap(),
        created["client_secret"].as_str().unwrap(),
    )
    .await
    .json::<Value>()
    .await
    .unwrap();
    let (status, _) = send(
        &app,
        reqwest::Method::GET,
        "/api/v1/active/api-keys",
        token["access_token"].as_str().unwrap(),
        None,
    )
    .await;
    assert_eq!(status, 403);
}

#[tokio::test]
async fn seed_001_update_example_works_with_curl() {
    let (app, admin) = admin().await;
    let id = create(&app, &admin, json!({"name": "c"})).await["client_id"]
        .as_str()
        .unwrap()
        .to_owned();
    let body = r#"{
  "name": "My OAuth Client",
  "roles": [
    {
      "role_id": "admin"
    }
  ]
}"#;
    let out = curl(args![
            "-X",
            "PUT",
            format!("{}/api/v1/auth-management/clients/{id}", app.address),
            "-H",
            format!("Authorization: Bearer {admin}"),
            "-H",
            "Content-Type: application/json",
            "-d",
            body,
        ])
    .await;
    assert_eq!(out.status, 200);
    let body = out.json();
    assert_eq!(body["client_id"], id.as_str());
    assert_eq!(body["name"], "My OAuth Client");
    assert_eq!(body["roles"], json!([{"role_id": "admin"}]));
}

#[tokio::test]
async fn seed_000_client_credentials_example_works_with_curl() {
    let (app, admin) = admin().await;
    let created = create(&app, &admin, json!({"name": "c"})).await;
    let out = curl(args![
            "--request",
            "POST",
            format!("{}/api/v0/login", app.address),
            "-u",
            format!(
                "{}:{}",
                created["client_id"].as_str().unwrap(),
                created["client_secret"].as_str().unwrap()
            ),
            "--header",
            "Content-Type: application/json",
            "--data",
            r#"{"grant_type": "client_credentials"}"#,
        ])
    .await;
    assert_eq!(out.status, 200);
    let body = out.json();
    assert_eq!(body["token_type"], "Bearer");
    assert_eq!(body["expires_in"], 3600);
    assert!(body["access_token"].as_str().unwrap().split('.').count() == 3);
}
