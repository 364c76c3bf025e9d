//! What ends a JWT ends an opaque access token too: refresh-token reuse and withdrawn consent
//! (its family revoked), the app deleted, the person disabled (until enabled again) or removed.

use crate::helpers::spawn_app;
use crate::oauth_helpers::*;
use crate::opaque_tokens::{assert_opaque, code_tokens, me, opaque_client, token_of};
use crate::users_admin::{act, admin_and_person};

#[tokio::test]
async fn refresh_reuse_and_withdrawn_consent_revoke_the_opaque_tokens_of_the_family() {
    let app = spawn_app().await;
    app.signed_in_user().await;
    let rs = resource_server(&app).await;
    let c = opaque_client(&app).await;
    let first = code_tokens(&app, &c).await;
    let at1 = token_of(&first);
    let rt1 = first["refresh_token"].as_str().unwrap();
    let at2 = token_of(&json(refresh(&app, &c, rt1, None).await).await);
    assert_opaque(&at2);
    assert_eq!(me(&app, &at2).await.status(), 200);

    // The rotated refresh token presented again: the whole family goes.
    let reuse = refresh(&app, &c, rt1, None).await;
    assert_eq!(reuse.status(), 400);
    for at in [&at1, &at2] {
        assert_eq!(introspect(&app, &rs, at).await["active"], false);
        assert_eq!(me(&app, at).await.status(), 401);
    }

    // A new grant, then the person withdraws consent on Settings → Authorized apps.
    let at3 = token_of(&code_tokens(&app, &c).await);
    assert_eq!(me(&app, &at3).await.status(), 200);
    let withdraw = format!("/settings/authorized-apps/{}/revoke", c.id);
    let res = app
        .post_form("/settings/authorized-apps", &withdraw, &[])
        .await;
    assert_eq!(res.status(), 303);
    assert_eq!(introspect(&app, &rs, &at3).await["active"], false);
    assert_eq!(me(&app, &at3).await.status(), 401);
}

#[tokio::test]
async fn deleting_the_app_ends_its_opaque_tokens() {
    let app = spawn_app().await;
    app.signed_in_user().await; // the administrator, who manages every app
    let rs = resource_server(&app).await;
    let c = opaque_client(&app).await;
    let own = token_of(&json(client_credentials(&app, &c).await).await);
    let for_person = token_of(&code_tokens(&app, &c).await);
    assert_opaque(&own);
    assert_eq!(introspect(&app, &rs, &own).await["active"], true);
    assert_eq!(me(&app, &for_person).await.status(), 200);

    let page = format!("/settings/apps/{}", c.id);
    let delete = format!("{page}/delete");
    let res = app
        .post_form(&page, &delete, &[("confirm_name", "Opaque App")])
        .await;
    assert_eq!(res.status(), 303);
    for at in [&own, &for_person] {
        assert_eq!(introspect(&app, &rs, at).await["active"], false);
        assert_eq!(me(&app, at).await.status(), 401);
    }
}

#[tokio::test]
async fn a_disabled_or_removed_persons_opaque_token_is_refused() {
    let (admin, person, email, id) = admin_and_person().await;
    let rs = resource_server(&admin).await;
    let c = opaque_client(&admin).await;
    let (code, verifier) = obtain_code(&person, &c, "read").await;
    let at = token_of(&json(exchange(&person, &c, &code, &verifier).await).await);
    assert_opaque(&at);
    assert_eq!(me(&person, &at).await.status(), 200);

    assert_eq!(act(&admin, &id, "disable", &[]).await.status(), 303);
    let res = me(&person, &at).await;
    assert_eq!(res.status(), 401);
    assert_eq!(json(res).await["error"]["code"], "account_disabled");
    assert_eq!(introspect(&admin, &rs, &at).await["active"], false);

    assert_eq!(act(&admin, &id, "enable", &[]).await.status(), 303);
    assert_eq!(me(&person, &at).await.status(), 200, "suspended, not revoked");
    assert_eq!(introspect(&admin, &rs, &at).await["active"], true);

    let removed = act(&admin, &id, "delete", &[("confirm_email", &email)]).await;
    assert_eq!(removed.status(), 303);
    assert_eq!(me(&person, &at).await.status(), 401);
    assert_eq!(introspect(&admin, &rs, &at).await["active"], false);
}
