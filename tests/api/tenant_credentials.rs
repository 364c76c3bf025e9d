//! Who may manage credentials: a tenant's administrators list and revoke any member's
//! credentials (API and page), members see only their own, and tokens that OAuth apps obtained
//! manage nothing unless an administrator marked the app first-party.

use reqwest::Method;
use serde_json::{Value, json};

use crate::helpers::{TestApp, client, csrf_token, spawn_app};
use crate::oauth_helpers::{self, REDIRECT};
use crate::tenancy::*;

struct Team {
    owner: TestApp,
    owner_token: String,
    tenant: String,
    member: TestApp,
    member_token: String,
    member_key: String,
    member_key_id: String,
}

async fn team() -> Team {
    let owner = spawn_app().await;
    owner.signed_in_user().await;
    let tenant = create_tenant(&owner, "Acme").await;
    switch_to(&owner, &tenant).await;
    let owner_token = owner.session_token().await;
    let member = TestApp::with_client(&owner, client());
    let email = member.signed_in_user().await;
    join(&owner, &tenant, &member, &email, "editor").await;
    switch_to(&member, &tenant).await;
    let member_token = member.session_token().await;
    let (member_key_id, member_key) =
        crate::helpers::create_api_key(&member, &member_token, "editor-key", &["read", "write"])
            .await;
    Team {
        owner,
        owner_token,
        tenant,
        member,
        member_token,
        member_key,
        member_key_id,
    }
}

async fn me(app: &TestApp, bearer: &str) -> u16 {
    call(app, Method::GET, "/v1/users/me", bearer, None)
        .await
        .status()
        .as_u16()
}

#[tokio::test]
async fn members_cannot_list_or_revoke_each_others_credentials() {
    let t = team().await;
    let list = format!("/api/v1/{}/credentials", t.tenant);
    assert_eq!(
        call(&t.member, Method::GET, &list, &t.member_token, None)
            .await
            .status(),
        403
    );
    // Another member's key id is not one of theirs to revoke: nothing happens.
    let (owner_key_id, owner_key) =
        crate::helpers::create_api_key(&t.owner, &t.owner_token, "owner-key", &["read"]).await;
    let theirs = format!("/api/v1/{}/api-keys/{owner_key_id}", t.tenant);
    assert_eq!(
        call(&t.member, Method::DELETE, &theirs, &t.member_token, None)
            .await
            .status(),
        404
    );
    let admin_path = format!("/api/v1/{}/credentials/{owner_key_id}", t.tenant);
    assert_eq!(
        call(
            &t.member,
            Method::DELETE,
            &admin_path,
            &t.member_token,
            None
        )
        .await
        .status(),
        403
    );
    assert_eq!(me(&t.owner, &owner_key).await, 200);
    assert_eq!(t.member.get("/admin/credentials").await.status(), 403);
}

#[tokio::test]
async fn an_administrator_lists_and_revokes_a_members_credential_through_the_api() {
    let t = team().await;
    let list: Value = call(
        &t.owner,
        Method::GET,
        &format!("/api/v1/{}/credentials", t.tenant),
        &t.owner_token,
        None,
    )
    .await
    .json()
    .await
    .unwrap();
    let row = list["data"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["id"] == t.member_key_id.as_str())
        .expect("the member's key is listed");
    assert_eq!(row["kind"], "api_key");
    assert_eq!(row["permissions"], json!(["read", "write"]));
    assert!(row["owner"].as_str().unwrap().starts_with("usr_"));
    assert!(
        !list.to_string().contains(&t.member_key),
        "never the secret"
    );

    // Another tenant's administrator cannot reach it.
    let stranger = TestApp::with_client(&t.owner, client());
    stranger.signed_in_user().await;
    let stranger_token = stranger.session_token().await;
    let path = format!("/api/v1/{}/credentials/{}", t.tenant, t.member_key_id);
    assert_eq!(
        call(&stranger, Method::DELETE, &path, &stranger_token, None)
            .await
            .status(),
        404
    );
    assert_eq!(me(&t.member, &t.member_key).await, 200);

    assert_eq!(
        call(&t.owner, Method::DELETE, &path, &t.owner_token, None)
            .await
            .status(),
        204
    );
    assert_eq!(me(&t.member, &t.member_key).await, 401, "revoked at once");
    assert_eq!(
        call(&t.owner, Method::DELETE, &path, &t.owner_token, None)
            .await
            .status(),
        404,
        "only live credentials"
    );
}

