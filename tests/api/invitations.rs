//! Invitations to a tenant: the inviter learns nothing about who has an account, only the
//! invited address can accept, and nobody is a member before accepting.

use reqwest::Method;

use crate::helpers::{
    TestApp, client, create_api_key, invitation_on_account_page, invite_and_accept, location,
    switch_to,
};
use crate::membership_helpers::{World, id_of, mine, person, send, status, user_id, world};
use crate::helpers::on_both_backends;

fn notice(page: &str) -> &str {
    let marker = "id=\"tenants-notice\">";
    let at = page.find(marker).expect("notice shown") + marker.len();
    page[at..].split('<').next().unwrap()
}

#[tokio::test]
async fn inviting_answers_the_same_for_unknown_known_member_and_invited_addresses() {
    let w = world().await;
    let (_, bob_email, _) = person(&w.app).await;
    let (carol, carol_email, _) = person(&w.app).await;
    invite_and_accept(&w.app, &w.acme, &carol, &carol_email, "editor").await;
    let (_, dave_email, _) = person(&w.app).await;
    assert_eq!(w.invite(&w.admin, &dave_email, "viewer").await.0, 202);
    let unknown = format!("nobody-{}@example.com", uuid::Uuid::new_v4().simple());
    let addresses = [unknown.as_str(), &bob_email, &carol_email, &dave_email];

    // On the page: status, redirect, body and the notice shown after it.
    let mut pages = Vec::new();
    for email in addresses {
        let res = w.invite_page(email, "viewer").await;
        let to = location(&res);
        let status = res.status();
        let body = res.text().await.unwrap();
        let notice = notice(&w.app.get_html(&to).await).to_owned();
        pages.push((status, to, body, notice));
    }
    assert_eq!(pages[0].0, 303);
    assert!(pages.iter().all(|p| *p == pages[0]), "{pages:?}");

    // Back to where we started (only Dave invited), then through the API.
    for i in w.pending().await {
        if i["email"] != dave_email.as_str() {
            let path = format!("/api/v1/{}/invitations/{}", w.acme, id_of(&i));
            assert_eq!(
                status(&w.app, Method::DELETE, &path, &w.admin, None).await,
                204
            );
        }
    }
    let mut api = Vec::new();
    for email in addresses {
        api.push(w.invite(&w.admin, email, "viewer").await);
    }
    assert_eq!(api[0].0, 202);
    assert!(api.iter().all(|a| *a == api[0]), "{api:?}");
}

#[tokio::test]
async fn an_invitation_for_one_address_cannot_be_accepted_by_another_account() {
    let w = world().await;
    let (_, bob_email, bob) = person(&w.app).await;
    let (mallory_app, _, mallory) = person(&w.app).await;
    w.invite(&w.admin, &bob_email, "admin").await;
    let id = id_of(&mine(&w.app, &bob).await[0]);

    assert!(mine(&w.app, &mallory).await.is_empty());
    for action in ["accept", "decline"] {
        let path = format!("/api/v1/invitations/{id}/{action}");
        let (status, body) = send(&w.app, Method::POST, &path, &mallory, None).await;
        assert_eq!(status, 404, "{action}");
        assert_eq!(body["error"]["code"], "not_found");
        let page_action = format!("/account/invitations/{id}/{action}");
        let res = mallory_app.post_form("/account", &page_action, &[]).await;
        assert_eq!(res.status(), 404, "{action} on the page");
    }
    let mallory_id = user_id(&w.app, &mallory).await;
    let members = w.members().await;
    assert!(members.iter().all(|m| m["user_id"] != mallory_id.as_str()));
    assert_eq!(mine(&w.app, &bob).await.len(), 1, "still pending for Bob");
}

