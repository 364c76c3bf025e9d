//! The token endpoint under failure: only failed client authentication counts towards the
//! throttle (codes and refresh tokens are unguessable, so their failures are a busy app's double
//! submits and races), the throttled answer is an RFC 6749 error with `Retry-After`, another
//! client's refresh token is `invalid_grant`, and a mismatched redemption leaves the code to its
//! owner.

use serde_json::Value;

use crate::helpers::{TestApp, spawn_app};
use crate::oauth_helpers::*;

async fn post(app: &TestApp, basic: Option<String>, form: &[(&str, &str)]) -> reqwest::Response {
    let mut req = app.client.post(app.url("/oauth/token"));
    if let Some(b) = basic {
        req = req.header("authorization", b);
    }
    req.form(form).send().await.unwrap()
}

#[tokio::test]
async fn thirty_bad_grants_do_not_lock_out_a_good_client() {
    let app = spawn_app().await;
    app.signed_in_user().await;
    let c = confidential(&app).await;
    for i in 0..30 {
        let code = format!("not-a-code-{i}");
        let res = post(
            &app,
            Some(c.basic()),
            &[
                ("grant_type", "authorization_code"),
                ("code", &code),
                ("redirect_uri", REDIRECT),
            ],
        )
        .await;
        assert_eq!(res.status(), 400);
        assert_eq!(json(res).await["error"], "invalid_grant");
        let res = post(
            &app,
            Some(c.basic()),
            &[("grant_type", "refresh_token"), ("refresh_token", "nope")],
        )
        .await;
        assert_eq!(json(res).await["error"], "invalid_grant");
    }
    let (code, verifier) = obtain_code(&app, &c, "read").await;
    let res = exchange(&app, &c, &code, &verifier).await;
    assert_eq!(res.status(), 200, "the client is not throttled");
}

#[tokio::test]
async fn eleven_wrong_secrets_are_throttled_with_an_rfc_error_and_retry_after() {
    let app = spawn_app().await;
    let c = machine_client(&app).await;
    let wrong = TestClient {
        id: c.id.clone(),
        secret: Some("cs_wrong".into()),
    };
    for _ in 0..10 {
        let res = client_credentials(&app, &wrong).await;
        assert_eq!(res.status(), 401);
        assert_eq!(json(res).await["error"], "invalid_client");
    }
    let res = client_credentials(&app, &wrong).await;
    assert_eq!(res.status(), 429);
    let wait: i64 = res
        .headers()
        .get("retry-after")
        .expect("Retry-After")
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!(wait > 0);
    assert_eq!(res.headers().get("cache-control").unwrap(), "no-store");
    let body: Value = res.json().await.unwrap();
    assert_eq!(
        body["error"], "invalid_client",
        "an RFC 6749 code, not slow_down"
    );
    assert!(
        body["error_description"].as_str().unwrap().contains("wait"),
        "{body}"
    );
    // The right secret from the same address is held back too until the window passes...
    assert_eq!(client_credentials(&app, &c).await.status(), 429);
    app.clock.advance(wait + 1);
    assert_eq!(client_credentials(&app, &c).await.status(), 200);
}

#[tokio::test]
async fn a_refresh_token_presented_by_another_client_is_invalid_grant() {
    let app = spawn_app().await;
    app.signed_in_user().await;
    let owner = confidential(&app).await;
    let (code, verifier) = obtain_code(&app, &owner, "read").await;
    let tokens = json(exchange(&app, &owner, &code, &verifier).await).await;
    let rt = tokens["refresh_token"].as_str().unwrap();
    let other = confidential(&app).await;
    // With HTTP Basic, and with the credentials in the body.
    let res = refresh(&app, &other, rt, None).await;
    assert_eq!(res.status(), 400);
    assert_eq!(json(res).await["error"], "invalid_grant");
    let res = post(
        &app,
        None,
        &[
            ("grant_type", "refresh_token"),
            ("refresh_token", rt),
            ("client_id", &other.id),
            ("client_secret", other.secret.as_deref().unwrap()),
        ],
    )
    .await;
    assert_eq!(res.status(), 400);
    assert_eq!(json(res).await["error"], "invalid_grant");
    // The owner's refresh still works: the other client's attempt spent nothing.
    assert_eq!(refresh(&app, &owner, rt, None).await.status(), 200);
}

#[tokio::test]
async fn a_mismatched_redemption_leaves_the_code_for_its_owner() {
    let app = spawn_app().await;
    app.signed_in_user().await;
    let c = confidential(&app).await;
    let other = confidential(&app).await;
    let (code, verifier) = obtain_code(&app, &c, "read").await;
    type Attempt<'a> = (Option<String>, Vec<(&'a str, &'a str)>);
    let attempts: [Attempt; 3] = [
        // A wrong verifier.
        (
            Some(c.basic()),
            vec![(
                "code_verifier",
                "v-wrong-wrong-wrong-wrong-wrong-wrong-wrong-wrong",
            )],
        ),
        // Another redirect URI registered for the same client.
        (
            Some(c.basic()),
            vec![
                ("code_verifier", verifier.as_str()),
                ("redirect_uri", "http://127.0.0.1/cb"),
            ],
        ),
        // Another client.
        (
            Some(other.basic()),
            vec![("code_verifier", verifier.as_str())],
        ),
    ];
    for (basic, extra) in attempts {
        let mut form = vec![
            ("grant_type", "authorization_code"),
            ("code", code.as_str()),
        ];
        if !extra.iter().any(|(k, _)| *k == "redirect_uri") {
            form.push(("redirect_uri", REDIRECT));
        }
        form.extend(extra);
        let res = post(&app, basic, &form).await;
        assert_eq!(res.status(), 400);
        assert_eq!(json(res).await["error"], "invalid_grant");
    }
    let res = exchange(&app, &c, &code, &verifier).await;
    assert_eq!(res.status(), 200, "the rightful redemption still succeeds");
    // ...once: a replay is refused.
    let res = exchange(&app, &c, &code, &verifier).await;
    assert_eq!(json(res).await["error"], "invalid_grant");
}
