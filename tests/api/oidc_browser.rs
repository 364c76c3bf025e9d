//! A real relying party in a real browser: a tiny loopback web app (the test's own HTTP
//! listener) signs a person in through Portcullis with `openid profile email`, checks the ID
//! token it gets back against the JWKS, reads the profile from UserInfo, shows who signed in, and then logs the person out
//! through the end-session endpoint, landing on its registered post-logout URI.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use fantoccini::Locator;
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use serde_json::Value;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;

use crate::browser::{click, fill, wait_for_path, with_browser};
use crate::helpers::{TestApp, spawn_app};
use crate::oauth_helpers::{TestClient, cli_client, pkce};

/// What the relying party remembers between its pages.
#[derive(Default)]
struct RpState {
    state: String,
    nonce: String,
    verifier: String,
    id_token: String,
    claims: Value,
}

/// The relying party: its base URL, the server it trusts (where it is and the issuer its
/// discovery document names), and its registration there.
#[derive(Clone)]
struct Rp {
    base: String,
    server: String,
    issuer: String,
    client: Arc<TestClient>,
    memory: Arc<Mutex<RpState>>,
}

fn page(status: &str, headers: &[(&str, String)], body: &str) -> String {
    let mut out = format!(
        "HTTP/1.1 {status}\r\ncontent-type: text/html; charset=utf-8\r\ncontent-length: {}\r\nconnection: close\r\n",
        body.len()
    );
    for (k, v) in headers {
        out.push_str(&format!("{k}: {v}\r\n"));
    }
    out.push_str("\r\n");
    out.push_str(body);
    out
}

fn query(target: &str) -> HashMap<String, String> {
    let q = target.split_once('?').map_or("", |(_, q)| q);
    url::form_urlencoded::parse(q.as_bytes())
        .into_owned()
        .collect()
}

impl Rp {
    /// Registers the relying party (its callback and post-logout URIs on the listener's port)
    /// from the command line and reads the server's discovery document.
    async fn register(app: &TestApp, listener: &TcpListener) -> Self {
        let base = format!("http://{}", listener.local_addr().unwrap());
        let client = cli_client(
            app,
            &[
                "--name",
                "Loopback RP",
                "--redirect-uri",
                &format!("{base}/cb"),
                "--post-logout-redirect-uri",
                &format!("{base}/bye"),
                "--scope",
                "openid profile email",
            ],
        )
        .await;
        let discovery: Value = reqwest::get(app.url("/.well-known/openid-configuration"))
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        Self {
            base,
            server: app.address.clone(),
            issuer: discovery["issuer"].as_str().unwrap().to_owned(),
            client: Arc::new(client),
            memory: Arc::default(),
        }
    }

    fn serve(self, listener: TcpListener) {
        tokio::spawn(async move {
            loop {
                let Ok((mut conn, _)) = listener.accept().await else {
                    return;
                };
                let rp = self.clone();
                tokio::spawn(async move {
                    let mut buf = vec![0u8; 8192];
                    let mut read = 0;
                    while !buf[..read].windows(4).any(|w| w == b"\r\n\r\n") {
                        match conn.read(&mut buf[read..]).await {
                            Ok(0) | Err(_) => return,
                            Ok(n) => read += n,
                        }
                    }
                    let head = String::from_utf8_lossy(&buf[..read]).into_owned();
                    let target = head.split(' ').nth(1).unwrap_or("/").to_owned();
                    let answer = rp.handle(&target).await;
                    let _ = conn.write_all(answer.as_bytes()).await;
                    let _ = conn.shutdown().await;
                });
            }
        });
    }

    async fn handle(&self, target: &str) -> String {
        let path = target.split('?').next().unwrap_or("/");
        match path {
            "/login" => self.login(),
            "/cb" => self.callback(query(target)).await,
            "/logout" => self.logout(),
            "/bye" => {
                let q = query(target);
                page(
                    "200 OK",
                    &[],
                    &format!(
                        "<!doctype html><title>Bye</title><p id=\"bye\">signed out, state {}</p>",
                        q.get("state").cloned().unwrap_or_default()
                    ),
                )
            }
            _ => page("404 Not Found", &[], "not found"),
        }
    }

    /// Sends the browser to Portcullis with state, nonce and PKCE.
    fn login(&self) -> String {
        let (verifier, challenge) = pkce();
        let state = portcullis::secret::random_token::<16>();
        let nonce = portcullis::secret::random_token::<16>();
        {
            let mut m = self.memory.lock().unwrap();
            m.state = state.clone();
            m.nonce = nonce.clone();
            m.verifier = verifier;
        }
        let mut url = url::Url::parse(&format!("{}/oauth/authorize", self.server)).unwrap();
        url.query_pairs_mut()
            .append_pair("response_type", "code")
            .append_pair("client_id", &self.client.id)
            .append_pair("redirect_uri", &format!("{}/cb", self.base))
            .append_pair("scope", "openid profile email")
            .append_pair("state", &state)
            .append_pair("nonce", &nonce)
            .append_pair("code_challenge", &challenge)
            .append_pair("code_challenge_method", "S256");
        page("302 Found", &[("location", url.to_string())], "")
    }

