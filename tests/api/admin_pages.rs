//! Admin → Tenants, Admin → System credentials, and the tenant switcher.

use std::sync::{Arc, Mutex};

use fantoccini::Locator;
use serde_json::{Value, json};

use crate::browser::{click, fill, screenshot, wait_for_path, with_browser};
use crate::helpers::{
    TestApp, create_tenant, csrf_token, invite_and_accept, revealed, spawn_app, switch_to,
};

async fn tenant_id_by_name(app: &TestApp, name: &str) -> String {
    let page = app.get_html("/admin/tenants").await;
    let at = page
        .find(&format!("<td>{name}"))
        .unwrap_or_else(|| panic!("{name} listed"));
    let href = page[at..].find("/admin/tenants/").unwrap() + at + "/admin/tenants/".len();
    page[href..].split('"').next().unwrap().to_owned()
}

#[tokio::test]
async fn administrators_create_tenants_and_switch_between_them() {
    let app = spawn_app().await;
    app.signed_in_user().await; // first account: server administrator
    let acme = create_tenant(&app, "Acme").await;
    let page = app.get_html("/settings/credentials").await;
    assert!(
        page.contains("id=\"tenant-switch\""),
        "switcher appears with two tenants"
    );
    assert!(
        page.contains("Working in <strong>Test User"),
        "the personal workspace is active at first"
    );

    switch_to(&app, &acme).await;
    assert!(
        app.get_html("/settings/credentials")
            .await
            .contains("Working in <strong>Acme")
    );
    // `active` now names Acme for tokens made from here on.
    let token = app.session_token().await;
    let claims = crate::oauth::verify_with_jwks(&app, &token).await;
    assert_eq!(claims["tid"], acme.as_str());

    // Switching to a tenant one does not belong to is refused.
    let res = app
        .post_form(
            "/settings/credentials",
            "/settings/active-tenant",
            &[("tenant_id", "not-a-tenant")],
        )
        .await;
    assert_eq!(res.status(), 404);

    // Only server administrators create tenants.
    let bob = TestApp::with_client(&app, crate::helpers::client());
    bob.signed_in_user().await;
    let res = bob
        .post_form(
            "/settings/credentials",
            "/admin/tenants",
            &[("name", "Bob Corp")],
        )
        .await;
    assert_eq!(res.status(), 403);
    assert!(!app.get_html("/admin/tenants").await.contains("Bob Corp"));
}

/// The row of the member list showing `user_id`.
fn member_row(page: &str, user_id: &str) -> String {
    let at = page
        .find(&format!("data-member=\"{user_id}\""))
        .expect("member listed");
    page[at..].split("</tr>").next().unwrap().to_owned()
}

#[tokio::test]
async fn tenant_admins_invite_change_roles_and_remove_members() {
    let app = spawn_app().await;
    app.signed_in_user().await;
    let acme = create_tenant(&app, "Acme").await;
    let bob = TestApp::with_client(&app, crate::helpers::client());
    let bob_email = bob.signed_in_user().await;

    invite_and_accept(&app, &acme, &bob, &bob_email, "viewer").await;
    let page = app.get_html(&format!("/admin/tenants/{acme}")).await;
    let member_ids: Vec<String> = page
        .match_indices("data-member=\"")
        .map(|(i, m)| page[i + m.len()..].split('"').next().unwrap().to_owned())
        .collect();
    let (admin_id, bob_id) = (&member_ids[0], &member_ids[1]);
    let row = member_row(&page, bob_id);
    assert!(row.contains(&bob_email) && row.contains("value=\"viewer\" selected"));

    // Bob sees Acme in his switcher but, as a viewer, cannot administer it.
    let page = bob.get_html("/settings/credentials").await;
    assert!(page.contains(">Acme</option>"));
    switch_to(&bob, &acme).await;
    assert_eq!(bob.get("/admin/system-credentials").await.status(), 403);
    assert_eq!(
        bob.get(&format!("/admin/tenants/{acme}")).await.status(),
        403
    );
    let token = bob.session_token().await;
    let res = bob
        .client
        .get(bob.url("/api/v1/auth-management/clients"))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 403);
    assert_eq!(
        res.json::<Value>().await.unwrap()["error"]["code"],
        "insufficient_permissions"
    );

    // Bad input is explained.
    for (email, role) in [("not-an-email", "viewer"), (bob_email.as_str(), "owner")] {
        let res = app
            .post_form(
                &format!("/admin/tenants/{acme}"),
                &format!("/admin/tenants/{acme}/invitations"),
                &[("email", email), ("role", role)],
            )
            .await;
        assert_eq!(res.status(), 422, "{email} {role}");
    }

    // Roles change from the member list.
    let res = app
        .post_form(
            &format!("/admin/tenants/{acme}"),
            &format!("/admin/tenants/{acme}/members/{bob_id}/role"),
            &[("role", "editor")],
        )
        .await;
    assert_eq!(res.status(), 303);
    let page = app.get_html(&format!("/admin/tenants/{acme}")).await;
    assert!(member_row(&page, bob_id).contains("value=\"editor\" selected"));

    // The last administrator can be neither demoted nor removed; Bob can be removed.
    let res = app
        .post_form(
            &format!("/admin/tenants/{acme}"),
            &format!("/admin/tenants/{acme}/members/{admin_id}/role"),
            &[("role", "viewer")],
        )
        .await;
    assert_eq!(res.status(), 409);
    let res = app
        .post_form(
            &format!("/admin/tenants/{acme}"),
            &format!("/admin/tenants/{acme}/members/{admin_id}/remove"),
            &[],
        )
        .await;
    assert_eq!(res.status(), 409);
    let res = app
        .post_form(
            &format!("/admin/tenants/{acme}"),
            &format!("/admin/tenants/{acme}/members/{bob_id}/remove"),
            &[],
        )
        .await;
    assert_eq!(res.status(), 303);
    assert!(
        !bob.get_html("/settings/credentials")
            .await
            .contains(">Acme</option>")
    );
}

