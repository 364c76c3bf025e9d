//! Test harness: `spawn_app` starts Portcullis on `127.0.0.1:0` with a fresh database of the
//! target's backend (a SQLite file in `api`, a PostgreSQL database in `api_postgres`) and returns
//! an HTTP client with cookies on and redirects off.

#![allow(dead_code)]

use std::sync::Once;

use portcullis::config::{DatabaseUrl, Settings};
use portcullis::startup::Application;
use portcullis::storage::Db;
use reqwest::redirect::Policy;
use sea_orm::{ConnectionTrait, Database};

/// Environment variable naming the PostgreSQL server for the PostgreSQL variants of the tests.
pub const PG_ENV: &str = "PORTCULLIS_TEST_POSTGRES_URL";

/// Which database a test runs on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// A running server and a client for it.
pub struct TestApp {
    pub address: String,
    pub port: u16,
    pub client: reqwest::Client,
    pub db: Db,
    pub settings: Settings,
    /// The server's clock: move it forward to test expiries.
    pub clock: portcullis::clock::Clock,
    handle: actix_web::dev::ServerHandle,
    _tmp: tempfile::TempDir,
}

fn init_logs() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        if std::env::var("TEST_LOG").is_ok() {
            let mut s = Settings::defaults();
            s.log = "debug".into();
            portcullis::telemetry::init(&s);
        }
    });
}

/// A client with a cookie jar that never follows redirects.
pub fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .cookie_store(true)
        .redirect(Policy::none())
        // Below the server's 5 s keep-alive: a connection idle while a browser test runs is
        // not reused just as the server closes it (a spurious "incomplete message").
        .pool_idle_timeout(std::time::Duration::from_secs(2))
        .build()
        .unwrap()
}