    /// Exchanges the code, verifies the ID token against the JWKS, and shows who signed in.
    async fn callback(&self, q: HashMap<String, String>) -> String {
        let (state, nonce, verifier) = {
            let m = self.memory.lock().unwrap();
            (m.state.clone(), m.nonce.clone(), m.verifier.clone())
        };
        assert_eq!(q.get("state"), Some(&state), "state returned unchanged");
        assert_eq!(q.get("iss"), Some(&self.issuer), "RFC 9207 issuer");
        let http = reqwest::Client::new();
        let tokens: Value = http
            .post(format!("{}/oauth/token", self.server))
            .header("authorization", self.client.basic())
            .form(&[
                ("grant_type", "authorization_code"),
                ("code", q["code"].as_str()),
                ("redirect_uri", &format!("{}/cb", self.base)),
                ("code_verifier", &verifier),
            ])
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let id_token = tokens["id_token"].as_str().expect("an ID token").to_owned();
        let claims = self.verify(&id_token, &nonce).await;
        // Profile claims come from UserInfo, for the same subject (Core §5.3.2).
        let profile: Value = http
            .get(format!("{}/oauth/userinfo", self.server))
            .bearer_auth(tokens["access_token"].as_str().unwrap())
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert_eq!(profile["sub"], claims["sub"]);
        let body = format!(
            "<!doctype html><title>Signed in</title>\
             <p id=\"who\">{} &lt;{}&gt;</p>\
             <a id=\"logout\" href=\"/logout\">Log out</a>",
            profile["name"].as_str().unwrap_or(""),
            claims["email"].as_str().unwrap_or("")
        );
        let mut m = self.memory.lock().unwrap();
        m.id_token = id_token;
        m.claims = claims;
        page("200 OK", &[], &body)
    }

    /// Sends the browser to the end-session endpoint with the ID token as the hint.
    fn logout(&self) -> String {
        let id_token = self.memory.lock().unwrap().id_token.clone();
        let mut url = url::Url::parse(&format!("{}/oauth/logout", self.server)).unwrap();
        url.query_pairs_mut()
            .append_pair("id_token_hint", &id_token)
            .append_pair("post_logout_redirect_uri", &format!("{}/bye", self.base))
            .append_pair("state", "after-logout");
        page("302 Found", &[("location", url.to_string())], "")
    }

    /// Checks the ID token's RS256 signature with the published key, its issuer, audience and
    /// nonce.
    async fn verify(&self, id_token: &str, nonce: &str) -> Value {
        let header = jsonwebtoken::decode_header(id_token).unwrap();
        assert_eq!(header.alg, Algorithm::RS256, "RS256 is the default");
        let jwks: Value = reqwest::get(format!("{}/.well-known/jwks.json", self.server))
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let kid = header.kid.unwrap();
        let jwk = jwks["keys"]
            .as_array()
            .unwrap()
            .iter()
            .find(|k| k["kid"] == kid.as_str())
            .expect("the signing key is published");
        let key = DecodingKey::from_rsa_components(
            jwk["n"].as_str().unwrap(),
            jwk["e"].as_str().unwrap(),
        )
        .unwrap();
        let mut v = Validation::new(Algorithm::RS256);
        v.set_audience(&[self.client.id.as_str()]);
        v.set_issuer(&[self.issuer.as_str()]);
        let claims = jsonwebtoken::decode::<Value>(id_token, &key, &v)
            .unwrap()
            .claims;
        assert_eq!(claims["nonce"], nonce);
        claims
    }
}

#[tokio::test]
async fn a_relying_party_signs_a_person_in_with_openid_and_logs_them_out_in_a_real_browser() {
    let app = spawn_app().await;
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let rp = Rp::register(&app, &listener).await;
    let memory = rp.memory.clone();
    let (server, rp_base) = (app.address.clone(), rp.base.clone());
    rp.serve(listener);

    with_browser("oidc-relying-party", move |c| async move {
        c.goto(&format!("{server}/signup")).await.unwrap();
        fill(&c, "name", "Katherine Johnson").await;
        fill(&c, "email", "katherine@example.com").await;
        fill(&c, "password", "a very long password").await;
        click(&c, "form[action='/signup'] button[type=submit]").await;
        wait_for_path(&c, "/account").await;

        // The app sends the browser to sign in; the person approves what it asks for.
        c.goto(&format!("{rp_base}/login")).await.unwrap();
        wait_for_path(&c, "/oauth/authorize").await;
        let scopes = c.find(Locator::Id("consent-scopes")).await.unwrap();
        let listed = scopes.text().await.unwrap();
        assert!(
            listed.contains("openid") && listed.contains("email"),
            "{listed}"
        );
        click(&c, "#consent-allow").await;
        wait_for_path(&c, "/cb").await;
        let who = c
            .find(Locator::Id("who"))
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        assert_eq!(who, "Katherine Johnson <katherine@example.com>");
        let claims = memory.lock().unwrap().claims.clone();
        assert_eq!(claims["email_verified"], false);
        assert!(claims["sid"].is_string() && claims["auth_time"].is_i64());

        // Logging out of the app signs out of the server and lands on the app's page.
        click(&c, "#logout").await;
        wait_for_path(&c, "/bye").await;
        let bye = c
            .find(Locator::Id("bye"))
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        assert_eq!(bye, "signed out, state after-logout");
        c.goto(&format!("{server}/account")).await.unwrap();
        wait_for_path(&c, "/signin").await;
    })
    .await;
}
