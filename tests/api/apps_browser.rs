//! Developer apps in a real browser (headless Chromium, `browser::with_browser`): a person
//! registers an app, opens it, edits it and deletes it (accepting the confirm dialog); and the
//! consent page at phone width (390×844) shows the app without the account navigation and
//! without scrolling sideways. Screenshots go to `target/e2e-artifacts/`.

use std::time::Duration;

use fantoccini::{Client, Locator};

use crate::app_details::{admin_and_owner, edit, register_on_page};
use crate::browser::{click, fill, screenshot, wait_for_path, with_browser};
use crate::helpers::spawn_app;
use crate::oauth_helpers::{REDIRECT, authorize_path, pkce};

/// The text of the element with this id.
async fn text(c: &Client, id: &str) -> String {
    c.find(Locator::Id(id)).await.unwrap().text().await.unwrap()
}

/// Signs up in the browser and waits for the account page.
async fn sign_up(c: &Client, base: &str, name: &str, email: &str) {
    c.goto(&format!("{base}/signup")).await.unwrap();
    fill(c, "name", name).await;
    fill(c, "email", email).await;
    fill(c, "password", "a very long password").await;
    click(c, "form[action='/signup'] button[type=submit]").await;
    wait_for_path(c, "/account").await;
}

/// Accepts the confirm dialog a destructive form opens, once it is open.
async fn accept_confirm(c: &Client) {
    for _ in 0..100 {
        if c.accept_alert().await.is_ok() {
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("no confirm dialog opened");
}

#[tokio::test]
async fn a_person_registers_opens_edits_and_deletes_an_app_in_a_browser() {
    let app = spawn_app().await;
    let base = app.address.clone();
    with_browser("apps-lifecycle", move |c| async move {
        sign_up(&c, &base, "Grace Hopper", "grace@example.com").await;
        c.goto(&format!("{base}/settings/apps")).await.unwrap();
        fill(&c, "app-name", "Browser App").await;
        fill(&c, "app-redirects", REDIRECT).await;
        click(&c, "form[action='/settings/apps'] button[type=submit]").await;
        wait_for_path(&c, "/settings/reveal").await;
        let id = text(&c, "client-id").await;
        click(&c, "#reveal-continue").await;
        wait_for_path(&c, "/settings/apps").await;

        let page = format!("/settings/apps/{id}");
        click(&c, &format!("#apps a[href='{page}']")).await;
        wait_for_path(&c, &page).await;
        assert_eq!(text(&c, "app-name").await, "Browser App");
        fill(&c, "edit-name", "Edited App").await;
        fill(&c, "edit-homepage_url", "https://edited.example/").await;
        click(&c, "#app-save").await;
        wait_for_path(&c, &page).await;
        for _ in 0..100 {
            if text(&c, "app-name").await == "Edited App" {
                break;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        assert_eq!(text(&c, "app-name").await, "Edited App");
        assert_eq!(text(&c, "flash").await, "App saved.");
        assert_eq!(text(&c, "app-homepage").await, "https://edited.example/");
        screenshot(&c, "app-details").await;

        fill(&c, "delete-confirm", "Edited App").await;
        click(&c, "#app-delete-button").await;
        accept_confirm(&c).await;
        wait_for_path(&c, "/settings/apps").await;
        assert_eq!(text(&c, "flash").await, "App “Edited App” deleted.");
        let list = c.source().await.unwrap();
        assert!(!list.contains(&id), "the app is gone from the list");
    })
    .await;
}

#[tokio::test]
async fn the_consent_page_fits_a_phone_and_shows_no_account_navigation() {
    let app = spawn_app().await;
    let bob = admin_and_owner(&app).await;
    let c = register_on_page(&bob, "Notes", &[]).await;
    let logo = app.url("/static/favicon.svg");
    let fields = [
        ("name", "Notes"),
        ("description", "Keeps your notes in sync across your devices."),
        ("homepage_url", "https://notes.example/"),
        ("privacy_policy_url", "https://notes.example/privacy"),
        ("terms_url", "https://notes.example/terms"),
        ("logo_url", logo.as_str()),
        ("redirect_uris", REDIRECT),
        ("scope", "read"),
        ("scope", "openid"),
    ];
    assert_eq!(edit(&bob, &c.id, &fields).await.status(), 303);
    let (_, challenge) = pkce();
    let request = authorize_path(&c.id, "openid read", "st", Some(&challenge));
    let base = app.address.clone();
    with_browser("consent-phone", move |b| async move {
        b.set_window_size(390, 844).await.unwrap();
        sign_up(&b, &base, "Ada Lovelace", "ada@example.com").await;
        b.goto(&format!("{base}{request}")).await.unwrap();
        wait_for_path(&b, "/oauth/authorize").await;
        assert_eq!(text(&b, "consent-app").await, "Notes");
        assert_eq!(text(&b, "consent-made-by").await, "Made by Bob Maker.");
        assert!(b.find(Locator::Css("nav[aria-label='Account']")).await.is_err());
        assert!(b.find(Locator::Id("consent-switch")).await.is_ok());
        let width = b
            .execute("return document.documentElement.scrollWidth;", vec![])
            .await
            .unwrap();
        assert!(width.as_u64().unwrap() <= 390, "scrolls sideways: {width}");
        let logo_loaded = b
            .execute(
                "const i = document.getElementById('consent-logo'); return i.complete && i.naturalWidth > 0;",
                vec![],
            )
            .await
            .unwrap();
        assert_eq!(logo_loaded, true, "the logo shows");
        screenshot(&b, "consent-phone").await;
    })
    .await;
}