/// A client like `client()` that sends these headers with every request, as one browser would
/// (its `User-Agent`) or as a proxy in front of it would (`X-Forwarded-For`).
pub fn client_with_headers(headers: &[(&'static str, &str)]) -> reqwest::Client {
    let mut map = reqwest::header::HeaderMap::new();
    for (name, value) in headers {
        map.insert(*name, value.parse().unwrap());
    }
    reqwest::Client::builder()
        .cookie_store(true)
        .redirect(Policy::none())
        .default_headers(map)
        .build()
        .unwrap()
}

/// The database this test target runs the suite on (`SUITE_BACKEND` in its root file).
///
/// The PostgreSQL target without `PORTCULLIS_TEST_POSTGRES_URL` has nowhere to run: the first
/// test to ask ends the whole run successfully, saying so, rather than failing every test or
/// running the suite a second time on SQLite. libtest offers no hook before the first test, and
/// a test that never asks (one that ends early with `sqlite_only!`) needs no database.
pub fn suite_backend() -> Backend {
    let backend = crate::SUITE_BACKEND;
    if backend == Backend::Postgres && std::env::var_os(PG_ENV).is_none() {
        use std::io::Write;
        // Straight to the process's stderr: libtest captures `eprintln!` and drops it on exit.
        let _ = writeln!(
            std::io::stderr(),
            "skipped: {PG_ENV} is not set, so the suite's PostgreSQL run did not start"
        );
        std::process::exit(0);
    }
    backend
}

/// Starts an app on the target's backend.
pub async fn spawn_app() -> TestApp {
    spawn_app_with(|_| {}).await
}

/// Starts an app on the target's backend with adjusted settings.
pub async fn spawn_app_with(adjust: impl FnOnce(&mut Settings)) -> TestApp {
    spawn_with(suite_backend(), adjust)
        .await
        .expect("the suite's backend is available")
}

/// Starts an app on the target's backend whose issuer is `http://localhost:<port>`: a host name,
/// so the server is a WebAuthn relying party and offers passkeys, which with the default
/// `127.0.0.1` issuer it cannot. The port is chosen free before the server binds it.
pub async fn spawn_localhost_app_with(adjust: impl FnOnce(&mut Settings)) -> TestApp {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    spawn_app_with(|s| {
        s.bind = format!("127.0.0.1:{port}").parse().unwrap();
        s.issuer = Some(format!("http://localhost:{port}").parse().unwrap());
        adjust(s);
    })
    .await
}

/// Starts an app on the given backend with adjusted settings; `None` when the backend is not
/// available (PostgreSQL without `PORTCULLIS_TEST_POSTGRES_URL`).
pub async fn spawn_with(backend: Backend, adjust: impl FnOnce(&mut Settings)) -> Option<TestApp> {
    init_logs();
    let tmp = tempfile::Builder::new().prefix("pc").tempdir().unwrap();
    let url = match backend {
        Backend::Sqlite => format!("sqlite://{}/t.db?mode=rwc", tmp.path().display()),
        Backend::Postgres => fresh_postgres_database().await?,
    };
    let mut settings = Settings::defaults();
    settings.bind = "127.0.0.1:0".parse().unwrap();
    settings.database_url = DatabaseUrl::from(url);
    settings.workers = Some(2);
    adjust(&mut settings);
    Some(start(settings, tmp, client(), portcullis::clock::Clock::default()).await)
}

/// A fresh database of the target's backend for a server or CLI run the test starts itself: a
/// SQLite file `file` in `dir`, or a new PostgreSQL database.
pub async fn suite_database_url(dir: &std::path::Path, file: &str) -> String {
    match suite_backend() {
        Backend::Sqlite => format!("sqlite://{}/{file}?mode=rwc", dir.display()),
        Backend::Postgres => fresh_postgres_database()
            .await
            .expect("the suite's backend is available"),
    }
}

/// An API key created through the REST API with a session token: (id, secret).
pub async fn create_api_key(
    app: &TestApp,
    session: &str,
    name: &str,
    permissions: &[&str],
) -> (String, String) {
    let res = app
        .client
        .post(app.url("/api/v1/active/api-keys"))
        .bearer_auth(session)
        .json(&serde_json::json!({"name": name, "permissions": permissions}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 201);
    let b: serde_json::Value = res.json().await.unwrap();
    (
        b["id"].as_str().unwrap().to_owned(),
        b["key"].as_str().unwrap().to_owned(),
    )
}

/// Creates a tenant through Admin → Tenants (server administrators) and returns its id.
pub async fn create_tenant(app: &TestApp, name: &str) -> String {
    let res = app
        .post_form("/admin/tenants", "/admin/tenants", &[("name", name)])
        .await;
    assert_eq!(res.status(), 303);
    location(&res)
        .trim_start_matches("/admin/tenants/")
        .to_owned()
}

/// Makes `tenant` the active tenant of the person signed in on `app`.
pub async fn switch_to(app: &TestApp, tenant: &str) {
    let res = app
        .post_form(
            "/settings/credentials",
            "/settings/active-tenant",
            &[("tenant_id", tenant)],
        )
        .await;
    assert_eq!(res.status(), 303);
}

/// The id of the invitation to `tenant` on the account page of the person signed in on `app`.
pub async fn invitation_on_account_page(app: &TestApp, tenant: &str) -> Option<String> {
    let page = app.get_html("/account").await;
    let at = page.find(&format!("data-tenant=\"{tenant}\""))?;
    let marker = "data-invitation=\"";
    let start = page[..at].rfind(marker)? + marker.len();
    Some(page[start..].split('"').next()?.to_owned())
}

/// `admin` (a tenant administrator, signed in) invites `email` to `tenant` with `role` on the
/// tenant's page, and `invitee` (signed in with that address) accepts on their account page.
pub async fn invite_and_accept(
    admin: &TestApp,
    tenant: &str,
    invitee: &TestApp,
    email: &str,
    role: &str,
) {
    let res = admin
        .post_form(
            &format!("/admin/tenants/{tenant}"),
            &format!("/admin/tenants/{tenant}/invitations"),
            &[("email", email), ("role", role)],
        )
        .await;
    assert_eq!(res.status(), 303, "invited");
    let id = invitation_on_account_page(invitee, tenant)
        .await
        .expect("the invitee sees the invitation");
    let res = invitee
        .post_form(
            "/account",
            &format!("/account/invitations/{id}/accept"),
            &[],
        )
        .await;
    assert_eq!(res.status(), 303, "accepted");
}

/// A second server on `app`'s database, as another node of one deployment behind a load
/// balancer: same issuer, its own port, caches and settings as adjusted.
pub async fn spawn_peer(app: &TestApp, adjust: impl FnOnce(&mut Settings)) -> TestApp {
    let mut settings = app.settings.clone();
    settings.issuer = Some(app.address.parse().unwrap());
    adjust(&mut settings);
    let tmp = tempfile::Builder::new().prefix("pc").tempdir().unwrap();
    start(settings, tmp, client(), portcullis::clock::Clock::default()).await
}

async fn start(
    settings: Settings,
    tmp: tempfile::TempDir,
    client: reqwest::Client,
    clock: portcullis::clock::Clock,
) -> TestApp {
    let app = Application::build_with_clock(settings.clone(), Some(clock.clone()))
        .await
        .unwrap();
    let port = app.port();
    let db = app.db().clone();
    let handle = app.handle();
    tokio::spawn(app.run_until_stopped());
    let host = if settings.bind.is_ipv6() {
        format!("[{}]", settings.bind.ip())
    } else {
        settings.bind.ip().to_string()
    };
    TestApp {
        address: format!("http://{host}:{port}"),
        port,
        client,
        db,
        settings,
        clock,
        handle,
        _tmp: tmp,
    }
}

/// Creates an empty database on the PostgreSQL server named by `PORTCULLIS_TEST_POSTGRES_URL`.
pub async fn fresh_postgres_database() -> Option<String> {
    let base = std::env::var(PG_ENV).ok()?;
    let name = format!("pc_{}", uuid::Uuid::new_v4().simple());
    let admin = Database::connect(&base).await.unwrap();
    admin
        .execute_unprepared(&format!("CREATE DATABASE \"{name}\""))
        .await
        .unwrap();
    admin.close().await.unwrap();
    let mut url = url::Url::parse(&base).unwrap();
    url.set_path(&name);
    Some(url.to_string())
}

impl TestApp {
    /// The same server seen through another HTTP client (another person's browser).
    pub fn with_client(app: &TestApp, client: reqwest::Client) -> TestApp {
        TestApp {
            address: app.address.clone(),
            port: app.port,
            client,
            db: app.db.clone(),
            settings: app.settings.clone(),
            clock: app.clock.clone(),
            handle: app.handle.clone(),
            _tmp: tempfile::Builder::new().prefix("pc").tempdir().unwrap(),
        }
    }

    /// The directory holding the SQLite database files.
    pub fn db_dir(&self) -> std::path::PathBuf {
        self._tmp.path().to_path_buf()
    }

    /// Absolute URL of a path.
    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.address, path)
    }

    /// Stops the server and starts a new one on the same database and settings, keeping the
    /// client (and so its cookies).
    pub async fn restart(self) -> TestApp {
        self.handle.stop(true).await;
        let TestApp {
            mut settings,
            address,
            clock,
            _tmp,
            client,
            ..
        } = self;
        // The new server gets another port; keep the issuer so tokens issued before stay valid.
        if settings.issuer.is_none() {
            settings.issuer = Some(address.parse().unwrap());
        }
        start(settings, _tmp, client, clock).await
    }

    pub async fn get(&self, path: &str) -> reqwest::Response {
        self.client.get(self.url(path)).send().await.unwrap()
    }

    pub async fn get_html(&self, path: &str) -> String {
        self.get(path).await.text().await.unwrap()
    }

    /// Posts a form, adding the CSRF token found on `form_page`.
    pub async fn post_form(
        &self,
        form_page: &str,
        action: &str,
        fields: &[(&str, &str)],
    ) -> reqwest::Response {
        let csrf = csrf_token(&self.get_html(form_page).await);
        let mut all: Vec<(&str, &str)> = fields.to_vec();
        all.push(("csrf_token", &csrf));
        self.client
            .post(self.url(action))
            .form(&all)
            .send()
            .await
            .unwrap()
    }

    pub async fn sign_up(&self, email: &str, name: &str, password: &str) -> reqwest::Response {
        self.post_form(
            "/signup",
            "/signup",
            &[("email", email), ("name", name), ("password", password)],
        )
        .await
    }

    pub async fn sign_in(&self, email: &str, password: &str) -> reqwest::Response {
        self.post_form(
            "/signin",
            "/signin",
            &[("email", email), ("password", password)],
        )
        .await
    }

    /// Signs up a fresh account with this client and returns its email.
    pub async fn signed_in_user(&self) -> String {
        let email = format!("user-{}@example.com", uuid::Uuid::new_v4().simple());
        let res = self
            .sign_up(&email, "Test User", "correct horse battery")
            .await;
        assert_eq!(res.status(), 303, "sign-up failed");
        email
    }

    /// A 1-hour token acting fully as the signed-in person (Settings → Credentials).
    pub async fn session_token(&self) -> String {
        let res = self
            .post_form(
                "/settings/credentials",
                "/settings/credentials/session-token",
                &[],
            )
            .await;
        revealed(&self.reveal(res).await.text().await.unwrap())
    }

    /// Follows a form's `303` to the one-time reveal page (`/settings/reveal`) and returns that
    /// page, checking it is `no-store`.
    pub async fn reveal(&self, res: reqwest::Response) -> reqwest::Response {
        assert_eq!(res.status(), 303, "a secret is revealed after a redirect");
        assert_eq!(location(&res), "/settings/reveal");
        let page = self.get("/settings/reveal").await;
        assert_eq!(page.status(), 200, "the reveal page shows the secret");
        assert_eq!(page.headers()["cache-control"], "no-store");
        page
    }

    pub async fn sign_out(&self) -> reqwest::Response {
        self.post_form("/account", "/signout", &[]).await
    }
}

/// The value of the first `csrf_token` hidden input in a page.
pub fn csrf_token(html: &str) -> String {
    let marker = "name=\"csrf_token\" value=\"";
    let start = html.find(marker).expect("page has no CSRF field") + marker.len();
    let end = html[start..].find('"').unwrap() + start;
    html[start..end].to_owned()
}

/// The secret on a one-time reveal page.
pub fn revealed(html: &str) -> String {
    let marker = "id=\"revealed-secret\">";
    let start = html.find(marker).expect("reveal page") + marker.len();
    html[start..].split('<').next().unwrap().to_owned()
}

/// The `Location` header of a response.
pub fn location(res: &reqwest::Response) -> String {
    res.headers()
        .get("location")
        .expect("no Location header")
        .to_str()
        .unwrap()
        .to_owned()
}

/// A test taking the app as an argument, on the target's backend. (It once ran the body on both
/// databases; the whole suite now runs on both, one test target each.)
macro_rules! on_both_backends {
    ($name:ident, $body:expr) => {
        #[tokio::test]
        async fn $name() {
            ($body)($crate::helpers::spawn_app().await).await;
        }
    };
}

/// Ends a test early in the PostgreSQL target, printing why: for the few tests about SQLite itself
/// (its files on disk, a crash while writing them), which have no PostgreSQL counterpart.
macro_rules! sqlite_only {
    ($why:expr) => {
        if $crate::SUITE_BACKEND != $crate::helpers::Backend::Sqlite {
            eprintln!("skipped on PostgreSQL: {}", $why);
            return;
        }
    };
}
pub(crate) use {on_both_backends, sqlite_only};
