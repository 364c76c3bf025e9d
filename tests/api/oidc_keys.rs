//! OpenID Connect ID tokens and the keys that sign them: RS256 by default and EdDSA for clients
//! that ask, both verified by the `openidconnect` crate against the JWKS as a relying party
//! would; `at_hash` per algorithm; `amr` and `sid`; the RSA key made once per database and
//! rotated with `portcullis keys rotate`.

use openidconnect::core::{
    CoreAuthenticationFlow, CoreClient, CoreJwsSigningAlgorithm, CoreProviderMetadata,
    CoreUserInfoClaims,
};
use openidconnect::{
    AccessTokenHash, AuthorizationCode, ClientId, ClientSecret, CsrfToken, IssuerUrl, Nonce,
    OAuth2TokenResponse, PkceCodeChallenge, RedirectUrl, Scope, TokenResponse,
};
use portcullis::domain::client::NewClient;
use portcullis::domain::client_settings::OidcSettings;
use portcullis::domain::jwt::SigningAlg;
use serde_json::Value;

use crate::helpers::{TestApp, spawn_app};
use crate::oauth_client::send;
use crate::oauth_helpers::*;
use crate::oidc::{
    ed25519_at_hash, header, oidc_client, payload, rs256_at_hash, tokens_with_nonce,
};

/// A client allowed the identity scopes that registered `id_token_signed_response_alg` EdDSA.
pub async fn eddsa_client(app: &TestApp) -> TestClient {
    register_new(
        app,
        NewClient {
            name: "EdDSA Relying Party".into(),
            redirect_uris: vec![REDIRECT.into()],
            scope: "openid profile email offline_access".into(),
            oidc: OidcSettings {
                id_token_alg: SigningAlg::EdDsa,
                ..OidcSettings::default()
            },
            ..NewClient::default()
        },
    )
    .await
}

