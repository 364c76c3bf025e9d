//! Opaque access tokens: a client whose `access_token_format` is `opaque` gets `at_` tokens from
//! every grant, which introspect, authenticate, revoke, expire and die with their family exactly
//! as its JWTs would; the database keeps only their keyed hash; the format is set on the app's
//! page and with `portcullis client create|set --token-format`, and stays JWT by default.
//! (`opaque_revocation` covers the family, app and account events that end them.)

use std::process::Output;

use portcullis::domain::client::{GrantType, NewClient};
use portcullis::domain::client_settings::AccessTokenFormat;
use sea_orm::{ConnectionTrait, Statement};
use serde_json::Value;

use crate::helpers::{TestApp, spawn_app, spawn_app_with, sqlite_only};
use crate::oauth_helpers::*;

/// A confidential client with opaque access tokens and every grant.
pub(crate) async fn opaque_client(app: &TestApp) -> TestClient {
    register_new(
        app,
        NewClient {
            name: "Opaque App".into(),
            redirect_uris: vec![REDIRECT.into()],
            scope: "read write".into(),
            grants: vec![
                GrantType::AuthorizationCode,
                GrantType::RefreshToken,
                GrantType::ClientCredentials,
            ],
            access_token_format: AccessTokenFormat::Opaque,
            ..NewClient::default()
        },
    )
    .await
}

/// Asserts `token` is an opaque token, not a JWT.
pub(crate) fn assert_opaque(token: &str) {
    assert!(token.starts_with("at_"), "{}", &token[..8]);
    assert!(!token.contains('.'), "no JWT dots");
    assert_eq!(token.len(), 3 + 43 + 6);
}

/// A signed-in person's code for `c`, exchanged: the token response.
pub(crate) async fn code_tokens(app: &TestApp, c: &TestClient) -> Value {
    let (code, verifier) = obtain_code(app, c, "read").await;
    let res = exchange(app, c, &code, &verifier).await;
    assert_eq!(res.status(), 200);
    json(res).await
}

pub(crate) fn token_of(body: &Value) -> String {
    body["access_token"].as_str().unwrap().to_owned()
}

pub(crate) async fn me(app: &TestApp, token: &str) -> reqwest::Response {
    let req = app.client.get(app.url("/v1/users/me")).bearer_auth(token);
    req.send().await.unwrap()
}

pub(crate) async fn revoke(app: &TestApp, c: &TestClient, token: &str) {
    let res = app
        .client
        .post(app.url("/oauth/revoke"))
        .header("authorization", c.basic())
        .form(&[("token", token)])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
}

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

#[tokio::test]
async fn an_opaque_client_gets_at_tokens_from_client_credentials_that_introspect_like_jwts() {
    let app = spawn_app().await;
    let rs = resource_server(&app).await;
    let c = opaque_client(&app).await;
    let res = client_credentials(&app, &c).await;
    assert_eq!(res.status(), 200);
    let body = json(res).await;
    let at = token_of(&body);
    assert_opaque(&at);
    assert_eq!(body["token_type"], "Bearer");
    assert_eq!(body["expires_in"], 3600, "the same lifetime as a JWT");
    assert!(body.get("refresh_token").is_none());

    let info = introspect(&app, &rs, &at).await;
    assert_eq!(info["active"], true);
    assert_eq!(info["client_id"], c.id.as_str());
    assert_eq!(info["sub"], c.id.as_str(), "the client is its own subject");
    assert_eq!(info["scope"], "read write");
    assert_eq!(info["token_type"], "Bearer");
    assert_eq!(info["iss"], info["aud"]);
    assert_eq!(
        info["exp"].as_i64().unwrap() - info["iat"].as_i64().unwrap(),
        3600
    );
    assert_eq!(info["jti"].as_str().unwrap().len(), 36);
    // Its own client may introspect it too; another app may not.
    assert_eq!(introspect(&app, &c, &at).await["active"], true);
    let other = machine_client(&app).await;
    assert_eq!(introspect(&app, &other, &at).await, serde_json::json!({"active": false}));
}