on_both_backends!(
    an_expired_invitation_cannot_be_accepted,
    |app: TestApp| async move {
        let mut w = World::on(app).await;
        let (bob_app, bob_email, bob) = person(&w.app).await;
        w.invite(&w.admin, &bob_email, "viewer").await;
        let id = id_of(&mine(&w.app, &bob).await[0]);
        // Keys that outlive the fortnight (session tokens last an hour).
        let (_, admin_key) =
            crate::helpers::create_api_key(&w.app, &w.admin, "admin", &["read", "admin"]).await;
        w.admin = admin_key;
        let (_, bob) =
            crate::helpers::create_api_key(&bob_app, &bob, "bob", &["read", "admin"]).await;
        w.app.clock.advance(15 * 86_400);
        assert!(mine(&w.app, &bob).await.is_empty());
        assert!(w.pending().await.is_empty());
        let path = format!("/api/v1/invitations/{id}/accept");
        assert_eq!(status(&w.app, Method::POST, &path, &bob, None).await, 404);
        assert_eq!(w.members().await.len(), 1);
    }
);

#[tokio::test]
async fn a_revoked_invitation_cannot_be_accepted() {
    let w = world().await;
    let (bob_app, bob_email, bob) = person(&w.app).await;
    w.invite(&w.admin, &bob_email, "viewer").await;
    let id = id_of(&w.pending().await[0]);
    let path = format!("/api/v1/{}/invitations/{id}", w.acme);
    assert_eq!(
        status(&w.app, Method::DELETE, &path, &w.admin, None).await,
        204
    );
    assert_eq!(
        status(&w.app, Method::DELETE, &path, &w.admin, None).await,
        404
    );
    assert!(
        invitation_on_account_page(&bob_app, &w.acme)
            .await
            .is_none()
    );
    let accept = format!("/api/v1/invitations/{id}/accept");
    assert_eq!(status(&w.app, Method::POST, &accept, &bob, None).await, 404);
    assert_eq!(w.members().await.len(), 1);
}

#[tokio::test]
async fn malformed_invitations_are_refused_before_anything_is_stored() {
    let w = world().await;
    let long = format!("{}@example.com", "a".repeat(250));
    for (email, role) in [
        ("not-an-email", "viewer"),
        (long.as_str(), "viewer"),
        ("ada@example.com", "owner"),
        ("", "viewer"),
    ] {
        let (status, body) = w.invite(&w.admin, email, role).await;
        assert_eq!(status, 422, "{email:.20} {role}");
        assert!(body.contains("validation_failed"), "{body}");
        assert_eq!(w.invite_page(email, role).await.status(), 422);
    }
    assert!(w.pending().await.is_empty());
}

