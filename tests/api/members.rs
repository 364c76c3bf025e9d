//! The members API and who may manage members: roles change and members go only by a tenant
//! administrator's hand, a tenant keeps an administrator, and membership changes are audited.

use reqwest::Method;
use serde_json::json;

use crate::helpers::{TestApp, create_api_key, invite_and_accept, switch_to};
use crate::membership_helpers::{
    World, id_of, mine, person, send, send_raw, status, user_id, world,
};
use crate::helpers::on_both_backends;

#[tokio::test]
async fn editors_and_viewers_cannot_invite_or_manage_members() {
    let w = world().await;
    let admin_id = user_id(&w.app, &w.admin).await;
    let acme = &w.acme;
    for role in ["editor", "viewer"] {
        let (app, email, _) = person(&w.app).await;
        invite_and_accept(&w.app, acme, &app, &email, role).await;
        switch_to(&app, acme).await;
        let token = app.session_token().await;
        let (code, body) = w.invite(&token, "someone@example.com", "admin").await;
        assert_eq!(code, 403, "{role} invites");
        assert!(body.contains("insufficient_permissions"));
        let member = format!("/api/v1/{acme}/members/{admin_id}");
        for (method, path, body) in [
            (Method::GET, format!("/api/v1/{acme}/invitations"), None),
            (Method::PUT, member.clone(), Some(json!({"role": "viewer"}))),
            (Method::DELETE, member, None),
        ] {
            let code = status(&w.app, method.clone(), &path, &token, body).await;
            assert_eq!(code, 403, "{role}: {method} {path}");
        }
        let form = [("email", "someone@example.com"), ("role", "admin")];
        let action = format!("/admin/tenants/{acme}/invitations");
        let res = app.post_form("/account", &action, &form).await;
        assert_eq!(res.status(), 403, "{role} on the page");
        // Any member may list the members.
        let path = format!("/api/v1/{acme}/members");
        let (code, body) = send(&w.app, Method::GET, &path, &token, None).await;
        assert_eq!(code, 200);
        assert!(body.to_string().contains(&admin_id));
    }
    assert!(w.pending().await.is_empty(), "nothing was stored");
}

on_both_backends!(
    the_last_administrator_cannot_be_demoted_or_removed,
    |app: TestApp| async move {
        let w = World::on(app).await;
        let admin_id = user_id(&w.app, &w.admin).await;
        let (bob_app, bob_email, bob) = person(&w.app).await;
        invite_and_accept(&w.app, &w.acme, &bob_app, &bob_email, "viewer").await;
        let bob_id = user_id(&w.app, &bob).await;
        let me = format!("/api/v1/{}/members/{admin_id}", w.acme);
        let demote = Some(json!({"role": "viewer"}));
        let (code, body) = send(&w.app, Method::PUT, &me, &w.admin, demote.clone()).await;
        assert_eq!(code, 409);
        assert_eq!(body["error"]["status"], 409);
        assert_eq!(
            status(&w.app, Method::DELETE, &me, &w.admin, None).await,
            409
        );

        let bob_path = format!("/api/v1/{}/members/{bob_id}", w.acme);
        let bad = Some(json!({"role": "owner"}));
        assert_eq!(
            status(&w.app, Method::PUT, &bob_path, &w.admin, bad).await,
            422
        );
        let nobody = format!("/api/v1/{}/members/usr_0000", w.acme);
        assert_eq!(
            status(&w.app, Method::DELETE, &nobody, &w.admin, None).await,
            404
        );
        // With a second administrator, the first may step down — and then manages no more.
        let promote = Some(json!({"role": "admin"}));
        let (code, body) = send(&w.app, Method::PUT, &bob_path, &w.admin, promote).await;
        assert_eq!((code, body["role"].as_str()), (200, Some("admin")));
        assert_eq!(
            status(&w.app, Method::PUT, &me, &w.admin, demote.clone()).await,
            200
        );
        assert_eq!(
            status(&w.app, Method::PUT, &bob_path, &w.admin, demote).await,
            403
        );
    }
);

#[tokio::test]
async fn a_removed_member_loses_the_tenant_through_credentials_made_there() {
    let w = world().await;
    let (bob_app, bob_email, bob) = person(&w.app).await;
    invite_and_accept(&w.app, &w.acme, &bob_app, &bob_email, "admin").await;
    switch_to(&bob_app, &w.acme).await;
    let in_acme = bob_app.session_token().await;
    let (_, key) = create_api_key(&bob_app, &in_acme, "acme-key", &["read", "admin"]).await;
    let active = "/api/v1/active/members";
    assert_eq!(status(&w.app, Method::GET, active, &key, None).await, 200);
    let bob_id = user_id(&w.app, &bob).await;
    let path = format!("/api/v1/{}/members/{bob_id}", w.acme);
    assert_eq!(
        status(&w.app, Method::DELETE, &path, &w.admin, None).await,
        204
    );
    // The key's owner is no longer a member of its tenant: it no longer authenticates.
    assert_eq!(status(&w.app, Method::GET, active, &key, None).await, 401);
    let keys = "/api/v1/active/api-keys";
    assert_eq!(status(&w.app, Method::GET, keys, &key, None).await, 401);
    assert_eq!(
        status(&w.app, Method::GET, "/v1/users/me", &key, None).await,
        401
    );
}

#[tokio::test]
async fn membership_changes_are_audited_without_the_invited_address() {
    let w = world().await;
    let (bob_app, bob_email, bob) = person(&w.app).await;
    invite_and_accept(&w.app, &w.acme, &bob_app, &bob_email, "viewer").await;
    let bob_id = user_id(&w.app, &bob).await;
    w.invite(&w.admin, "carol@example.com", "viewer").await;
    let carol = id_of(&w.pending().await[0]);
    let revoke = format!("/api/v1/{}/invitations/{carol}", w.acme);
    assert_eq!(
        status(&w.app, Method::DELETE, &revoke, &w.admin, None).await,
        204
    );
    w.invite(&w.admin, &bob_email, "viewer").await;
    let again = id_of(&mine(&w.app, &bob).await[0]);
    let decline = format!("/api/v1/invitations/{again}/decline");
    assert_eq!(
        status(&w.app, Method::POST, &decline, &bob, None).await,
        204
    );
    let member = format!("/api/v1/{}/members/{bob_id}", w.acme);
    let editor = Some(json!({"role": "editor"}));
    assert_eq!(
        status(&w.app, Method::PUT, &member, &w.admin, editor).await,
        200
    );
    assert_eq!(
        status(&w.app, Method::DELETE, &member, &w.admin, None).await,
        204
    );

    let log_path = "/api/v1/audit-events?limit=200";
    let (code, log) = send_raw(&w.app, Method::GET, log_path, &w.admin, None).await;
    assert_eq!(code, 200);
    for event in [
        "tenant.member_invited",
        "tenant.invitation_revoked",
        "tenant.invitation_accepted",
        "tenant.invitation_declined",
        "tenant.member_role_changed",
        "tenant.member_removed",
    ] {
        let wanted = format!("\"event_type\":\"{event}\"");
        assert!(log.contains(&wanted), "{event} recorded");
    }
    assert!(!log.contains("carol@example.com") && !log.contains(&bob_email));
}
