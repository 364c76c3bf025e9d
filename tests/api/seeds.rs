//! The seed documents' own curl examples (`/work/shared/seeds/`), run with the real `curl`
//! binary against the test server: only the host is replaced, and placeholders are filled with
//! real values obtained in the test. Each test checks the status code and the body's shape.
//!
//! The system-credential examples of seeds 000 and 001 (Basic auth at `/api/v0/login`,
//! `/api/v1/auth-management/clients`) are in `system_credentials.rs`, which uses `curl` from here.

use serde_json::{Value, json};

use crate::helpers::{TestApp, spawn_app};

const CURL: &str = "/usr/bin/curl";

/// What curl printed: the status code (from `-w '\n%{http_code}'`) and the body.
pub(crate) struct Curled {
    pub(crate) status: u16,
    pub(crate) body: String,
}

impl Curled {
    pub(crate) fn json(&self) -> Value {
        serde_json::from_str(&self.body)
            .unwrap_or_else(|e| panic!("not JSON ({e}): {:?}", self.body))
    }
}

/// Runs `curl -s <args> -w '\n%{http_code}'` off the async runtime and splits its output.
pub(crate) async fn curl(args: Vec<String>) -> Curled {
    let shown = args.join(" ");
    let out = tokio::task::spawn_blocking(move || {
        std::process::Command::new(CURL)
            .arg("-s")
            .arg("--max-time")
            .arg("30")
            .args(&args)
            .arg("-w")
            .arg("\n%{http_code}")
            .output()
            .expect("run curl")
    })
    .await
    .unwrap();
    assert!(out.status.success(), "curl failed: {shown}: {out:?}");
    let text = String::from_utf8(out.stdout).unwrap();
    let (body, code) = text.rsplit_once('\n').expect("status line");
    Curled {
        status: code.trim().parse().expect("status code"),
        body: body.to_owned(),
    }
}

/// Builds an argument list from string-ish pieces.
macro_rules! args {
    ($($a:expr),* $(,)?) => { vec![$(String::from($a)),*] };
}
pub(crate) use args;

/// Checks the house error shape `{"error":{"code","message","status"}}`.
fn assert_error_shape(res: &Curled, status: u16, code: &str) -> Value {
    assert_eq!(res.status, status, "{}", res.body);
    let b = res.json();
    assert_eq!(b["error"]["code"], code, "{b}");
    assert_eq!(b["error"]["status"], status, "{b}");
    assert!(
        b["error"]["message"]
            .as_str()
            .is_some_and(|m| !m.is_empty()),
        "{b}"
    );
    assert_eq!(b.as_object().unwrap().len(), 1, "only `error`: {b}");
    b
}

/// Checks seed 002's success body of `GET /v1/users/me`: `{"data":{"id","email","name"}}`.
fn assert_user_me(res: &Curled, email: &str) {
    assert_eq!(res.status, 200, "{}", res.body);
    let b = res.json();
    let data = &b["data"];
    assert!(
        data["id"].as_str().is_some_and(|id| id.starts_with("usr_")),
        "{b}"
    );
    assert_eq!(data["email"], email, "{b}");
    assert_eq!(data["name"], "Test User", "{b}");
}

/// A signed-in person and a 1-hour session token (the value seed 003 copies from the browser).
async fn person() -> (TestApp, String, String) {
    let app = spawn_app().await;
    let email = app.signed_in_user().await;
    let session = app.session_token().await;
    (app, email, session)
}

/// An API key created through the API with the session token: (id, key).
async fn api_key(app: &TestApp, session: &str) -> (String, String) {
    crate::helpers::create_api_key(app, session, "Production Integration", &["read", "write"]).await
}

/// Seed 002, "Verify Your Key": `curl -X GET "$HOST/v1/users/me" -H "Authorization: Bearer …"`.
async fn users_me(app: &TestApp, bearer: &str) -> Curled {
    curl(args![
        "-X",
        "GET",
        app.url("/v1/users/me"),
        "-H",
        format!("Authorization: Bearer {bearer}"),
    ])
    .await
}

// ---------------------------------------------------------------- seed 002: API keys

#[tokio::test]
async fn seed_002_users_me_with_an_api_key_answers_200_with_id_email_and_name() {
    let (app, email, session) = person().await;
    let (_, key) = api_key(&app, &session).await;
    assert!(key.starts_with("ck_live_"));
    let res = users_me(&app, &key).await;
    assert_user_me(&res, &email);
}

