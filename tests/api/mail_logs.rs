//! Mailed links stay out of the log: a server process logging at debug mails through the test
//! SMTP server, and every link it mails is used, yet no token appears in what it wrote.

use crate::hardening::{Server, browser, post_form};
use crate::smtp::MailCatcher;

#[tokio::test]
async fn mailed_links_never_reach_a_debug_log() {
    let tmp = tempfile::Builder::new()
        .prefix("pc-mail-logs")
        .tempdir()
        .unwrap();
    let db_url = crate::helpers::suite_database_url(tmp.path(), "mail.db").await;
    let logs = tmp.path().join("out");
    std::fs::create_dir(&logs).unwrap();
    let mail = MailCatcher::start().await;
    let smtp = mail.url();
    let server = Server::start(
        &db_url,
        &[
            ("PORTCULLIS_LOG", "debug"),
            ("PORTCULLIS_SMTP_URL", &smtp),
            ("PORTCULLIS_MAIL_FROM", "noreply@portcullis.test"),
        ],
        &logs,
    )
    .await;
    let (client, _) = browser();
    let email = "owner@example.com";
    let password = "Tr0ub4dor-and-3-horses-staple";
    let res = post_form(
        &client,
        &server,
        "/signup",
        "/signup",
        &[("email", email), ("name", "Owner"), ("password", password)],
    )
    .await;
    assert_eq!(res.status(), 303);

    let mut tokens = Vec::new();
    let confirm = mail
        .next_about(email, "Confirm your email address")
        .await
        .link("/verify-email");
    let token = confirm.split("token=").nth(1).unwrap().to_owned();
    let res = post_form(&client, &server, &confirm, "/verify-email", &[("token", &token)]).await;
    assert_eq!(res.status(), 200);
    tokens.push(token);

    let res = post_form(
        &client,
        &server,
        "/forgot-password",
        "/forgot-password",
        &[("email", email)],
    )
    .await;
    assert_eq!(res.status(), 200);
    let reset = mail
        .next_about(email, "Reset your password")
        .await
        .link("/reset-password");
    let token = reset.split("token=").nth(1).unwrap().to_owned();
    let new = "a brand new passphrase";
    let res = post_form(
        &client,
        &server,
        &reset,
        "/reset-password",
        &[
            ("token", &token),
            ("new_password", new),
            ("new_password_again", new),
        ],
    )
    .await;
    assert_eq!(res.status(), 200);
    // A used link, refused, is logged as a refusal: still without its token.
    assert_eq!(
        client.get(server.url(&reset)).send().await.unwrap().status(),
        400
    );
    tokens.push(token);
    mail.next_about(email, "Your password was changed").await;

    let mut server = server;
    server.stop();
    let mut log = String::new();
    for file in ["stdout.log", "stderr.log"] {
        log.push_str(&std::fs::read_to_string(logs.join(file)).unwrap());
    }
    assert!(log.contains("mail sent"), "mail was logged:\n{log}");
    for token in &tokens {
        assert!(!log.contains(token.as_str()), "a link's token is in the log");
    }
    assert!(!log.contains(new) && !log.contains(password));
}
