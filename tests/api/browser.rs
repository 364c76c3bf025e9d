//! Real-browser tests: Debian's headless Chromium driven through chromedriver (WebDriver) by
//! fantoccini. `with_browser` starts a driver on a free port with a short temporary profile,
//! runs the test body, saves a screenshot (and the page source on failure) under
//! `target/e2e-artifacts/`, and always shuts the browser down before reporting.

use std::future::Future;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use fantoccini::{Client, ClientBuilder, Locator};
use hyper_util::client::legacy::connect::HttpConnector;
use serde_json::json;

use crate::helpers::{TestApp, spawn_app};

const CHROMIUM: &str = "/usr/bin/chromium";
const CHROMEDRIVER: &str = "/usr/bin/chromedriver";

/// Where screenshots go: `target/e2e-artifacts/`.
pub fn artifacts_dir() -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR"))
        .parent()
        .unwrap()
        .join("e2e-artifacts");
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// Saves a screenshot of the current page as `<name>.png`.
pub async fn screenshot(client: &Client, name: &str) {
    let png = client.screenshot().await.unwrap();
    let path = artifacts_dir().join(format!("{name}.png"));
    std::fs::write(&path, png).unwrap();
    eprintln!("screenshot: {}", path.display());
}

struct Driver {
    child: Child,
    _profile: tempfile::TempDir,
}

impl Drop for Driver {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Runs `body` against a fresh headless Chromium. Skips (with a message) only outside CI when
/// Chromium is not installed; in CI a missing browser fails the test.
pub async fn with_browser<F, Fut>(name: &str, body: F)
where
    F: FnOnce(Client) -> Fut,
    Fut: Future<Output = ()> + Send + 'static,
{
    if !Path::new(CHROMIUM).exists() || !Path::new(CHROMEDRIVER).exists() {
        assert!(
            std::env::var_os("CI").is_none(),
            "chromium and chromium-driver must be installed in CI"
        );
        eprintln!(
            "skipped: {CHROMIUM} or {CHROMEDRIVER} is missing (apt-get install chromium chromium-driver)"
        );
        return;
    }
    // A long profile path breaks Chromium's socket names: keep it short, under /tmp.
    let profile = tempfile::Builder::new()
        .prefix("pcb")
        .tempdir_in("/tmp")
        .unwrap();
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let child = Command::new(CHROMEDRIVER)
        .arg(format!("--port={port}"))
        .env("TMPDIR", profile.path())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let driver = Driver {
        child,
        _profile: profile,
    };
    let webdriver = format!("http://127.0.0.1:{port}");
    wait_until_ready(&webdriver).await;

    let caps = json!({
        "browserName": "chrome",
        "goog:chromeOptions": {
            "binary": CHROMIUM,
            "args": [
                "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                "--disable-background-networking", "--disable-component-update", "--disable-sync",
                "--disable-dev-shm-usage", "--window-size=1280,900",
                format!("--user-data-dir={}", driver._profile.path().join("profile").display()),
            ]
        }
    });
    let serde_json::Value::Object(caps) = caps else {
        unreachable!()
    };
    let client = ClientBuilder::new(HttpConnector::new())
        .capabilities(caps)
        .connect(&webdriver)
        .await
        .expect("chromedriver session");

    let outcome = tokio::spawn(body(client.clone())).await;
    if outcome.is_err() {
        if let Ok(png) = client.screenshot().await {
            let _ = std::fs::write(artifacts_dir().join(format!("{name}-failure.png")), png);
        }
        if let Ok(html) = client.source().await {
            let _ = std::fs::write(artifacts_dir().join(format!("{name}-failure.html")), html);
        }
    }
    let _ = client.close().await;
    drop(driver);
    if let Err(err) = outcome {
        std::panic::resume_unwind(err.into_panic());
    }
}

async fn wait_until_ready(webdriver: &str) {
    let http = reqwest::Client::new();
    for _ in 0..100 {
        if let Ok(res) = http.get(format!("{webdriver}/status")).send().await
            && res.status().is_success()
        {
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("chromedriver did not start");
}

/// Types into the input with this id.
pub async fn fill(client: &Client, id: &str, value: &str) {
    let input = client.find(Locator::Id(id)).await.unwrap();
    input.clear().await.unwrap();
    input.send_keys(value).await.unwrap();
}

/// Clicks the element matched by a CSS selector and waits for the next page to load.
pub async fn click(client: &Client, css: &str) {
    client
        .find(Locator::Css(css))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
}

/// Waits until the current URL's path is `path`.
pub async fn wait_for_path(client: &Client, path: &str) {
    for _ in 0..100 {
        if client.current_url().await.unwrap().path() == path {
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!(
        "never reached {path}; at {}",
        client.current_url().await.unwrap()
    );
}

#[tokio::test]
async fn a_person_signs_up_signs_out_signs_in_and_sees_their_account() {
    let app: TestApp = spawn_app().await;
    let base = app.address.clone();
    with_browser("foundation-account", move |c| async move {
        c.goto(&format!("{base}/signup")).await.unwrap();
        fill(&c, "name", "Grace Hopper").await;
        fill(&c, "email", "grace@example.com").await;
        fill(&c, "password", "a very long password").await;
        click(&c, "form[action='/signup'] button[type=submit]").await;
        wait_for_path(&c, "/account").await;
        let email = c
            .find(Locator::Id("account-email"))
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        assert_eq!(email, "grace@example.com");

        click(&c, "form[action='/signout'] button").await;
        wait_for_path(&c, "/signin").await;

        fill(&c, "email", "grace@example.com").await;
        fill(&c, "password", "a very long password").await;
        click(&c, "form[action='/signin'] button[type=submit]").await;
        wait_for_path(&c, "/account").await;
        let name = c
            .find(Locator::Id("account-name"))
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        assert_eq!(name, "Grace Hopper");
        screenshot(&c, "foundation-account").await;
    })
    .await;
}

/// Signs in through the sign-in page and waits for the account page.
pub async fn sign_in(client: &Client, base: &str, email: &str, password: &str) {
    client.goto(&format!("{base}/signin")).await.unwrap();
    fill(client, "email", email).await;
    fill(client, "password", password).await;
    click(client, "form[action='/signin'] button[type=submit]").await;
    wait_for_path(client, "/account").await;
}