#[tokio::test]
async fn code_exchange_and_refresh_give_opaque_tokens_with_the_claims_a_jwt_would_carry() {
    let app = spawn_app().await;
    let email = app.signed_in_user().await;
    let rs = resource_server(&app).await;
    let jwt_client = confidential(&app).await;
    let c = opaque_client(&app).await;

    let body = code_tokens(&app, &c).await;
    let at = token_of(&body);
    assert_opaque(&at);
    assert_eq!(body["expires_in"], 3600);
    let jwt = token_of(&code_tokens(&app, &jwt_client).await);
    assert_eq!(jwt.matches('.').count(), 2, "the other client still gets JWTs");

    let opaque_info = introspect(&app, &rs, &at).await;
    let jwt_info = introspect(&app, &rs, &jwt).await;
    assert_eq!(opaque_info["active"], true);
    assert_eq!(opaque_info["client_id"], c.id.as_str());
    assert!(opaque_info["sub"].as_str().unwrap().starts_with("usr_"));
    for claim in ["scope", "sub", "token_type", "iss", "aud", "amr", "acr"] {
        assert_eq!(opaque_info[claim], jwt_info[claim], "{claim}");
    }
    assert!(opaque_info["amr"].is_array() && opaque_info["acr"].is_string());
    assert!(opaque_info["jti"].is_string() && opaque_info["iat"].is_i64());
    assert_eq!(
        opaque_info.as_object().unwrap().keys().collect::<Vec<_>>(),
        jwt_info.as_object().unwrap().keys().collect::<Vec<_>>(),
        "the same fields as for a JWT of the same grant"
    );

    let me = me(&app, &at).await;
    assert_eq!(me.status(), 200);
    assert_eq!(json(me).await["data"]["email"], email.as_str());

    let rt = body["refresh_token"].as_str().unwrap();
    let res = refresh(&app, &c, rt, None).await;
    assert_eq!(res.status(), 200);
    let refreshed = json(res).await;
    let at2 = token_of(&refreshed);
    assert_opaque(&at2);
    assert_ne!(at2, at);
    let info = introspect(&app, &rs, &at2).await;
    assert_eq!(info["active"], true);
    assert_eq!(info["amr"], opaque_info["amr"]);
    assert_eq!(introspect(&app, &rs, &at).await["active"], true, "still live");
}

#[tokio::test]
async fn revoking_an_opaque_token_refuses_it_everywhere_at_once() {
    let app = spawn_app().await;
    app.signed_in_user().await;
    let rs = resource_server(&app).await;
    let c = opaque_client(&app).await;
    let body = code_tokens(&app, &c).await;
    let at = token_of(&body);
    // Used first, so its claims and verdicts are cached where the revocation must reach them.
    assert_eq!(me(&app, &at).await.status(), 200);
    assert_eq!(introspect(&app, &rs, &at).await["active"], true);

    // Another client's revocation is ignored.
    revoke(&app, &rs, &at).await;
    assert_eq!(me(&app, &at).await.status(), 200);

    revoke(&app, &c, &at).await;
    assert_eq!(introspect(&app, &rs, &at).await, serde_json::json!({"active": false}));
    let res = me(&app, &at).await;
    assert_eq!(res.status(), 401);
    assert_eq!(json(res).await["error"]["code"], "authentication_failed");
    // The refresh token was not part of that revocation.
    let rt = body["refresh_token"].as_str().unwrap();
    assert_eq!(introspect(&app, &rs, rt).await["active"], true);
}

#[tokio::test]
async fn an_expired_opaque_token_is_refused() {
    let app = spawn_app().await;
    app.signed_in_user().await;
    let rs = resource_server(&app).await;
    let c = opaque_client(&app).await;
    let at = token_of(&code_tokens(&app, &c).await);
    assert_eq!(me(&app, &at).await.status(), 200);

    app.clock.advance(3601);
    let res = me(&app, &at).await;
    assert_eq!(res.status(), 401);
    assert_eq!(json(res).await["error"]["code"], "token_expired");
    assert_eq!(introspect(&app, &rs, &at).await, serde_json::json!({"active": false}));

    // The janitor removes the expired row; the token stays refused.
    let rows = "SELECT COUNT(*) AS n FROM opaque_access_tokens";
    let count = || async {
        let sql = Statement::from_string(app.db.get_database_backend(), rows);
        let row = app.db.query_one_raw(sql).await.unwrap().unwrap();
        row.try_get::<i64>("", "n").unwrap()
    };
    assert_eq!(count().await, 1);
    portcullis::runtime::purge::run_once(&portcullis::storage::writer::Writer::direct(&app.db), app.clock.now(), 90)
        .await
        .unwrap();
    assert_eq!(count().await, 0);
    assert_eq!(me(&app, &at).await.status(), 401);
}