/// The published keys of one `kty`, waiting (a bounded while) for the RSA key a new database
/// makes in the background.
async fn published(app: &TestApp, kty: &str) -> Vec<Value> {
    for _ in 0..600 {
        let jwks = json(app.get("/.well-known/jwks.json").await).await;
        let keys: Vec<Value> = jwks["keys"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|k| k["kty"] == kty)
            .cloned()
            .collect();
        if !keys.is_empty() {
            return keys;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    panic!("no {kty} key was ever published");
}

fn kids(keys: &[Value]) -> Vec<String> {
    keys.iter()
        .map(|k| k["kid"].as_str().unwrap().to_owned())
        .collect()
}

/// Runs a relying party built with the `openidconnect` crate against the server: discovery,
/// code with PKCE and a nonce, ID-token verification against the JWKS (accepting only `alg`),
/// `at_hash`, UserInfo, then a refresh whose new ID token must verify too and name the same
/// person, sign-in time and session.
async fn relying_party_round_trip(app: &TestApp, c: &TestClient, alg: CoreJwsSigningAlgorithm) {
    let http = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let http_client = |req| send(http.clone(), req);
    let metadata = CoreProviderMetadata::discover_async(
        IssuerUrl::new(app.address.clone()).unwrap(),
        &http_client,
    )
    .await
    .unwrap();
    let client = CoreClient::from_provider_metadata(
        metadata,
        ClientId::new(c.id.clone()),
        c.secret.clone().map(ClientSecret::new),
    )
    .set_redirect_uri(RedirectUrl::new(REDIRECT.into()).unwrap());
    let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
    let (auth_url, _, nonce) = client
        .authorize_url(
            CoreAuthenticationFlow::AuthorizationCode,
            CsrfToken::new_random,
            Nonce::new_random,
        )
        .add_scope(Scope::new("email".into()))
        .add_scope(Scope::new("offline_access".into()))
        .set_pkce_challenge(challenge)
        .url();
    let path = format!("{}?{}", auth_url.path(), auth_url.query().unwrap());
    let code = q(&query_of(&consent(app, &path, "allow").await), "code")
        .unwrap()
        .to_owned();
    let response = client
        .exchange_code(AuthorizationCode::new(code))
        .unwrap()
        .set_pkce_verifier(verifier)
        .request_async(&http_client)
        .await
        .unwrap();

    let id_verifier = client
        .id_token_verifier()
        .set_allowed_algs(vec![alg.clone()]);
    let id_token = response.id_token().expect("an ID token");
    let claims = id_token.claims(&id_verifier, &nonce).unwrap();
    assert_eq!(id_token.signing_alg().unwrap(), &alg);
    let expected = AccessTokenHash::from_token(
        response.access_token(),
        id_token.signing_alg().unwrap(),
        id_token.signing_key(&id_verifier).unwrap(),
    )
    .unwrap();
    assert_eq!(claims.access_token_hash(), Some(&expected));
    let first = payload(&id_token.to_string());
    assert_eq!(first["amr"], serde_json::json!(["pwd"]));
    assert!(first["sid"].is_string(), "{first}");

    let info: CoreUserInfoClaims = client
        .user_info(
            response.access_token().to_owned(),
            Some(claims.subject().clone()),
        )
        .unwrap()
        .request_async(&http_client)
        .await
        .unwrap();
    assert_eq!(info.subject(), claims.subject());
    assert_eq!(info.email_verified(), Some(false));

    let refreshed = client
        .exchange_refresh_token(response.refresh_token().expect("a refresh token"))
        .unwrap()
        .request_async(&http_client)
        .await
        .unwrap();
    let new_id_token = refreshed.id_token().expect("a new ID token");
    // A refreshed ID token carries no nonce (Core §12.2).
    let new_claims = new_id_token
        .claims(&id_verifier, |n: Option<&Nonce>| match n {
            None => Ok(()),
            Some(_) => Err("a nonce on refresh".to_owned()),
        })
        .unwrap();
    assert_eq!(new_claims.subject(), claims.subject());
    assert_eq!(new_claims.auth_time(), claims.auth_time());
    assert!(claims.auth_time().is_some());
    let second = payload(&new_id_token.to_string());
    assert_eq!(second["sid"], first["sid"]);
    assert_eq!(second["amr"], first["amr"]);
    let expected = AccessTokenHash::from_token(
        refreshed.access_token(),
        new_id_token.signing_alg().unwrap(),
        new_id_token.signing_key(&id_verifier).unwrap(),
    )
    .unwrap();
    assert_eq!(new_claims.access_token_hash(), Some(&expected));
}

#[tokio::test]
async fn a_relying_party_verifies_the_rs256_id_tokens_of_a_default_client_and_their_refresh() {
    let app = spawn_app().await;
    app.signed_in_user().await;
    let c = oidc_client(&app).await;
    relying_party_round_trip(&app, &c, CoreJwsSigningAlgorithm::RsaSsaPkcs1V15Sha256).await;
}

#[tokio::test]
async fn a_relying_party_verifies_the_eddsa_id_tokens_of_a_client_registered_with_eddsa() {
    let app = spawn_app().await;
    app.signed_in_user().await;
    let c = eddsa_client(&app).await;
    relying_party_round_trip(&app, &c, CoreJwsSigningAlgorithm::EdDsa).await;
}

#[tokio::test]
async fn at_hash_is_the_left_half_of_sha256_for_rs256_and_of_sha512_for_eddsa() {
    let app = spawn_app().await;
    app.signed_in_user().await;
    for (c, alg) in [
        (oidc_client(&app).await, "RS256"),
        (eddsa_client(&app).await, "EdDSA"),
    ] {
        let body = tokens_with_nonce(&app, &c, "openid", "n").await;
        let access = body["access_token"].as_str().unwrap();
        let id_token = body["id_token"].as_str().unwrap();
        assert_eq!(header(id_token)["alg"], alg);
        let (right, wrong) = match alg {
            "RS256" => (rs256_at_hash(access), ed25519_at_hash(access)),
            _ => (ed25519_at_hash(access), rs256_at_hash(access)),
        };
        assert_eq!(payload(id_token)["at_hash"], right, "{alg}");
        assert_ne!(right, wrong);
        // Access tokens stay EdDSA whatever the client's ID tokens use (RFC 9068).
        assert_eq!(header(access)["alg"], "EdDSA");
        assert_eq!(header(access)["typ"], "at+jwt");
    }
}

#[tokio::test]
async fn the_jwks_publishes_an_rsa_key_and_an_ed25519_key_without_private_parts() {
    let app = spawn_app().await;
    let rsa = published(&app, "RSA").await;
    let ed = published(&app, "OKP").await;
    assert_eq!((rsa.len(), ed.len()), (1, 1));
    let (rsa, ed) = (&rsa[0], &ed[0]);
    assert_eq!((&rsa["alg"], &rsa["use"]), (&"RS256".into(), &"sig".into()));
    assert_eq!(rsa["e"], "AQAB");
    let n = rsa["n"].as_str().unwrap();
    assert!(n.len() >= 342, "a 2048-bit modulus in base64url: {n}");
    assert!(rsa["kid"].is_string());
    assert_eq!(
        (&ed["alg"], &ed["crv"]),
        (&"EdDSA".into(), &"Ed25519".into())
    );
    for private in ["d", "p", "q", "dp", "dq", "qi"] {
        assert!(
            rsa.get(private).is_none() && ed.get(private).is_none(),
            "{private}"
        );
    }
    // RS256 ID tokens name the published RSA key.
    app.signed_in_user().await;
    let c = oidc_client(&app).await;
    let body = tokens_with_nonce(&app, &c, "openid", "n").await;
    assert_eq!(
        header(body["id_token"].as_str().unwrap())["kid"],
        rsa["kid"]
    );
}

crate::helpers::on_both_backends!(
    the_rsa_key_is_created_once_and_kept_across_a_restart,
    |app: TestApp| async move {
        let before = kids(&published(&app, "RSA").await);
        assert_eq!(before.len(), 1);
        let app = app.restart().await;
        assert_eq!(kids(&published(&app, "RSA").await), before);
        app.signed_in_user().await;
        let c = oidc_client(&app).await;
        let body = tokens_with_nonce(&app, &c, "openid", "n").await;
        assert_eq!(
            header(body["id_token"].as_str().unwrap())["kid"],
            before[0].as_str()
        );
    }
);

#[tokio::test]
async fn after_keys_rotate_id_tokens_use_the_new_rsa_key_and_the_old_one_stays_published() {
    let app = spawn_app().await;
    app.signed_in_user().await;
    let c = oidc_client(&app).await;
    let first = tokens_with_nonce(&app, &c, "openid", "n").await;
    let old_kid = header(first["id_token"].as_str().unwrap())["kid"].clone();

    // One server, restarted below: the new keys may sign at once.
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_portcullis"))
        .args(["keys", "rotate", "--activation-delay-secs", "0"])
        .env(
            "PORTCULLIS_DATABASE_URL",
            app.settings.database_url.expose(),
        )
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let printed = String::from_utf8_lossy(&out.stdout);
    assert!(printed.contains("new RS256 signing key") && printed.contains("new EdDSA signing key"));

    // Keys that sign at once: a restarted server signs with them.
    let app = app.restart().await;
    let second = tokens_with_nonce(&app, &c, "openid", "m").await;
    let id_token = second["id_token"].as_str().unwrap();
    let new_kid = header(id_token)["kid"].clone();
    assert_ne!(new_kid, old_kid);
    let rsa = kids(&published(&app, "RSA").await);
    assert_eq!(rsa.len(), 2, "{rsa:?}");
    for kid in [&old_kid, &new_kid] {
        assert!(
            rsa.contains(&kid.as_str().unwrap().to_owned()),
            "{kid} published"
        );
    }
    // Access tokens moved to the new Ed25519 key too.
    assert_ne!(
        header(second["access_token"].as_str().unwrap())["kid"],
        header(first["access_token"].as_str().unwrap())["kid"]
    );
}

#[tokio::test]
async fn the_id_token_says_a_password_signed_in_and_names_the_browser_session() {
    let app = spawn_app().await;
    let email = app.signed_in_user().await;
    let c = oidc_client(&app).await;
    let body = tokens_with_nonce(&app, &c, "openid", "n").await;
    let claims = payload(body["id_token"].as_str().unwrap());
    assert_eq!(claims["amr"], serde_json::json!(["pwd"]));
    // The session's public id: the same one a session token of this browser session carries.
    let session_token = app.session_token().await;
    assert_eq!(claims["sid"], payload(&session_token)["sid"]);

    // A new sign-in is a new session, with another id.
    app.sign_out().await;
    let res = app.sign_in(&email, "correct horse battery").await;
    assert_eq!(res.status(), 303);
    let again = tokens_with_nonce(&app, &c, "openid", "m").await;
    let again = payload(again["id_token"].as_str().unwrap());
    assert!(again["sid"].is_string());
    assert_ne!(again["sid"], claims["sid"]);
}
