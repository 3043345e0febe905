//! The web portals in a real browser (headless Chromium driven by `e2e/portals.mjs`) against a
//! real node, gateway and backend: the start page, the developer portal's catalogue and API
//! page (anonymous), signing in to the publisher (a wrong password first), the publisher's
//! API list, and an administrator approving a held subscription — which then really is
//! approved. Screenshots of every page land in `target/test-output/portals/`.
//!
//! Needs Debian's `chromium` and `npm ci` in `e2e/`: `scripts/test` (the README's test command)
//! installs both.

use std::path::{Path, PathBuf};

use reqwest::StatusCode;
use serde_json::json;
use tollgate_testkit::flow::{ok_json, pizzashack, Flow};
use tollgate_testkit::{MockBackend, Node, NodeOptions};

const BIN: &str = env!("CARGO_BIN_EXE_tollgate");

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn portals_work_in_a_browser() {
    let e2e = repo().join("e2e");
    assert!(
        e2e.join("node_modules/playwright-core").is_dir() && Path::new("/usr/bin/chromium").exists(),
        "the browser suite needs Debian's chromium and `npm ci` in e2e/: run scripts/ensure-browser"
    );
    let backend = MockBackend::start().await;
    let node = Node::start(
        Path::new(BIN),
        NodeOptions {
            extra_config: "[apim.workflow]\nsubscription_creation = true\n".into(),
            ..NodeOptions::default()
        },
    )
    .await;
    let flow = Flow::login(&node).await;
    let api_id = flow.publish_api(pizzashack(&backend.url())).await;
    let app = ok_json(
        flow.post(
            flow.devportal("/applications"),
            json!({"name": "BrowserApp", "throttlingPolicy": "Unlimited"}),
        )
        .await,
        StatusCode::CREATED,
    )
    .await;
    let subscription = ok_json(
        flow.post(
            flow.devportal("/subscriptions"),
            json!({"applicationId": app["applicationId"], "apiId": api_id, "throttlingPolicy": "Unlimited"}),
        )
        .await,
        StatusCode::CREATED,
    )
    .await;
    assert_eq!(subscription["status"], "ON_HOLD");

    let out = repo().join("target/test-output/portals");
    let run = {
        let (e2e, out, base, password) = (
            e2e.clone(),
            out.clone(),
            node.control_plane_http(""),
            node.admin_password.clone(),
        );
        tokio::task::spawn_blocking(move || {
            std::process::Command::new("node")
                .arg("portals.mjs")
                .current_dir(&e2e)
                .env("TOLLGATE_URL", base)
                .env("ADMIN_PASSWORD", password)
                .env("API_NAME", "PizzaShackAPI")
                .env("OUT", out)
                .output()
                .expect("node")
        })
        .await
        .unwrap()
    };
    let stdout = String::from_utf8_lossy(&run.stdout);
    let stderr = String::from_utf8_lossy(&run.stderr);
    assert!(
        run.status.success(),
        "browser suite failed:\n{stdout}\n{stderr}"
    );
    for page in [
        "home",
        "devportal-apis",
        "devportal-api",
        "devportal-signup",
        "devportal-applications",
        "devportal-application",
        "devportal-try-it",
        "publisher-login",
        "publisher-apis",
        "publisher-api",
        "admin-approvals",
        "admin-tiers",
        "admin-users",
    ] {
        assert!(
            out.join(format!("{page}.png")).is_file(),
            "no screenshot of {page}"
        );
    }

    // What the browser did is done: the subscription was approved.
    let now = ok_json(
        flow.get(flow.devportal(&format!(
            "/subscriptions/{}",
            subscription["subscriptionId"].as_str().unwrap()
        )))
        .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(now["status"], "UNBLOCKED");
    // The account and the application the browser made exist.
    let signed_up = tollgate_testkit::http_client()
        .get(node.control_plane_http("/api/am/devportal/v3/applications"))
        .basic_auth("carol", Some("carol-secret-1"))
        .send()
        .await
        .unwrap();
    let apps = ok_json(signed_up, StatusCode::OK).await;
    assert_eq!(apps["list"][0]["name"], "CarolApp");
    assert_eq!(apps["list"][0]["subscriptionCount"], 1);
    // …and the tier the admin added.
    let tiers = ok_json(
        tollgate_testkit::http_client()
            .get(node.control_plane_http("/api/am/admin/v4/throttling/policies/subscription"))
            .basic_auth("admin", Some(&node.admin_password))
            .send()
            .await
            .unwrap(),
        StatusCode::OK,
    )
    .await;
    assert!(
        tiers["list"]
            .as_array()
            .unwrap()
            .iter()
            .any(|t| t["policyName"] == "BrowserTier"
                && t["defaultLimit"]["requestCount"]["requestCount"] == 100),
        "{tiers}"
    );
}
