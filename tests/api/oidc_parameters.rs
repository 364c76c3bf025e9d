//! The authorization request's other parameters: response modes other than `form_post`, request
//! objects and registration (refused with OpenID Connect Core §6's codes), the parameters accepted
//! and ignored (Core §3.1.2.1), offline access (Core §11), and what discovery says of them.

use serde_json::Value;

use crate::helpers::{TestApp, location, spawn_app};
use crate::oauth_helpers::*;
use crate::oidc::oidc_client;
use crate::oidc_prompt::{answer, assert_error, remember_consent, request, tokens};

#[tokio::test]
async fn response_modes_other_than_query_and_form_post_are_refused_in_the_query() {
    let app = spawn_app().await;
    app.signed_in_user().await;
    let c = oidc_client(&app).await;
    let long = "form_post".repeat(1000);
    for mode in ["fragment", "form_post.jwt", "FORM_POST", long.as_str()] {
        let (path, _) = request(&c, "openid", &[("response_mode", mode)]);
        assert_error(&app, &answer(&app, &path).await, "invalid_request");
    }
    // query, said out loud, is the default.
    remember_consent(&app, &c, "openid").await;
    let (path, _) = request(&c, "openid", &[("response_mode", "query")]);
    assert!(q(&answer(&app, &path).await, "code").is_some());
}

#[tokio::test]
async fn request_objects_and_registration_are_refused_with_their_own_codes() {
    let app = spawn_app().await;
    app.signed_in_user().await;
    let c = oidc_client(&app).await;
    for (param, value, error) in [
        (
            "request",
            "eyJhbGciOiJub25lIn0.e30.",
            "request_not_supported",
        ),
        (
            "request_uri",
            "https://app.example/request.jwt",
            "request_uri_not_supported",
        ),
        ("registration", "{}", "registration_not_supported"),
    ] {
        let (path, _) = request(&c, "openid", &[(param, value)]);
        assert_error(&app, &answer(&app, &path).await, error);
    }
}

#[tokio::test]
async fn display_locales_acr_values_and_id_token_hint_are_accepted_and_ignored() {
    let app = spawn_app().await;
    app.signed_in_user().await;
    let c = oidc_client(&app).await;
    remember_consent(&app, &c, "openid").await;
    let extra = [
        ("display", "popup"),
        ("ui_locales", "fr-CA fr en"),
        ("claims_locales", "de"),
        ("acr_values", "urn:mace:incommon:iap:silver"),
        ("id_token_hint", "eyJhbGciOiJFZERTQSJ9.e30.sig"),
    ];
    let (path, _) = request(&c, "openid", &extra);
    assert!(q(&answer(&app, &path).await, "code").is_some());
}

// ---------------------------------------------------------------- offline access

async fn token_response(app: &TestApp, c: &TestClient, scope: &str) -> Value {
    let (path, verifier) = request(c, scope, &[]);
    let res = app.get(&path).await;
    let loc = if res.status() == 303 {
        location(&res)
    } else {
        consent(app, &path, "allow").await
    };
    let code = q(&query_of(&loc), "code").unwrap().to_owned();
    tokens(app, c, &code, &verifier).await
}

#[tokio::test]
async fn openid_requests_get_a_refresh_token_only_with_offline_access() {
    let app = spawn_app().await;
    app.signed_in_user().await;
    let c = oidc_client(&app).await;
    let without = token_response(&app, &c, "openid profile").await;
    assert!(without["id_token"].is_string());
    assert!(without.get("refresh_token").is_none(), "{without}");

    // offline_access was not approved before: the consent page asks for it.
    let (path, _) = request(&c, "openid offline_access", &[]);
    let page = app.get(&path).await;
    assert_eq!(page.status(), 200);
    assert!(page.text().await.unwrap().contains("Stay connected"));
    let with = token_response(&app, &c, "openid offline_access").await;
    assert!(with["refresh_token"].is_string(), "{with}");

    // A plain OAuth 2.0 request of the same client still gets one.
    let plain = token_response(&app, &c, "read").await;
    assert!(plain["refresh_token"].is_string(), "{plain}");
    assert!(plain.get("id_token").is_none());
}

#[tokio::test]
async fn a_client_without_openid_still_gets_refresh_tokens() {
    let app = spawn_app().await;
    app.signed_in_user().await;
    let c = confidential(&app).await;
    let body = token_response(&app, &c, "read write").await;
    assert!(body["refresh_token"].is_string(), "{body}");
}

// ---------------------------------------------------------------- discovery

#[tokio::test]
async fn discovery_lists_the_response_modes_and_prompt_values() {
    let app = spawn_app().await;
    let oauth = json(app.get("/.well-known/oauth-authorization-server").await).await;
    let oidc = json(app.get("/.well-known/openid-configuration").await).await;
    let modes = serde_json::json!(["query", "form_post"]);
    assert_eq!(oauth["response_modes_supported"], modes);
    assert_eq!(oidc["response_modes_supported"], modes);
    assert_eq!(
        oidc["prompt_values_supported"],
        serde_json::json!(["none", "login", "consent", "select_account"])
    );
    assert_eq!(oidc["request_parameter_supported"], false);
    assert_eq!(oidc["request_uri_parameter_supported"], false);
}
