//! Admin → Users: searching and paging, every action refused to people who are not server
//! administrators (and without the form token), the old People address, administrator rights
//! with the last-administrator refusal, force sign-out, and each action's audit event.

use serde_json::Value;

use crate::helpers::{TestApp, client, csrf_token, location, spawn_app};
use crate::tenancy::stored_user_id;

/// The first account (the server administrator), and another person signed in on their own
/// client: (admin, person, person's email, person's stored id).
pub async fn admin_and_person() -> (TestApp, TestApp, String, String) {
    let admin = spawn_app().await;
    admin.signed_in_user().await;
    let person = TestApp::with_client(&admin, client());
    let email = person.signed_in_user().await;
    let id = stored_user_id(&person).await;
    (admin, person, email, id)
}

/// Posts one of the Users page's forms for the person `id`.
pub async fn act(app: &TestApp, id: &str, action: &str, fields: &[(&str, &str)]) -> reqwest::Response {
    app.post_form("/admin/users", &format!("/admin/users/{id}/{action}"), fields)
        .await
}

/// The Users page's row of `email`.
pub fn row(page: &str, email: &str) -> String {
    let at = page
        .find(&format!("data-email=\"{email}\""))
        .unwrap_or_else(|| panic!("{email} listed"));
    page[at..].split("</tr>").next().unwrap().to_owned()
}

/// The audit events of `event_type`, read by the administrator signed in on `admin`.
pub async fn events(admin: &TestApp, event_type: &str) -> Vec<Value> {
    let token = admin.session_token().await;
    let res = admin
        .client
        .get(admin.url(&format!("/api/v1/audit-events?event_type={event_type}")))
        .bearer_auth(token)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let page: Value = res.json().await.unwrap();
    page["data"].as_array().unwrap().clone()
}

/// Signs up `n` people named `prefix-i` on fresh clients.
async fn sign_up_many(app: &TestApp, prefix: &str, n: usize) {
    for i in 0..n {
        let other = TestApp::with_client(app, client());
        let res = other
            .sign_up(
                &format!("{prefix}-{i}@example.com"),
                &format!("{prefix} {i}"),
                "correct horse battery",
            )
            .await;
        assert_eq!(res.status(), 303);
    }
}

#[tokio::test]
async fn the_users_page_searches_names_and_emails_whatever_their_case_and_pages_by_fifty() {
    let admin = spawn_app().await;
    admin.signed_in_user().await;
    sign_up_many(&admin, "Zed", 52).await;
    sign_up_many(&admin, "percent%", 1).await;

    let first = admin.get_html("/admin/users").await;
    assert!(first.contains("<title>Users"), "titled Users");
    assert!(first.contains("54 account(s)"));
    assert_eq!(first.matches("<tr data-user=").count(), 50);
    assert!(first.contains("id=\"next-page\""));
    assert!(!first.contains("id=\"previous-page\""));

    let second = admin.get_html("/admin/users?page=2").await;
    assert_eq!(second.matches("<tr data-user=").count(), 4);
    assert!(second.contains("id=\"previous-page\""));
    assert!(!second.contains("id=\"next-page\""));

    // By name, any case; the paging links keep the search.
    let found = admin.get_html("/admin/users?q=zED").await;
    assert!(found.contains("52 account(s) matching"));
    let next = found
        .split("rel=\"next\"")
        .next()
        .unwrap()
        .rsplit("href=\"")
        .next()
        .unwrap();
    assert!(next.starts_with("/admin/users?q=zED&") && next.contains("page=2"), "{next}");
    // By email; `%` matches itself, not anything.
    let found = admin.get_html("/admin/users?q=ZED-51%40EXAMPLE").await;
    assert_eq!(found.matches("<tr data-user=").count(), 1);
    assert!(row(&found, "zed-51@example.com").contains("Zed 51"));
    let found = admin.get_html("/admin/users?q=t%25").await;
    assert_eq!(found.matches("<tr data-user=").count(), 1);
    let none = admin.get_html("/admin/users?q=nobody-here").await;
    assert_eq!(none.matches("<tr data-user=").count(), 0);
    // A search longer than any name or address is refused.
    let long = "x".repeat(300);
    let res = admin.get(&format!("/admin/users?q={long}")).await;
    assert_eq!(res.status(), 422);
}

