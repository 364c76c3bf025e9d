//! The consent page says who is asking: the app's name and logo, who made it (its owner, or
//! this server), its links, and "Not you? Switch account", which signs out and comes back to
//! the same authorization request. It shows none of the account navigation. The sign-in page
//! an authorization request leads to names the app.

use crate::app_details::{EDITED, PASSWORD, admin_and_owner, edit, register_on_page};
use crate::helpers::{TestApp, client, csrf_token, location, spawn_app};
use crate::oauth_helpers::*;

/// The authorization request for `c` asking for `read`.
fn request(c: &TestClient) -> String {
    let (_, challenge) = pkce();
    authorize_path(&c.id, "read", "st", Some(&challenge))
}

#[tokio::test]
async fn the_consent_page_names_the_app_its_maker_and_its_links_without_the_account_nav() {
    let app = spawn_app().await;
    let bob = admin_and_owner(&app).await;
    let c = register_on_page(&bob, "Notes", &[]).await;
    assert_eq!(edit(&bob, &c.id, EDITED).await.status(), 303);
    let carol = TestApp::with_client(&app, client());
    carol.signed_in_user().await;

    let res = carol.get(&request(&c)).await;
    assert_eq!(res.status(), 200);
    let page = res.text().await.unwrap();
    for shown in [
        "<span id=\"consent-app\">Renamed App</span>",
        "<img src=\"https://cdn.notes.example/logo.png\" alt=\"\" width=\"48\" height=\"48\"",
        "Made by <strong>Bob Maker</strong>",
        "<p id=\"consent-description\">Keeps your notes in sync.</p>",
        "href=\"https://notes.example/\" id=\"consent-homepage\"",
        "href=\"https://notes.example/privacy\" id=\"consent-privacy\"",
        "href=\"https://notes.example/terms\" id=\"consent-terms\"",
        "Not you? Switch account",
        "id=\"consent-scopes\"",
    ] {
        assert!(page.contains(shown), "{shown} missing from {page}");
    }
    assert!(!page.contains("aria-label=\"Main\""), "no account navigation");
    assert!(!page.contains("href=\"/settings/apps\""));
    // Other pages keep their navigation.
    assert!(carol.get_html("/account").await.contains("aria-label=\"Main\""));
}

#[tokio::test]
async fn an_app_without_links_or_owner_is_shown_as_made_by_this_server() {
    let app = spawn_app().await;
    app.signed_in_user().await;
    let c = confidential(&app).await; // registered at the command line
    let page = app.get_html(&request(&c)).await;
    assert!(page.contains("Made by this server."), "{page}");
    for absent in ["id=\"consent-logo\"", "id=\"consent-homepage\"", "id=\"consent-privacy\""] {
        assert!(!page.contains(absent), "{absent}");
    }
}

#[tokio::test]
async fn switching_account_signs_out_and_returns_to_the_same_request_naming_the_app() {
    let app = spawn_app().await;
    let bob = admin_and_owner(&app).await;
    let c = register_on_page(&bob, "Notes", &[]).await;
    let carol = TestApp::with_client(&app, client());
    let carol_email = carol.signed_in_user().await;
    let req = request(&c);
    let page = carol.get_html(&req).await;
    let escaped = req.replace('&', "&#38;");
    assert!(page.contains(&format!("name=\"return_to\" value=\"{escaped}\"")));

    let res = carol
        .client
        .post(carol.url("/signout"))
        .form(&[("csrf_token", csrf_token(&page).as_str()), ("return_to", &req)])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 303);
    assert_eq!(location(&res), req, "back to the same request");
    assert_eq!(carol.get("/account").await.status(), 303, "signed out");

    // The request now asks whoever is at the keyboard to sign in, naming the app.
    let res = carol.get(&req).await;
    assert_eq!(res.status(), 303);
    let signin = location(&res);
    assert!(signin.starts_with("/signin?return_to="));
    let page = carol.get_html(&signin).await;
    assert!(
        page.contains("Sign in to continue to <span id=\"signin-app\">Notes</span>"),
        "{page}"
    );
    // Another account signs in and is asked about the same request.
    let res = carol.sign_in(&carol_email, PASSWORD).await;
    assert_eq!(res.status(), 303);
    let dave = TestApp::with_client(&app, client());
    dave.signed_in_user().await;
    assert!(carol.get_html(&req).await.contains("id=\"consent-allow\""));

    // Signing out from anywhere else still ends at the sign-in page, and an off-site
    // return_to is ignored.
    let page = carol.get_html("/account").await;
    let res = carol
        .client
        .post(carol.url("/signout"))
        .form(&[("csrf_token", csrf_token(&page).as_str()), ("return_to", "//evil.example/")])
        .send()
        .await
        .unwrap();
    assert_eq!(location(&res), "/signin?signed_out=1");
}

#[tokio::test]
async fn the_sign_in_page_names_the_app_only_for_the_request_that_sent_the_person() {
    let app = spawn_app().await;
    let bob = admin_and_owner(&app).await;
    let c = register_on_page(&bob, "Notes", &[]).await;
    let visitor = TestApp::with_client(&app, client());
    let req = request(&c);
    // A link straight to the sign-in page names nothing: no request sent this person.
    let direct = format!(
        "/signin?{}",
        serde_urlencoded::to_string([("return_to", req.as_str())]).unwrap()
    );
    let page = visitor.get_html(&direct).await;
    assert!(page.contains("<h1 id=\"signin-heading\">Sign in</h1>"), "{page}");
    assert!(!page.contains("Notes"));

    let res = visitor.get(&req).await;
    let page = visitor.get_html(&location(&res)).await;
    assert!(page.contains("Sign in to continue to <span id=\"signin-app\">Notes</span>"));
    // A refused password keeps the name on the page.
    let res = visitor
        .client
        .post(visitor.url("/signin"))
        .form(&[
            ("csrf_token", csrf_token(&page).as_str()),
            ("email", "nobody@example.com"),
            ("password", "wrong password here"),
            ("return_to", req.as_str()),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 401);
    assert!(res.text().await.unwrap().contains("<span id=\"signin-app\">Notes</span>"));
}
