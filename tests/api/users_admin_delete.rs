//! Deleting an account: by a server administrator on Admin → Users (the email typed to confirm),
//! or by the person on Account → Delete account (with their password too). The account and
//! everything it held are gone; the last administrator of a tenant or of the server is refused
//! with a message.

use crate::credentials::get;
use crate::helpers::{TestApp, client, create_tenant, location, spawn_app};
use crate::tenancy::{mint_all, stored_user_id};
use crate::users_admin::{act, admin_and_person, events};

const PASSWORD: &str = "correct horse battery";

async fn delete_own(app: &TestApp, password: &str, typed: &str) -> reqwest::Response {
    app.post_form(
        "/account/delete",
        "/account/delete",
        &[("current_password", password), ("confirm_email", typed)],
    )
    .await
}

#[tokio::test]
async fn an_administrator_deletes_a_person_only_with_their_email_typed() {
    let (admin, person, email, id) = admin_and_person().await;
    let held = mint_all(&person).await;

    let page = admin.get_html(&format!("/admin/users/{id}/delete")).await;
    assert!(page.contains(&format!("Type <strong>{email}</strong> to confirm")));
    let res = act(&admin, &id, "delete", &[("confirm_email", "someone-else@example.com")]).await;
    assert_eq!(res.status(), 422);
    assert!(res.text().await.unwrap().contains("id=\"delete-error\""));
    assert_eq!(get(&person, "/v1/users/me", &held.api_key).await.status(), 200);

    let res = act(&admin, &id, "delete", &[("confirm_email", &email.to_uppercase())]).await;
    assert_eq!(res.status(), 303);
    assert_eq!(location(&res), "/admin/users");
    assert!(!admin.get_html("/admin/users").await.contains(&email));
    // Signed out, and nothing they held works.
    assert_eq!(person.get("/account").await.status(), 303);
    for bearer in [&held.api_key, &held.pat, &held.secret_key, &held.session_token] {
        assert_eq!(get(&person, "/v1/users/me", bearer).await.status(), 401);
    }
    assert_eq!(person.sign_in(&email, PASSWORD).await.status(), 401);
    // Their email address may sign up again, as a new account.
    let again = TestApp::with_client(&admin, client());
    assert_eq!(again.sign_up(&email, "Again", PASSWORD).await.status(), 303);
    assert_ne!(stored_user_id(&again).await, id);

    let deleted = events(&admin, "user.deleted").await;
    assert_eq!(deleted.len(), 1, "{deleted:?}");
    assert_eq!(deleted[0]["subject_user_id"], id.as_str());
    assert_eq!(deleted[0]["detail"]["email"], email.as_str());
}

#[tokio::test]
async fn the_last_administrator_of_a_tenant_is_not_deleted_and_the_message_names_it() {
    let (admin, person, email, id) = admin_and_person().await;
    // The person is made a server administrator to create a tenant, then demoted again.
    assert_eq!(act(&admin, &id, "admin", &[("admin", "true")]).await.status(), 303);
    create_tenant(&person, "Globex").await;
    assert_eq!(act(&admin, &id, "admin", &[("admin", "false")]).await.status(), 303);

    let res = act(&admin, &id, "delete", &[("confirm_email", &email)]).await;
    assert_eq!(res.status(), 409);
    let page = res.text().await.unwrap();
    assert!(page.contains("last administrator of the tenant “Globex”"), "{page}");
    assert_eq!(person.get("/account").await.status(), 200, "still there");
    // Their own deletion is refused the same way.
    let res = delete_own(&person, PASSWORD, &email).await;
    assert_eq!(res.status(), 409);
    assert!(res.text().await.unwrap().contains("Globex"));
}

#[tokio::test]
async fn a_person_deletes_their_own_account_with_their_password_and_email() {
    let (admin, person, email, id) = admin_and_person().await;
    let held = mint_all(&person).await;
    assert!(person.get_html("/account").await.contains("href=\"/account/delete\""));

    let res = delete_own(&person, "not my password", &email).await;
    assert_eq!(res.status(), 401);
    assert!(res.text().await.unwrap().contains("Your current password is not correct."));
    let res = delete_own(&person, PASSWORD, "typo@example.com").await;
    assert_eq!(res.status(), 422);
    assert_eq!(get(&person, "/v1/users/me", &held.api_key).await.status(), 200);

    let res = delete_own(&person, PASSWORD, &email).await;
    assert_eq!(res.status(), 303);
    assert_eq!(location(&res), "/signin");
    let res = person.get("/account").await;
    assert_eq!(res.status(), 303, "signed out");
    for bearer in [&held.api_key, &held.pat, &held.personal_token, &held.session_token] {
        assert_eq!(get(&person, "/v1/users/me", bearer).await.status(), 401);
    }
    assert_eq!(person.sign_in(&email, PASSWORD).await.status(), 401);

    let deleted = events(&admin, "account.deleted").await;
    assert_eq!(deleted.len(), 1, "{deleted:?}");
    assert_eq!(deleted[0]["actor_id"], id.as_str());
    assert_eq!(events(&admin, "account.delete_failed").await.len(), 1);
}

#[tokio::test]
async fn the_last_server_administrator_cannot_delete_their_own_account() {
    let admin = spawn_app().await;
    let email = admin.signed_in_user().await;
    let res = delete_own(&admin, PASSWORD, &email).await;
    assert_eq!(res.status(), 409);
    assert!(res.text().await.unwrap().contains("last active administrator"));
    assert_eq!(admin.get("/admin/users").await.status(), 200);
}