#[tokio::test]
async fn credentials_of_one_tenant_cannot_reach_another() {
    let app = spawn_app().await;
    app.signed_in_user().await;
    let personal_token = app.session_token().await;
    let personal = crate::oauth::verify_with_jwks(&app, &personal_token).await["tid"]
        .as_str()
        .unwrap()
        .to_owned();
    let acme = create_tenant(&app, "Acme").await;
    switch_to(&app, &acme).await;
    let acme_token = app.session_token().await;
    let (_, key) =
        crate::helpers::create_api_key(&app, &acme_token, "acme-key", &["read", "admin"]).await;
    let key = key.as_str();
    let sys: Value = app
        .client
        .post(app.url("/api/v1/auth-management/clients"))
        .bearer_auth(&acme_token)
        .json(&json!({"name": "acme-machine"}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();

    // The Acme key works in Acme and sees nothing of the personal tenant, though both are the same person's.
    assert_eq!(
        app.client
            .get(app.url(&format!("/api/v1/{acme}/api-keys")))
            .bearer_auth(key)
            .send()
            .await
            .unwrap()
            .status(),
        200
    );
    let res = app
        .client
        .get(app.url(&format!("/api/v1/{personal}/api-keys")))
        .bearer_auth(key)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 404);
    // Acme's system credentials are invisible from the personal tenant.
    let list: Value = app
        .client
        .get(app.url("/api/v1/auth-management/clients"))
        .bearer_auth(&personal_token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(list["data"].as_array().unwrap().is_empty());
    let res = app
        .client
        .delete(app.url(&format!(
            "/api/v1/auth-management/clients/{}",
            sys["client_id"].as_str().unwrap()
        )))
        .bearer_auth(&personal_token)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 404);
    // Personal-tenant keys are not listed in Acme.
    let listed: Value = app
        .client
        .get(app.url(&format!("/api/v1/{personal}/api-keys")))
        .bearer_auth(&personal_token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(listed["data"].as_array().unwrap().is_empty());
    // Acme's machine token carries Acme.
    let login: Value = app
        .client
        .post(app.url("/api/v0/login"))
        .basic_auth(
            sys["client_id"].as_str().unwrap(),
            sys["client_secret"].as_str(),
        )
        .json(&json!({"grant_type": "client_credentials"}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(
        crate::oauth::verify_with_jwks(&app, login["access_token"].as_str().unwrap()).await["tid"],
        acme.as_str()
    );
}

#[tokio::test]
async fn system_credentials_page_creates_edits_and_deletes() {
    let app = spawn_app().await;
    app.signed_in_user().await;
    let res = app
        .post_form(
            "/admin/system-credentials",
            "/admin/system-credentials",
            &[
                ("name", "Nightly ETL"),
                ("role", "viewer"),
                (
                    "resource_roles",
                    "editor dataset:c1a7cb60-1731-4c0f-b966-165263c30896",
                ),
            ],
        )
        .await;
    let res = app.reveal(res).await;
    let page = res.text().await.unwrap();
    assert!(page.contains("will not be shown again"));
    let secret = revealed(&page);
    assert!(secret.starts_with("sys_"));
    let id_marker = "id=\"system-client-id\">";
    let id = page[page.find(id_marker).unwrap() + id_marker.len()..]
        .split('<')
        .next()
        .unwrap()
        .to_owned();
    let listing = app.get_html("/admin/system-credentials").await;
    assert!(listing.contains("Nightly ETL") && !listing.contains(&secret));
    assert!(listing.contains("editor dataset:c1a7cb60-1731-4c0f-b966-165263c30896"));

    // Edit the roles in place: the boxes and the lines are what was saved.
    let update = format!("/admin/system-credentials/{id}/update");
    let res = app
        .post_form(
            "/admin/system-credentials",
            &update,
            &[
                ("name", "ETL"),
                ("role", "admin"),
                (
                    "resource_roles",
                    "editor dataset:c1a7cb60-1731-4c0f-b966-165263c30896",
                ),
            ],
        )
        .await;
    assert_eq!(res.status(), 303);
    let page = app.get_html("/admin/system-credentials").await;
    assert!(page.contains("id=\"flash\""), "a message says it was saved");
    let row = page.split(&format!("data-client=\"{id}\"")).nth(1).unwrap();
    assert!(row.contains("value=\"admin\" checked"));
    assert!(!row.contains("value=\"viewer\" checked"));
    assert!(row.contains("editor dataset:c1a7cb60-1731-4c0f-b966-165263c30896"));

    // An empty choice no longer means full access: it is refused and nothing changes.
    let res = app
        .post_form(
            "/admin/system-credentials",
            &update,
            &[("name", "ETL"), ("resource_roles", "")],
        )
        .await;
    assert_eq!(res.status(), 422);
    assert!(res.text().await.unwrap().contains("tick Full access"));
    // Roles and full access together are refused too.
    let res = app
        .post_form(
            "/admin/system-credentials",
            &update,
            &[("name", "ETL"), ("role", "viewer"), ("full_access", "yes")],
        )
        .await;
    assert_eq!(res.status(), 422);
    // Full access only when ticked; the page then says so plainly.
    let res = app
        .post_form(
            "/admin/system-credentials",
            &update,
            &[("name", "ETL"), ("full_access", "yes")],
        )
        .await;
    assert_eq!(res.status(), 303);
    let page = app.get_html("/admin/system-credentials").await;
    assert!(page.contains("full access to all resources"));
    // Bad roles are explained.
    let res = app
        .post_form(
            "/admin/system-credentials",
            &update,
            &[("name", "ETL"), ("role", "owner")],
        )
        .await;
    assert_eq!(res.status(), 422);
    // A form without CSRF changes nothing.
    let res = app
        .client
        .post(app.url(&format!("/admin/system-credentials/{id}/delete")))
        .form(&[("x", "y")])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 403);
    let res = app
        .post_form(
            "/admin/system-credentials",
            &format!("/admin/system-credentials/{id}/delete"),
            &[],
        )
        .await;
    assert_eq!(res.status(), 303);
    assert!(
        !app.get_html("/admin/system-credentials")
            .await
            .contains(&format!("data-client=\"{id}\""))
    );
    let _ = csrf_token;
}

#[tokio::test]
async fn an_admin_creates_uses_and_deletes_a_system_credential_in_a_real_browser() {
    let app = spawn_app().await;
    let email = app.signed_in_user().await;
    app.sign_out().await;
    let base = app.address.clone();
    let creds: Arc<Mutex<Option<(String, String)>>> = Arc::default();
    let out = creds.clone();
    let http = reqwest::Client::new();
    let login_url = app.url("/api/v0/login");
    with_browser("system-credentials", move |b| async move {
        b.goto(&format!("{base}/signin")).await.unwrap();
        fill(&b, "email", &email).await;
        fill(&b, "password", "correct horse battery").await;
        click(&b, "form[action='/signin'] button[type=submit]").await;
        wait_for_path(&b, "/account").await;
        b.find(Locator::LinkText("System credentials"))
            .await
            .unwrap()
            .click()
            .await
            .unwrap();
        wait_for_path(&b, "/admin/system-credentials").await;
        fill(&b, "system-name", "Browser machine").await;
        click(&b, "#system-role-viewer").await;
        click(&b, "#create-system-credential").await;
        let secret = b
            .wait()
            .for_element(Locator::Id("revealed-secret"))
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        let id = b
            .find(Locator::Id("system-client-id"))
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        screenshot(&b, "system-credentials").await;

        let res = http
            .post(&login_url)
            .basic_auth(&id, Some(&secret))
            .json(&json!({"grant_type": "client_credentials"}))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 200, "the new credential logs in");

        b.find(Locator::Id("reveal-continue"))
            .await
            .unwrap()
            .click()
            .await
            .unwrap();
        wait_for_path(&b, "/admin/system-credentials").await;

        b.execute("window.confirm = () => true", vec![])
            .await
            .unwrap();
        click(
            &b,
            &format!("section[data-client='{id}'] form[action$='/delete'] button"),
        )
        .await;
        wait_for_path(&b, "/admin/system-credentials").await;
        for _ in 0..50 {
            if !b.source().await.unwrap().contains("Browser machine") {
                break;
            }
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        }
        assert!(!b.source().await.unwrap().contains("Browser machine"));
        *out.lock().unwrap() = Some((id, secret));
    })
    .await;
    let Some((id, secret)) = creds.lock().unwrap().clone() else {
        return;
    };
    let res = app
        .client
        .post(app.url("/api/v0/login"))
        .basic_auth(&id, Some(&secret))
        .json(&json!({"grant_type": "client_credentials"}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 401, "deleted: the next login fails");
    let _ = tenant_id_by_name;
}
