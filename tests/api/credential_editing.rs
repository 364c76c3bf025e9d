//! Settings → Credentials after creation: renaming, rolling an API key with an overlap
//! (Stripe's "roll key"), token-expiry presets, the page holding to the active tenant, the
//! one-time reveal refusing a second look, and `GET /signout` asking first.

use fantoccini::Locator;

use crate::browser::{click, screenshot, wait_for_path, with_browser};
use crate::helpers::{TestApp, create_tenant, location, revealed, spawn_app, switch_to};

const PAGE: &str = "/settings/credentials";

async fn status_with(app: &TestApp, key: &str) -> u16 {
    app.client
        .get(app.url("/v1/users/me"))
        .bearer_auth(key)
        .send()
        .await
        .unwrap()
        .status()
        .as_u16()
}

/// Creates an API key through the form; its secret and its row id.
async fn key(app: &TestApp, name: &str) -> (String, String) {
    let res = app
        .post_form(
            PAGE,
            "/settings/credentials/api-keys",
            &[("name", name), ("permission", "read")],
        )
        .await;
    let secret = revealed(&app.reveal(res).await.text().await.unwrap());
    (secret.clone(), row_id(&app.get_html(PAGE).await, name))
}

/// The id of the first row named `name`.
fn row_id(page: &str, name: &str) -> String {
    let at = page
        .find(&format!("<td data-label=\"Name\">{name}</td>"))
        .unwrap_or_else(|| panic!("no row {name}"));
    let marker = "data-credential=\"";
    let start = page[..at].rfind(marker).unwrap() + marker.len();
    page[start..].split('"').next().unwrap().to_owned()
}

async fn roll(app: &TestApp, id: &str, overlap: &str) -> reqwest::Response {
    let action = format!("/settings/credentials/api_key/{id}/roll");
    app.post_form(PAGE, &action, &[("overlap", overlap)]).await
}

#[tokio::test]
async fn a_key_is_renamed_in_place_and_the_page_says_so() {
    let app = spawn_app().await;
    app.signed_in_user().await;
    let (secret, id) = key(&app, "Old name").await;
    let action = format!("/settings/credentials/api_key/{id}/rename");
    let res = app.post_form(PAGE, &action, &[("name", "New name")]).await;
    assert_eq!(res.status(), 303);
    let page = app.get_html(PAGE).await;
    assert!(page.contains("<td data-label=\"Name\">New name</td>") && !page.contains("<td data-label=\"Name\">Old name</td>"));
    assert!(page.contains("id=\"flash\""), "a message confirms it");
    assert_eq!(status_with(&app, &secret).await, 200, "the key still works");
    // The message is shown once.
    assert!(!app.get_html(PAGE).await.contains("id=\"flash\""));

    // An empty name is refused; someone else's key is not found; no form token, no change.
    let res = app.post_form(PAGE, &action, &[("name", " ")]).await;
    assert_eq!(res.status(), 422);
    let bob = TestApp::with_client(&app, crate::helpers::client());
    bob.signed_in_user().await;
    let res = bob.post_form(PAGE, &action, &[("name", "Mine now")]).await;
    assert_eq!(res.status(), 404);
    let res = app
        .client
        .post(app.url(&action))
        .form(&[("name", "Forged")])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 403);
    assert!(app.get_html(PAGE).await.contains("<td data-label=\"Name\">New name</td>"));
}

#[tokio::test]
async fn a_rolled_key_keeps_the_old_secret_working_until_the_overlap_ends() {
    let app = spawn_app().await;
    app.signed_in_user().await;
    let (old, id) = key(&app, "Deploy").await;
    let res = roll(&app, &id, "3600").await;
    let page = app.reveal(res).await.text().await.unwrap();
    assert!(page.contains("keeps working until"));
    let new = revealed(&page);
    assert_ne!(new, old);
    assert_eq!(status_with(&app, &old).await, 200, "old, during the overlap");
    assert_eq!(status_with(&app, &new).await, 200, "new");
    // Both are listed meanwhile, under the same name.
    let listed = app.get_html(PAGE).await;
    assert_eq!(listed.matches("<td data-label=\"Name\">Deploy</td>").count(), 2);

    app.clock.advance(3601);
    assert_eq!(status_with(&app, &old).await, 401, "old, after the overlap");
    assert_eq!(status_with(&app, &new).await, 200);

    // The roll is in the security log.
    let log = app.get_html("/settings/security-log").await;
    assert!(log.contains("credential.rolled"));
}

