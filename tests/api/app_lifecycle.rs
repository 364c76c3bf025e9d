//! An app's secret rotated on its page, with and without an overlap during which the previous
//! secret keeps working, and the app deleted: its tokens, consents and client authentication
//! end with it. Each is recorded in the audit log.

use serde_json::json;

use crate::app_details::{admin_and_owner, audit_events, register_on_page};
use crate::helpers::{TestApp, location, spawn_app};
use crate::oauth_helpers::*;

const CC: &str = "client_credentials";

/// Rotates app `c`'s secret on its page with `overlap`; the new secret from the reveal.
async fn rotate(app: &TestApp, c: &TestClient, overlap: &str) -> TestClient {
    let page = format!("/settings/apps/{}", c.id);
    let res = app
        .post_form(&page, &format!("{page}/rotate-secret"), &[("overlap", overlap)])
        .await;
    let html = app.reveal(res).await.text().await.unwrap();
    let secret = html
        .split("id=\"client-secret\">")
        .nth(1)
        .unwrap()
        .split('<')
        .next()
        .unwrap();
    assert!(html.contains(&format!("href=\"{page}\"")), "back to the app");
    TestClient {
        id: c.id.clone(),
        secret: Some(secret.to_owned()),
    }
}

/// The status of a client-credentials request with `c`'s id and secret.
async fn cc_status(app: &TestApp, c: &TestClient) -> u16 {
    client_credentials(app, c).await.status().as_u16()
}

#[tokio::test]
async fn with_an_overlap_the_old_and_new_secrets_both_work_until_it_ends() {
    let app = spawn_app().await;
    let bob = admin_and_owner(&app).await;
    let old = register_on_page(&bob, "Worker", &[CC]).await;
    assert_eq!(cc_status(&app, &old).await, 200);

    let new = rotate(&bob, &old, "1h").await;
    assert_ne!(new.secret, old.secret);
    assert_eq!(cc_status(&app, &old).await, 200, "old secret during the overlap");
    assert_eq!(cc_status(&app, &new).await, 200, "new secret");
    // Introspection and revocation accept it too: the same client authentication.
    let token = json(client_credentials(&app, &new).await).await["access_token"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_eq!(introspect(&app, &old, &token).await["active"], true);
    let page = bob.get_html(&format!("/settings/apps/{}", old.id)).await;
    assert!(page.contains("id=\"app-previous-secret\""), "{page}");
    assert!(page.contains("The previous secret is still valid until"));

    app.clock.advance(1800);
    assert_eq!(cc_status(&app, &old).await, 200, "half way through the overlap");
    app.clock.advance(1800);
    assert_eq!(cc_status(&app, &old).await, 401, "old secret after the overlap");
    assert_eq!(cc_status(&app, &new).await, 200);

    let events = audit_events(&app, "app.secret_rotated").await;
    assert_eq!(events.len(), 1);
    assert_eq!(events[0]["detail"]["overlap_secs"], 3600);
    assert_eq!(events[0]["target"], format!("client:{}", old.id));
}

#[tokio::test]
async fn without_an_overlap_the_old_secret_stops_at_once() {
    let app = spawn_app().await;
    let bob = admin_and_owner(&app).await;
    let first = register_on_page(&bob, "Worker", &[CC]).await;
    let second = rotate(&bob, &first, "1h").await;
    // A rotation without overlap ends every earlier secret, the overlapping one too.
    let third = rotate(&bob, &second, "none").await;
    assert_eq!(cc_status(&app, &first).await, 401);
    assert_eq!(cc_status(&app, &second).await, 401);
    assert_eq!(cc_status(&app, &third).await, 200);
    let page = bob.get_html(&format!("/settings/apps/{}", first.id)).await;
    assert!(!page.contains("id=\"app-previous-secret\""));
    // An overlap the form does not offer is refused, and changes nothing.
    let path = format!("/settings/apps/{}", first.id);
    let res = bob
        .post_form(&path, &format!("{path}/rotate-secret"), &[("overlap", "30d")])
        .await;
    assert_eq!(res.status(), 422);
    assert_eq!(cc_status(&app, &third).await, 200);
    let events = audit_events(&app, "app.secret_rotated").await;
    assert_eq!(events.len(), 2);
}

#[tokio::test]
async fn deleting_an_app_ends_its_tokens_consents_and_client_credentials() {
    let app = spawn_app().await;
    let bob = admin_and_owner(&app).await;
    let c = register_on_page(&bob, "Doomed", &["authorization_code", "refresh_token", CC]).await;
    let rs = resource_server(&app).await;
    // A person approves it and gets tokens; the app gets its own token.
    let (code, verifier) = obtain_code(&bob, &c, "read").await;
    let user_tokens = json(exchange(&bob, &c, &code, &verifier).await).await;
    let access = user_tokens["access_token"].as_str().unwrap().to_owned();
    let refresh_token = user_tokens["refresh_token"].as_str().unwrap().to_owned();
    let own = json(client_credentials(&app, &c).await).await["access_token"]
        .as_str()
        .unwrap()
        .to_owned();
    for token in [&access, &refresh_token, &own] {
        assert_eq!(introspect(&app, &rs, token).await["active"], true);
    }
    let page = format!("/settings/apps/{}", c.id);
    let authorized = bob.get_html("/settings/authorized-apps").await;
    assert!(authorized.contains("Doomed"));

    // The name must be typed exactly.
    let res = bob
        .post_form(&page, &format!("{page}/delete"), &[("confirm_name", "doomed")])
        .await;
    assert_eq!(res.status(), 422);
    let refused = res.text().await.unwrap();
    assert!(refused.contains("aria-describedby=\"delete-confirm-error\""));
    assert_eq!(cc_status(&app, &c).await, 200, "not deleted");

    let res = bob
        .post_form(&page, &format!("{page}/delete"), &[("confirm_name", "Doomed")])
        .await;
    assert_eq!(res.status(), 303);
    assert_eq!(location(&res), "/settings/apps");
    let list = bob.get_html("/settings/apps").await;
    assert!(list.contains("id=\"flash\">App “Doomed” deleted.</p>"), "{list}");
    assert!(!list.contains(&c.id));
    assert_eq!(bob.get(&page).await.status(), 404);

    for (what, token) in [("access", &access), ("refresh", &refresh_token), ("own", &own)] {
        let body = introspect(&app, &rs, token).await;
        assert_eq!(body, json!({"active": false}), "{what}");
    }
    assert_eq!(cc_status(&app, &c).await, 401);
    let res = refresh(&bob, &c, &refresh_token, None).await;
    assert_eq!(res.status(), 401);
    let authorized = bob.get_html("/settings/authorized-apps").await;
    assert!(!authorized.contains("Doomed"), "the consent is gone");

    let events = audit_events(&app, "app.deleted").await;
    assert_eq!(events.len(), 1);
    assert_eq!(events[0]["target"], format!("client:{}", c.id));
    assert_eq!(events[0]["detail"]["token_families_revoked"], 1);
    assert_eq!(events[0]["detail"]["consents_removed"], 1);
}