#[tokio::test]
async fn seed_002_users_me_with_a_revoked_api_key_answers_401_authentication_failed() {
    let (app, _email, session) = person().await;
    let (id, key) = api_key(&app, &session).await;
    assert_eq!(users_me(&app, &key).await.status, 200);
    let res = app
        .client
        .delete(app.url(&format!("/api/v1/active/api-keys/{id}")))
        .bearer_auth(&session)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 204);

    let res = users_me(&app, &key).await;
    let b = assert_error_shape(&res, 401, "authentication_failed");
    assert!(
        b["error"]["message"].as_str().unwrap().contains("revoked"),
        "{b}"
    );
}

#[tokio::test]
async fn seed_002_users_me_with_the_seeds_example_key_answers_the_seeds_example_error() {
    let app = spawn_app().await;
    let res = users_me(&app, "ck_live_abc123xyz789").await;
    let b = assert_error_shape(&res, 401, "authentication_failed");
    // The seed's example, field for field (the server may add fields such as a request id).
    assert_eq!(b["error"]["message"], "Invalid API key provided", "{b}");
}

// ---------------------------------------------------------------- seed 002: OAuth 2.0

#[tokio::test]
async fn seed_002_code_exchange_and_refresh_with_client_secret_post_answer_the_seeds_shape() {
    use crate::oauth_helpers::{REDIRECT, confidential, obtain_code};
    let (app, email, _session) = person().await;
    let c = confidential(&app).await;
    let secret = c.secret.clone().unwrap();
    let (code, verifier) = obtain_code(&app, &c, "read write").await;

    // The seed's token exchange, plus the PKCE verifier the authorization request used.
    let res = curl(args![
        "-X",
        "POST",
        app.url("/oauth/token"),
        "-H",
        "Content-Type: application/x-www-form-urlencoded",
        "-d",
        "grant_type=authorization_code",
        "-d",
        format!("client_id={}", c.id),
        "-d",
        format!("client_secret={secret}"),
        "-d",
        format!("code={code}"),
        "-d",
        format!("redirect_uri={REDIRECT}"),
        "-d",
        format!("code_verifier={verifier}"),
    ])
    .await;
    assert_eq!(res.status, 200, "{}", res.body);
    let tokens = res.json();
    assert_eq!(tokens["token_type"], "Bearer");
    assert_eq!(tokens["expires_in"], 3600);
    assert_eq!(tokens["scope"], "read write");
    let access = tokens["access_token"].as_str().unwrap().to_owned();
    let refresh = tokens["refresh_token"].as_str().unwrap().to_owned();
    assert!(!access.is_empty() && !refresh.is_empty());

    // "Using Access Tokens".
    assert_user_me(&users_me(&app, &access).await, &email);

    // "Refreshing Tokens".
    let res = curl(args![
        "-X",
        "POST",
        app.url("/oauth/token"),
        "-H",
        "Content-Type: application/x-www-form-urlencoded",
        "-d",
        "grant_type=refresh_token",
        "-d",
        format!("client_id={}", c.id),
        "-d",
        format!("client_secret={secret}"),
        "-d",
        format!("refresh_token={refresh}"),
    ])
    .await;
    assert_eq!(res.status, 200, "{}", res.body);
    let refreshed = res.json();
    assert_eq!(refreshed["token_type"], "Bearer");
    assert_eq!(refreshed["expires_in"], 3600);
    assert_eq!(refreshed["scope"], "read write");
    let new_access = refreshed["access_token"].as_str().unwrap();
    let new_refresh = refreshed["refresh_token"].as_str().unwrap();
    assert_ne!(new_refresh, refresh, "refresh tokens rotate");
    assert_user_me(&users_me(&app, new_access).await, &email);
}

// ---------------------------------------------------------------- seed 003: sk- tokens