#[tokio::test]
async fn a_roll_without_overlap_stops_the_old_secret_at_once_and_bad_overlaps_are_refused() {
    let app = spawn_app().await;
    app.signed_in_user().await;
    let (old, id) = key(&app, "Leaked").await;
    for bad in ["604801", "-5", "soon"] {
        let res = roll(&app, &id, bad).await;
        assert_eq!(res.status(), 422, "{bad}");
    }
    assert_eq!(status_with(&app, &old).await, 200, "a refused roll changes nothing");
    let new = revealed(&app.reveal(roll(&app, &id, "0").await).await.text().await.unwrap());
    assert_eq!(status_with(&app, &old).await, 401);
    assert_eq!(status_with(&app, &new).await, 200);
    // A revoked key cannot be rolled again.
    assert_eq!(roll(&app, &id, "0").await.status(), 404);
}

#[tokio::test]
async fn token_expiry_presets_set_the_date_and_no_expiration_is_warned_about() {
    let app = spawn_app().await;
    app.signed_in_user().await;
    let page = app.get_html(PAGE).await;
    for preset in ["value=\"7\"", "value=\"30\"", "value=\"60\"", "value=\"90\"", "value=\"custom\"", "value=\"none\""] {
        assert!(page.contains(preset), "{preset}");
    }
    assert!(page.contains("id=\"pat-no-expiry-warning\""));
    let create = |name: &'static str, preset: &'static str| {
        let app = &app;
        async move {
            app.post_form(
                PAGE,
                "/settings/credentials/tokens",
                &[("name", name), ("expires_in", preset), ("expires_on", "")],
            )
            .await
        }
    };
    let token = revealed(&app.reveal(create("Week", "7").await).await.text().await.unwrap());
    assert_eq!(status_with(&app, &token).await, 200);
    let forever = revealed(&app.reveal(create("Forever", "none").await).await.text().await.unwrap());
    // A custom choice without a date is refused.
    assert_eq!(create("No date", "custom").await.status(), 422);

    let listed = app.get_html(PAGE).await;
    let week = &listed[listed.find("<td data-label=\"Name\">Week</td>").unwrap()..];
    let week = &week[..week.find("</tr>").unwrap()];
    let in_seven_days = time::OffsetDateTime::from_unix_timestamp(app.clock.now() + 7 * 86_400)
        .unwrap()
        .date()
        .to_string();
    assert!(week.contains(&in_seven_days), "{week}");
    let never = &listed[listed.find("<td data-label=\"Name\">Forever</td>").unwrap()..];
    assert!(never[..never.find("</tr>").unwrap()].contains("no expiry"));

    app.clock.advance(8 * 86_400);
    assert_eq!(status_with(&app, &token).await, 401, "the 7-day token expired");
    assert_eq!(status_with(&app, &forever).await, 200);
}

#[tokio::test]
async fn the_credentials_page_lists_only_the_active_tenants_keys() {
    let app = spawn_app().await;
    app.signed_in_user().await;
    let acme = create_tenant(&app, "Acme Inc.").await;
    key(&app, "Personal key").await;
    switch_to(&app, &acme).await;
    let page = app.get_html(PAGE).await;
    assert!(page.contains("Working in <strong>Acme Inc.</strong> Only"), "one period");
    assert!(!page.contains("Personal key"), "another tenant's key is not listed");
    key(&app, "Acme key").await;
    let page = app.get_html(PAGE).await;
    assert!(page.contains("Acme key") && !page.contains("Personal key"));
}

#[tokio::test]
async fn the_reveal_shows_a_secret_once_and_never_after_sign_out() {
    let app = spawn_app().await;
    app.signed_in_user().await;
    let res = app
        .post_form(
            PAGE,
            "/settings/credentials/api-keys",
            &[("name", "Once"), ("permission", "read")],
        )
        .await;
    assert_eq!(res.status(), 303);
    assert!(!res.text().await.unwrap().contains("ck_"), "the redirect carries no secret");
    let page = app.get("/settings/reveal").await;
    assert_eq!(page.status(), 200);
    let secret = revealed(&page.text().await.unwrap());
    // A reload finds nothing and creates nothing.
    let again = app.get("/settings/reveal").await;
    assert_eq!(again.status(), 410);
    assert_eq!(again.headers()["cache-control"], "no-store");
    let html = again.text().await.unwrap();
    assert!(html.contains("id=\"reveal-gone\"") && !html.contains(&secret));
    assert_eq!(app.get_html(PAGE).await.matches("<td data-label=\"Name\">Once</td>").count(), 1);

    // A secret created just before signing out is not shown after it.
    let res = app
        .post_form(
            PAGE,
            "/settings/credentials/api-keys",
            &[("name", "Unseen"), ("permission", "read")],
        )
        .await;
    assert_eq!(res.status(), 303);
    app.sign_out().await;
    let after = app.get("/settings/reveal").await;
    assert_eq!(after.status(), 303);
    assert!(location(&after).starts_with("/signin"));
}