on_both_backends!(
    invitee_is_not_a_member_until_accepting,
    |app: TestApp| async move {
        let w = World::on(app).await;
        let (bob_app, bob_email, bob) = person(&w.app).await;
        let (_, personal_key) = create_api_key(&bob_app, &bob, "mine", &["read", "admin"]).await;
        let (code, body) = w.invite(&w.admin, &bob_email, "editor").await;
        assert_eq!(
            (code, body.as_str()),
            (202, r#"{"status":"pending","role":"editor"}"#)
        );

        // Invited only: Acme does not exist for Bob, whatever he presents.
        let acme_members = format!("/api/v1/{}/members", w.acme);
        for token in [&personal_key, &bob] {
            assert_eq!(
                status(&w.app, Method::GET, &acme_members, token, None).await,
                404
            );
        }
        let switch = [("tenant_id", w.acme.as_str())];
        let res = bob_app
            .post_form("/settings/credentials", "/settings/active-tenant", &switch)
            .await;
        assert_eq!(res.status(), 404);
        let bob_id = user_id(&w.app, &bob).await;
        assert!(
            w.members()
                .await
                .iter()
                .all(|m| m["user_id"] != bob_id.as_str())
        );
        let invitations = mine(&w.app, &bob).await;
        assert_eq!(invitations.len(), 1);
        assert_eq!(invitations[0]["tenant_name"], "Acme");
        assert_eq!(invitations[0]["role"], "editor");

        // Accepting makes him a member with the invited role.
        let accept = format!("/api/v1/invitations/{}/accept", id_of(&invitations[0]));
        let (code, joined) = send(&w.app, Method::POST, &accept, &bob, None).await;
        assert_eq!(code, 200);
        assert_eq!(joined["tenant_id"], w.acme.as_str());
        assert_eq!(joined["role"], "editor");
        let members = w.members().await;
        let row = members.iter().find(|m| m["user_id"] == bob_id.as_str());
        assert_eq!(row.unwrap()["role"], "editor");
        assert!(mine(&w.app, &bob).await.is_empty(), "no longer pending");
        switch_to(&bob_app, &w.acme).await;
        let in_acme = bob_app.session_token().await;
        assert_eq!(
            status(&w.app, Method::GET, &acme_members, &in_acme, None).await,
            200
        );
        // A key of his personal tenant still cannot name Acme.
        assert_eq!(
            status(&w.app, Method::GET, &acme_members, &personal_key, None).await,
            404
        );
    }
);

#[tokio::test]
async fn declining_leaves_the_invitee_out() {
    let w = world().await;
    let (bob_app, bob_email, bob) = person(&w.app).await;
    w.invite(&w.admin, &bob_email, "viewer").await;
    let id = invitation_on_account_page(&bob_app, &w.acme).await.unwrap();
    let decline = format!("/account/invitations/{id}/decline");
    // A form without its CSRF token changes nothing.
    for action in ["accept", "decline"] {
        let url = bob_app.url(&format!("/account/invitations/{id}/{action}"));
        let res = bob_app
            .client
            .post(url)
            .form(&[("x", "y")])
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 403, "{action} without CSRF");
    }
    assert_eq!(mine(&w.app, &bob).await.len(), 1);
    assert_eq!(
        bob_app.post_form("/account", &decline, &[]).await.status(),
        303
    );
    assert!(mine(&w.app, &bob).await.is_empty());
    assert!(w.pending().await.is_empty());
    assert_eq!(w.members().await.len(), 1);
    let accept = format!("/api/v1/invitations/{id}/accept");
    assert_eq!(status(&w.app, Method::POST, &accept, &bob, None).await, 404);
}

#[tokio::test]
async fn someone_signing_up_with_an_invited_address_sees_the_invitation() {
    let w = world().await;
    let email = format!("Newcomer-{}@Example.com", uuid::Uuid::new_v4().simple());
    w.invite(&w.admin, &email, "viewer").await;
    let newcomer = TestApp::with_client(&w.app, client());
    let res = newcomer
        .sign_up(&email.to_lowercase(), "Newcomer", "correct horse battery")
        .await;
    assert_eq!(location(&res), "/account");
    let page = newcomer.get_html("/account").await;
    assert!(page.contains("id=\"invitations\"") && page.contains("<td>Acme</td>"));
    let id = invitation_on_account_page(&newcomer, &w.acme)
        .await
        .unwrap();
    let accept = format!("/account/invitations/{id}/accept");
    assert_eq!(
        newcomer.post_form("/account", &accept, &[]).await.status(),
        303
    );
    let switcher = newcomer.get_html("/settings/credentials").await;
    assert!(switcher.contains(">Acme</option>"));
    assert_eq!(w.members().await.len(), 2);
}

on_both_backends!(
    administrators_list_and_revoke_invitations,
    |app: TestApp| async move {
        let w = World::on(app).await;
        w.invite(&w.admin, "ada@example.com", "viewer").await;
        w.invite(&w.admin, "ADA@example.com", "editor").await;
        let pending = w.pending().await;
        assert_eq!(
            pending.len(),
            1,
            "inviting again updates the pending invitation"
        );
        assert_eq!(pending[0]["email"], "ada@example.com");
        assert_eq!(pending[0]["role"], "editor");
        let id = id_of(&pending[0]);
        let page_path = format!("/admin/tenants/{}", w.acme);
        let page = w.app.get_html(&page_path).await;
        assert!(page.contains("<td>ada@example.com</td>"));
        assert!(page.contains(&format!("data-invitation=\"{id}\"")));
        let revoke = format!("{page_path}/invitations/{id}/revoke");
        assert_eq!(
            w.app.post_form(&page_path, &revoke, &[]).await.status(),
            303
        );
        assert!(w.pending().await.is_empty());
        assert!(!w.app.get_html(&page_path).await.contains("ada@example.com"));
    }
);