#[tokio::test]
async fn an_administrator_revokes_a_members_credential_from_the_admin_page() {
    let t = team().await;
    let page = t.owner.get_html("/admin/credentials").await;
    assert!(page.contains(&format!("data-credential=\"{}\"", t.member_key_id)));
    assert!(page.contains("editor-key"));
    assert!(!page.contains(&t.member_key), "never the secret");
    let action = format!("/admin/credentials/{}/revoke", t.member_key_id);
    let forged = t
        .owner
        .client
        .post(t.owner.url(&action))
        .form(&[("csrf_token", "forged")])
        .send()
        .await
        .unwrap();
    assert_eq!(forged.status(), 403, "CSRF");
    assert_eq!(me(&t.member, &t.member_key).await, 200);
    let res = t.owner.post_form("/admin/credentials", &action, &[]).await;
    assert_eq!(res.status(), 303);
    assert_eq!(me(&t.member, &t.member_key).await, 401);
    let page = t.owner.get_html("/admin/credentials").await;
    assert!(!page.contains(&format!("data-credential=\"{}\"", t.member_key_id)));
}

async fn app_token(person: &TestApp, c: &oauth_helpers::TestClient) -> String {
    let (code, verifier) = oauth_helpers::obtain_code(person, c, "read admin").await;
    access_token(oauth_helpers::exchange(person, c, &code, &verifier).await).await
}

#[tokio::test]
async fn an_apps_token_mints_no_credential_and_what_it_could_see_dies_with_the_consent() {
    let app = spawn_app().await;
    app.signed_in_user().await;
    let c = oauth_helpers::confidential(&app).await;
    let token = app_token(&app, &c).await;
    let attempts = [
        (
            Method::POST,
            "/api/v1/active/api-keys",
            Some(json!({"name": "k", "permissions": ["read"]})),
        ),
        (
            Method::POST,
            "/api/v1/active/tokens/",
            Some(json!({"name": "t", "expiry_date": "2099-01-01T00:00:00Z"})),
        ),
        (Method::POST, "/api/v1/active/personal-token", None),
        (Method::PUT, "/user/generate_secret_key", None),
        (
            Method::POST,
            "/api/v1/auth-management/clients",
            Some(json!({"name": "s"})),
        ),
    ];
    for (method, path, body) in attempts {
        let res = call(&app, method, path, &token, body).await;
        assert_eq!(res.status(), 403, "{path}");
    }
    // Reading is what it was granted for.
    assert_eq!(
        call(&app, Method::GET, "/api/v1/active/api-keys", &token, None)
            .await
            .status(),
        200
    );
    // Revoking the app under Authorized apps ends its token.
    let page = app.get_html("/settings/authorized-apps").await;
    let res = app
        .client
        .post(app.url(&format!("/settings/authorized-apps/{}/revoke", c.id)))
        .form(&[("csrf_token", csrf_token(&page))])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 303);
    assert_eq!(me(&app, &token).await, 401);
}

#[tokio::test]
async fn a_first_party_apps_token_manages_the_persons_credentials() {
    let app = spawn_app().await;
    app.signed_in_user().await;
    let c = oauth_helpers::cli_client(
        &app,
        &[
            "--name",
            "Console",
            "--redirect-uri",
            REDIRECT,
            "--scope",
            "read admin",
            "--first-party",
        ],
    )
    .await;
    let token = app_token(&app, &c).await;
    let res = call(
        &app,
        Method::POST,
        "/api/v1/active/api-keys",
        &token,
        Some(json!({"name": "k", "permissions": ["read"]})),
    )
    .await;
    assert_eq!(res.status(), 201);
}