#[tokio::test]
async fn a_damaged_opaque_token_is_refused_as_an_access_token() {
    let app = spawn_app().await;
    app.signed_in_user().await;
    let rs = resource_server(&app).await;
    let c = opaque_client(&app).await;
    let at = token_of(&code_tokens(&app, &c).await);

    // One character changed: the checksum no longer matches.
    let mut bytes = at.clone().into_bytes();
    bytes[10] = if bytes[10] == b'A' { b'B' } else { b'A' };
    let typo = String::from_utf8(bytes).unwrap();
    // Right checksum, never issued.
    let forged = portcullis::domain::secret_format::generate(
        portcullis::domain::secret_format::Kind::AccessToken,
    );
    for bad in [typo.as_str(), &at[..at.len() - 1], forged.as_str()] {
        let res = me(&app, bad).await;
        assert_eq!(res.status(), 401);
        let body = json(res).await;
        assert_eq!(body["error"]["code"], "authentication_failed");
        assert_eq!(body["error"]["message"], "Invalid access token provided");
        assert_eq!(introspect(&app, &rs, bad).await, serde_json::json!({"active": false}));
        // Revoking it is harmless and leaves the real token alone.
        revoke(&app, &c, bad).await;
    }
    assert_eq!(me(&app, &at).await.status(), 200);
}

#[tokio::test]
async fn a_replayed_code_revokes_the_opaque_token_issued_from_it() {
    let app = spawn_app().await;
    app.signed_in_user().await;
    let rs = resource_server(&app).await;
    let c = opaque_client(&app).await;
    let (code, verifier) = obtain_code(&app, &c, "read").await;
    let at = token_of(&json(exchange(&app, &c, &code, &verifier).await).await);
    assert_opaque(&at);
    assert_eq!(me(&app, &at).await.status(), 200);

    let replay = exchange(&app, &c, &code, &verifier).await;
    assert_eq!(replay.status(), 400);
    assert_eq!(json(replay).await["error"], "invalid_grant");
    assert_eq!(introspect(&app, &rs, &at).await["active"], false);
    assert_eq!(me(&app, &at).await.status(), 401);
}

#[tokio::test]
async fn the_database_holds_only_the_keyed_hash_of_an_opaque_token() {
    let app = spawn_app().await;
    let c = opaque_client(&app).await;
    let at = token_of(&json(client_credentials(&app, &c).await).await);
    let rows = app
        .db
        .query_all_raw(Statement::from_string(
            app.db.get_database_backend(),
            "SELECT token_hash, jti, client_id, claims, expires_at FROM opaque_access_tokens",
        ))
        .await
        .unwrap();
    assert_eq!(rows.len(), 1);
    let row = &rows[0];
    let hash = row.try_get::<String>("", "token_hash").unwrap();
    assert_eq!(hash.len(), 64);
    assert!(hash.bytes().all(|b| b.is_ascii_hexdigit()));
    assert_eq!(row.try_get::<String>("", "client_id").unwrap(), c.id);
    let claims: Value =
        serde_json::from_str(&row.try_get::<String>("", "claims").unwrap()).unwrap();
    assert_eq!(claims["client_id"], c.id.as_str());
    assert_eq!(claims["jti"], row.try_get::<String>("", "jti").unwrap().as_str());
    assert_eq!(claims["exp"], row.try_get::<i64>("", "expires_at").unwrap());
    let random = &at[3..at.len() - 6];
    for column in ["token_hash", "jti", "client_id", "claims"] {
        let value = row.try_get::<String>("", column).unwrap();
        assert!(!value.contains(random), "{column} holds the token");
    }

    sqlite_only!("the file scan reads SQLite's files");
    app.db.clone().close().await.unwrap(); // flush the WAL into the files scanned
    let mut bytes = Vec::new();
    for entry in std::fs::read_dir(app.db_dir()).unwrap() {
        bytes.extend(std::fs::read(entry.unwrap().path()).unwrap());
    }
    assert!(!String::from_utf8_lossy(&bytes).contains(random));
}

#[tokio::test]
async fn access_tokens_stay_jwts_by_default() {
    let app = spawn_app().await;
    let c = machine_client(&app).await;
    let at = token_of(&json(client_credentials(&app, &c).await).await);
    assert_eq!(at.matches('.').count(), 2);
    let header = jsonwebtoken::decode_header(&at).unwrap();
    assert_eq!(header.typ.as_deref(), Some("at+jwt"));

    let args = ["client", "create", "--name", "Plain", "--grant", "client_credentials"];
    let out = portcullis(&app, &[&args[..], &["--json"]].concat()).await;
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let printed: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(printed["access_token_format"], "jwt");
}