#[tokio::test]
async fn get_signout_asks_first_and_the_button_signs_out() {
    let app = spawn_app().await;
    app.signed_in_user().await;
    let res = app.get("/signout").await;
    assert_eq!(res.status(), 200);
    let page = res.text().await.unwrap();
    assert!(page.contains("id=\"signout-confirm\"") && page.contains("action=\"/signout\""));
    assert_eq!(app.get("/account").await.status(), 200, "a GET signs nobody out");
    let res = app.sign_out().await;
    assert_eq!(res.status(), 303);
    let to = location(&res);
    assert_eq!(to, "/signin?signed_out=1");
    assert!(app.get_html(&to).await.contains("You have signed out."), "it says so");
    let res = app.get("/signout").await;
    assert_eq!(res.status(), 303, "already signed out");
    assert_eq!(location(&res), "/signin");
}

/// In a real browser: roll a key with an overlap and use both secrets; the credentials page
/// follows the tenant switcher.
#[tokio::test]
async fn in_a_browser_a_rolled_key_and_its_predecessor_both_work_and_the_tenant_switch_filters_the_list() {
    let app = spawn_app().await;
    let email = app.signed_in_user().await;
    let acme = create_tenant(&app, "Acme").await;
    let (old, _) = key(&app, "Rolling").await;
    let base = app.address.clone();
    // A client of its own: the app's pooled connections may have idled out during the browser.
    let http = reqwest::Client::new();
    let out = std::sync::Arc::new(std::sync::Mutex::new(None::<String>));
    let out_in = out.clone();
    with_browser("credentials-roll", move |b| async move {
        crate::browser::sign_in(&b, &base, &email, "correct horse battery").await;
        b.goto(&format!("{base}{PAGE}")).await.unwrap();
        wait_for_path(&b, PAGE).await;
        click(&b, "#api-keys tr[data-credential] details.row-edit:nth-of-type(2) summary").await;
        let select = b.find(Locator::Css("#api-keys select[name=overlap]")).await.unwrap();
        select.select_by_value("3600").await.unwrap();
        click(&b, "#api-keys form[action$='/roll'] button").await;
        wait_for_path(&b, "/settings/reveal").await;
        let new = b
            .find(Locator::Id("revealed-secret"))
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        screenshot(&b, "credentials-rolled").await;
        *out_in.lock().unwrap() = Some(new.trim().to_owned());

        // Switch tenant with the header's switcher: the Acme list is empty.
        b.goto(&format!("{base}{PAGE}")).await.unwrap();
        let switch = b.find(Locator::Id("tenant-switch")).await.unwrap();
        switch.select_by_value(&acme).await.unwrap();
        click(&b, "form.tenant-switch button").await;
        for _ in 0..100 {
            if b.source().await.unwrap().contains("Working in <strong>Acme") {
                break;
            }
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        }
        let body = b.source().await.unwrap();
        assert!(body.contains("Working in <strong>Acme"));
        assert!(!body.contains("Rolling"), "the other tenant's keys are not listed");
        screenshot(&b, "credentials-other-tenant").await;
    })
    .await;
    let new = out.lock().unwrap().clone().unwrap();
    let me = |k: String| {
        let http = http.clone();
        let url = app.url("/v1/users/me");
        async move { http.get(url).bearer_auth(k).send().await.unwrap().status().as_u16() }
    };
    assert_eq!(me(old.clone()).await, 200, "the old key, during the overlap");
    assert_eq!(me(new.clone()).await, 200, "the new key");
    app.clock.advance(3601);
    assert_eq!(me(old).await, 401, "the old key, after the overlap");
    assert_eq!(me(new).await, 200);
}