#[tokio::test]
async fn seed_003_create_list_use_and_revoke_an_sk_token_with_curl() {
    let (app, email, session) = person().await;
    let expiry = "2099-12-31T23:59:59Z";

    // Create: what Swagger UI's "Try it out" sends for POST /api/v1/{tenant_id}/tokens/.
    let res = curl(args![
        "-X",
        "POST",
        app.url("/api/v1/active/tokens/"),
        "-H",
        "accept: application/json",
        "-H",
        format!("Authorization: Bearer {session}"),
        "-H",
        "Content-Type: application/json",
        "-d",
        format!(r#"{{"name": "my-api-token", "expiry_date": "{expiry}"}}"#),
    ])
    .await;
    assert_eq!(res.status, 201, "{}", res.body);
    let created = res.json();
    let mut keys: Vec<&str> = created
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    keys.sort_unstable();
    assert_eq!(keys, ["expiry_date", "id", "name", "token"]);
    assert_eq!(created["name"], "my-api-token");
    assert_eq!(created["expiry_date"], expiry);
    let id = created["id"].as_str().unwrap().to_owned();
    let token = created["token"].as_str().unwrap().to_owned();
    assert!(token.starts_with("sk-"));

    // Use: the token as a bearer credential.
    assert_user_me(&users_me(&app, &token).await, &email);

    // List: id, name and expiry date, never the token.
    let res = curl(args![
        "-X",
        "GET",
        app.url("/api/v1/active/tokens/"),
        "-H",
        "accept: application/json",
        "-H",
        format!("Authorization: Bearer {session}"),
    ])
    .await;
    assert_eq!(res.status, 200, "{}", res.body);
    assert_eq!(
        res.json()["data"],
        json!([{"id": id, "name": "my-api-token", "expiry_date": expiry}])
    );
    assert!(!res.body.contains(&token), "the token is never listed");

    // Revoke: deleted at once.
    let res = curl(args![
        "-X",
        "DELETE",
        app.url(&format!("/api/v1/active/tokens/{id}")),
        "-H",
        "accept: application/json",
        "-H",
        format!("Authorization: Bearer {session}"),
    ])
    .await;
    assert_eq!(res.status, 204, "{}", res.body);
    assert!(res.body.is_empty());
    assert_error_shape(&users_me(&app, &token).await, 401, "authentication_failed");
    let res = curl(args![
        "-X",
        "GET",
        app.url("/api/v1/active/tokens/"),
        "-H",
        format!("Authorization: Bearer {session}"),
    ])
    .await;
    assert_eq!(res.json()["data"], json!([]));
}

// ---------------------------------------------------------------- seed 000: personal token

#[tokio::test]
async fn seed_000_login_with_a_personal_token_answers_a_one_hour_bearer_token() {
    let (app, email, session) = person().await;
    let res = app
        .client
        .post(app.url("/api/v1/active/personal-token"))
        .bearer_auth(&session)
        .json(&json!({}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 201);
    let personal: Value = res.json().await.unwrap();
    let personal = personal["token"].as_str().unwrap().to_owned();

    let res = curl(args![
        "--request",
        "POST",
        app.url("/api/v0/login"),
        "--header",
        format!("Authorization: Bearer {personal}"),
    ])
    .await;
    assert_eq!(res.status, 200, "{}", res.body);
    let b = res.json();
    let mut keys: Vec<&str> = b.as_object().unwrap().keys().map(String::as_str).collect();
    keys.sort_unstable();
    assert_eq!(keys, ["access_token", "expires_in", "token_type"]);
    assert_eq!(b["token_type"], "Bearer");
    assert_eq!(b["expires_in"], 3600);

    // "Using the Access Token".
    assert_user_me(
        &users_me(&app, b["access_token"].as_str().unwrap()).await,
        &email,
    );
}

// ---------------------------------------------------------------- seed 004: secret key

#[tokio::test]
async fn seed_004_generate_exchange_and_delete_the_secret_key_with_curl() {
    let (app, email, session) = person().await;

    let res = curl(args![
        "-X",
        "PUT",
        app.url("/user/generate_secret_key"),
        "-H",
        "accept: application/json",
        "-H",
        format!("Authorization: Bearer {session}"),
    ])
    .await;
    assert_eq!(res.status, 200, "{}", res.body);
    let b = res.json();
    assert_eq!(b.as_object().unwrap().len(), 1, "{b}");
    let secret = b["secretKey"].as_str().unwrap().to_owned();
    assert!(!secret.is_empty());

    let token_request = |secret: &str| {
        args![
            "-X",
            "POST",
            app.url("/auth/token"),
            "-H",
            "accept: application/json",
            "-H",
            "Content-Type: application/json",
            "-d",
            format!(r#"{{"email": "{email}", "secretKey": "{secret}"}}"#),
        ]
    };

    let res = curl(token_request(&secret)).await;
    assert_eq!(res.status, 200, "{}", res.body);
    let b = res.json();
    assert_eq!(b.as_object().unwrap().len(), 1, "{b}");
    let token = b["token"].as_str().unwrap().to_owned();
    assert_user_me(&users_me(&app, &token).await, &email);

    // "401 Unauthorized indicates that the email address or secret key is invalid".
    let res = curl(token_request("usk_not-the-right-key")).await;
    assert_error_shape(&res, 401, "authentication_failed");

    let res = curl(args![
        "-X",
        "DELETE",
        app.url("/user/delete_secret_key"),
        "-H",
        "accept: application/json",
        "-H",
        format!("Authorization: Bearer {session}"),
    ])
    .await;
    assert_eq!(res.status, 204, "{}", res.body);
    assert!(res.body.is_empty());

    // The deleted key no longer logs in.
    let res = curl(token_request(&secret)).await;
    assert_error_shape(&res, 401, "authentication_failed");
}