#[tokio::test]
async fn the_app_page_switches_the_format_and_marks_a_bad_value() {
    let app = spawn_app().await;
    app.signed_in_user().await; // the administrator, who manages every app
    let c = machine_client(&app).await;
    let path = format!("/settings/apps/{}", c.id);
    let page = app.get_html(&path).await;
    assert!(page.contains("<legend>Access token format</legend>"));
    assert!(page.contains("value=\"jwt\" checked"), "JWT is ticked");
    assert!(page.contains("resource servers call introspection"));

    let post = |format: &'static str| {
        let fields = [
            ("access_token_format", format),
            ("id_token_signed_response_alg", "RS256"),
            ("post_logout_redirect_uris", ""),
        ];
        let (app, path) = (&app, path.clone());
        async move { app.post_form(&path, &path, &fields).await }
    };
    assert_eq!(post("opaque").await.status(), 303);
    assert!(app.get_html(&path).await.contains("value=\"opaque\" checked"));
    assert_opaque(&token_of(&json(client_credentials(&app, &c).await).await));
    let admin = app.get_html("/admin/apps").await;
    assert!(admin.contains("<td class=\"token-format\">Opaque</td>"));

    let refused = post("paseto").await;
    assert_eq!(refused.status(), 422);
    let html = refused.text().await.unwrap();
    assert!(html.contains(
        "<fieldset id=\"access-token-format\" aria-invalid=\"true\" aria-describedby=\"app-settings-error\">"
    ));
    assert!(html.contains("id=\"app-settings-error\">Access tokens are either jwt or opaque."));
    assert_opaque(&token_of(&json(client_credentials(&app, &c).await).await));

    assert_eq!(post("jwt").await.status(), 303);
    let at = token_of(&json(client_credentials(&app, &c).await).await);
    assert_eq!(at.matches('.').count(), 2, "back to JWTs");
    let changed = crate::users_admin::events(&app, "app.settings_changed").await;
    let formats: Vec<_> = changed
        .iter()
        .map(|e| (e["detail"]["from"]["access_token_format"].as_str().unwrap(), e["detail"]["to"]["access_token_format"].as_str().unwrap()))
        .collect();
    assert_eq!(formats.len(), 2, "two changes, the refusal not one: {changed:?}");
    assert!(formats.contains(&("jwt", "opaque")) && formats.contains(&("opaque", "jwt")));
}

#[tokio::test]
async fn the_cli_sets_the_format_and_refuses_bad_values() {
    // No client cache: the command changes the database under the running server, which would
    // otherwise see the change only once its cached copy of the client expires.
    let app = spawn_app_with(|s| s.cache_ttl_ms = 0).await;
    let c = cli_client(
        &app,
        &[
            "--name",
            "Machine",
            "--grant",
            "client_credentials",
            "--token-format",
            "opaque",
        ],
    )
    .await;
    assert_opaque(&token_of(&json(client_credentials(&app, &c).await).await));

    let out = portcullis(&app, &["client", "set", &c.id, "--token-format", "jwt", "--json"]).await;
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let printed: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(printed["access_token_format"], "jwt");
    assert_eq!(printed["client_id"], c.id.as_str());
    let at = token_of(&json(client_credentials(&app, &c).await).await);
    assert_eq!(at.matches('.').count(), 2);

    let bad_set = portcullis(&app, &["client", "set", &c.id, "--token-format", "paseto"]).await;
    assert!(!bad_set.status.success());
    assert!(String::from_utf8_lossy(&bad_set.stderr).contains("either jwt or opaque"));
    let bad_create = portcullis(
        &app,
        &[
            "client",
            "create",
            "--name",
            "X",
            "--grant",
            "client_credentials",
            "--token-format",
            "JWT",
        ],
    )
    .await;
    assert!(!bad_create.status.success());
    assert!(String::from_utf8_lossy(&bad_create.stderr).contains("either jwt or opaque"));
    let out = portcullis(&app, &["client", "set", &c.id, "--token-format", "opaque"]).await;
    assert!(String::from_utf8_lossy(&out.stdout).contains("access_token_format: opaque"));
    assert_opaque(&token_of(&json(client_credentials(&app, &c).await).await));
}

#[tokio::test]
async fn the_id_token_stays_a_jwt_whose_at_hash_covers_the_opaque_token() {
    use crate::oidc::{payload, rs256_at_hash, tokens_with_nonce, userinfo};
    let app = spawn_app().await;
    let email = app.signed_in_user().await;
    let c = register_new(
        &app,
        NewClient {
            name: "Opaque Relying Party".into(),
            redirect_uris: vec![REDIRECT.into()],
            scope: "openid email read".into(),
            access_token_format: AccessTokenFormat::Opaque,
            ..NewClient::default()
        },
    )
    .await;
    let body = tokens_with_nonce(&app, &c, "openid email read", "n-1").await;
    let at = token_of(&body);
    assert_opaque(&at);
    let id_token = body["id_token"].as_str().unwrap();
    assert_eq!(id_token.matches('.').count(), 2);
    let claims = payload(id_token);
    assert_eq!(claims["at_hash"], rs256_at_hash(&at));
    assert_eq!(claims["nonce"], "n-1");
    // UserInfo takes the opaque token as it takes a JWT.
    let res = userinfo(&app, &at).await;
    assert_eq!(res.status(), 200);
    assert_eq!(json(res).await["email"], email.as_str());
}