#[tokio::test]
async fn the_page_shows_status_administrator_verified_created_and_last_sign_in() {
    let (admin, person, email, _) = admin_and_person().await;
    person.sign_out().await;
    assert_eq!(person.sign_in(&email, "correct horse battery").await.status(), 303);
    // The audit log is written in the background: wait for the sign-in to land.
    let mut page = String::new();
    for _ in 0..50 {
        page = admin.get_html("/admin/users").await;
        if !row(&page, &email).contains("unknown") {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    let r = row(&page, &email);
    assert!(r.contains("active"), "{r}");
    assert!(r.contains("not verified"), "{r}");
    assert!(r.contains("<td class=\"admin\"><span class=\"muted\">No"), "{r}");
    assert!(!r.contains("unknown"), "last sign-in shown: {r}");
    assert!(page.contains("(you)"), "the administrator's own row is marked");
}

#[tokio::test]
async fn the_old_people_address_redirects_permanently_to_users() {
    let (admin, person, _, _) = admin_and_person().await;
    let res = admin.get("/admin/people").await;
    assert_eq!(res.status(), 308);
    assert_eq!(location(&res), "/admin/users");
    assert!(admin.get_html("/account").await.contains("href=\"/admin/users\">Users</a>"));
    // Someone else is still refused once they follow it.
    assert_eq!(person.get("/admin/users").await.status(), 403);
}

#[tokio::test]
async fn every_action_is_refused_to_a_person_who_is_not_a_server_administrator() {
    let (admin, person, _, _) = admin_and_person().await;
    let admin_id = stored_user_id(&admin).await;
    let csrf = csrf_token(&person.get_html("/account").await);
    for (action, fields) in [
        ("disable", vec![]),
        ("enable", vec![]),
        ("sign-out", vec![]),
        ("admin", vec![("admin", "true")]),
        ("admin", vec![("admin", "false")]),
        ("delete", vec![("confirm_email", "x@example.com")]),
        ("reset-factors", vec![]),
        ("email-verified", vec![("verified", "true")]),
    ] {
        let mut form = fields.clone();
        form.push(("csrf_token", csrf.as_str()));
        let res = person
            .client
            .post(person.url(&format!("/admin/users/{admin_id}/{action}")))
            .form(&form)
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 403, "{action}");
    }
    assert_eq!(
        person.get(&format!("/admin/users/{admin_id}/delete")).await.status(),
        403
    );
    // The administrator is untouched.
    let page = admin.get_html("/admin/users").await;
    assert!(!page.contains("<span class=\"badge\">disabled</span>"));
}

#[tokio::test]
async fn every_action_is_refused_without_the_form_token() {
    let (admin, person, email, id) = admin_and_person().await;
    for action in ["disable", "enable", "sign-out", "admin", "delete"] {
        let res = admin
            .client
            .post(admin.url(&format!("/admin/users/{id}/{action}")))
            .form(&[("admin", "true"), ("confirm_email", email.as_str())])
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 403, "{action}");
    }
    // Nothing happened: the person is still signed in, an ordinary account.
    assert_eq!(person.get("/account").await.status(), 200);
    let r = row(&admin.get_html("/admin/users").await, &email);
    assert!(r.contains("active") && r.contains("Make administrator"), "{r}");
}

#[tokio::test]
async fn administrator_rights_are_granted_and_revoked_but_never_from_the_last_administrator() {
    let (admin, person, email, id) = admin_and_person().await;
    let admin_id = stored_user_id(&admin).await;
    // Not from this page, to oneself.
    let res = act(&admin, &admin_id, "admin", &[("admin", "false")]).await;
    assert_eq!(res.status(), 403);

    let res = act(&admin, &id, "admin", &[("admin", "true")]).await;
    assert_eq!(res.status(), 303);
    assert_eq!(location(&res), "/admin/users");
    assert!(row(&admin.get_html("/admin/users").await, &email).contains("Revoke administrator"));
    // The new administrator sees the page, and may demote the first one.
    assert_eq!(person.get("/admin/users").await.status(), 200);
    let res = act(&person, &admin_id, "admin", &[("admin", "false")]).await;
    assert_eq!(res.status(), 303);
    assert_eq!(admin.get("/admin/users").await.status(), 403);
    // The last administrator is refused to demote themselves; disabling them is refused too.
    let res = act(&person, &id, "admin", &[("admin", "false")]).await;
    assert_eq!(res.status(), 403);
    assert_eq!(person.get("/admin/users").await.status(), 200);

    let granted = events(&person, "user.admin_granted").await;
    assert_eq!(granted.len(), 1, "{granted:?}");
    assert_eq!(granted[0]["actor_id"], admin_id.as_str());
    assert_eq!(granted[0]["subject_user_id"], id.as_str());
    let revoked = events(&person, "user.admin_revoked").await;
    assert_eq!(revoked.len(), 1, "{revoked:?}");
    assert_eq!(revoked[0]["subject_user_id"], admin_id.as_str());
}

#[tokio::test]
async fn an_administrator_cannot_disable_or_delete_their_own_account_here() {
    let (admin, _, _, _) = admin_and_person().await;
    let admin_id = stored_user_id(&admin).await;
    assert_eq!(act(&admin, &admin_id, "disable", &[]).await.status(), 403);
    assert_eq!(act(&admin, &admin_id, "sign-out", &[]).await.status(), 403);
    let admin_email = admin
        .get_html("/account")
        .await
        .split("id=\"account-email\">")
        .nth(1)
        .unwrap()
        .split('<')
        .next()
        .unwrap()
        .to_owned();
    let res = act(&admin, &admin_id, "delete", &[("confirm_email", &admin_email)]).await;
    assert_eq!(res.status(), 403);
    assert_eq!(admin.get("/admin/users").await.status(), 200);
}

#[tokio::test]
async fn signing_a_person_out_ends_their_sessions_and_session_tokens_and_is_audited() {
    let (admin, person, _, id) = admin_and_person().await;
    let token = person.session_token().await;
    assert_eq!(crate::credentials::get(&person, "/v1/users/me", &token).await.status(), 200);

    let res = act(&admin, &id, "sign-out", &[]).await;
    assert_eq!(res.status(), 303);
    let res = person.get("/account").await;
    assert_eq!(res.status(), 303, "signed out");
    assert!(location(&res).starts_with("/signin"));
    assert_eq!(crate::credentials::get(&person, "/v1/users/me", &token).await.status(), 401);

    let signed_out = events(&admin, "user.signed_out").await;
    assert_eq!(signed_out.len(), 1);
    assert_eq!(signed_out[0]["subject_user_id"], id.as_str());
    assert_eq!(signed_out[0]["detail"]["sessions_ended"], 1);
}
