//! Mail about second factors, when the server has mail: a factor added (an authenticator app
//! here; a passkey sends the same notice) and a recovery code used, each to the account's
//! address.

use crate::factor_helpers::*;
use crate::helpers::location;
use crate::oidc_prompt::PASSWORD;
use crate::smtp::spawn_app_with_mail;

#[tokio::test]
async fn enrolling_an_app_and_using_a_recovery_code_are_mailed() {
    let (app, mail) = spawn_app_with_mail().await;
    let email = app.signed_in_user().await;
    // Sign-up mails the address's confirmation link first.
    assert!(mail.next_to(&email).await.subject().contains("onfirm"));
    let enrolled = enrol(&app).await;
    let added = mail
        .next_about(&email, "A sign-in factor was added to your account")
        .await;
    assert!(added.subject().contains("authenticator app"), "{}", added.subject());

    app.sign_out().await;
    let res = app.sign_in(&email, PASSWORD).await;
    assert_eq!(location(&res), "/signin/second-factor");
    let res = second_step(&app, "recovery_code", &enrolled.recovery_codes[0]).await;
    assert_eq!(res.status(), 303);
    let used = mail
        .next_about(&email, "A recovery code was used to sign in")
        .await;
    assert!(used.body().contains("9 code(s) remain"), "{}", used.body());
    assert_eq!(mail.waiting_for(&email), 0, "nothing else was mailed");
}
