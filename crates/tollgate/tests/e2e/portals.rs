//! The web portals in a real browser (headless Chromium driven by `e2e/portals.mjs`) against a
//! real node, gateway and backend: a publisher imports the PizzaShack OpenAPI definition,
//! configures it, adds a document, creates a revision, deploys and publishes it; a consumer
//! signs up, creates an application, generates keys and a token, subscribes (held for
//! approval), the admin approves, and "try it" gets the backend's answer through the gateway;
//! the admin manages tiers and users; the publisher blocks and unblocks the subscription,
//! deprecates the API and creates a new version. The test then checks over REST that what the
//! browser did is real. Screenshots of every page land in `target/test-output/portals/`.
//!
//! Needs Debian's `chromium` and `npm ci` in `e2e/`: `scripts/test` (the README's test command)
//! installs both.

use std::path::{Path, PathBuf};

use reqwest::StatusCode;
use tollgate_testkit::flow::{ok_json, Flow};
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
    let definition = repo().join(
        "crates/tollgate/tests/fixtures/wso2-4.2-export/PizzaShackAPI-1.0.0/Definitions/swagger.yaml",
    );
    let out = repo().join("target/test-output/portals");
    // An endpoint certificate for the publisher to upload.
    let folder = tempfile::tempdir().unwrap();
    let certificate = folder.path().join("backend.pem");
    let generated =
        rcgen::generate_simple_self_signed(vec!["backend.example".to_string()]).unwrap();
    std::fs::write(&certificate, generated.cert.pem()).unwrap();
    let run = {
        let certificate = certificate.clone();
        let (e2e, out, base, password, backend_url) = (
            e2e.clone(),
            out.clone(),
            node.control_plane_http(""),
            node.admin_password.clone(),
            backend.url(),
        );
        tokio::task::spawn_blocking(move || {
            std::process::Command::new("node")
                .arg("portals.mjs")
                .current_dir(&e2e)
                .env("TOLLGATE_URL", base)
                .env("ADMIN_PASSWORD", password)
                .env("API_NAME", "PizzaShackAPI")
                .env("DEFINITION", definition)
                .env("BACKEND_URL", backend_url)
                .env("CERTIFICATE", certificate)
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
        "devportal-document",
        "devportal-feedback",
        "publisher-login",
        "publisher-create",
        "publisher-configuration",
        "publisher-resources",
        "publisher-endpoints",
        "publisher-documents",
        "publisher-deployments",
        "publisher-subscriptions",
        "publisher-definition",
        "publisher-comments",
        "publisher-scopes",
        "publisher-apis",
        "publisher-api",
        "admin-approvals",
        "admin-tiers",
        "admin-users",
        "admin-user",
        "admin-tier",
        "admin-environments",
        "admin-key-managers",
    ] {
        assert!(
            out.join(format!("{page}.png")).is_file(),
            "no screenshot of {page}"
        );
    }

    // What the browser did is done: the API is deployed and its documents hold the guide…
    let flow = Flow::login(&node).await;
    let apis = ok_json(
        flow.get(flow.publisher("/apis?query=name:PizzaShackAPI"))
            .await,
        StatusCode::OK,
    )
    .await;
    let api = apis["list"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["version"] == "1.0.0")
        .expect("the imported API")
        .clone();
    assert_eq!(api["lifeCycleStatus"], "DEPRECATED", "{api}");
    // The import by URL (version 3.0.0) and the copy (2.0.0) are there too; the mirror is not.
    let versions: Vec<&str> = apis["list"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|a| a["name"] == "PizzaShackAPI")
        .map(|a| a["version"].as_str().unwrap())
        .collect();
    for version in ["1.0.0", "2.0.0", "3.0.0"] {
        assert!(versions.contains(&version), "{apis}");
    }
    assert!(!apis.to_string().contains("PizzaShackMirror"), "{apis}");
    let api_id = api["id"].as_str().unwrap();
    let full = ok_json(
        flow.get(flow.publisher(&format!("/apis/{api_id}"))).await,
        StatusCode::OK,
    )
    .await;
    let operations = full["operations"].as_array().unwrap();
    assert!(
        operations.iter().any(|o| o["target"] == "/reviews"
            && o["verb"] == "GET"
            && o["scopes"] == serde_json::json!(["reviews:read"])),
        "{full}"
    );
    // The definition's resources kept what the import gave them (nothing shifted between rows).
    assert!(
        operations
            .iter()
            .any(|o| o["target"] == "/order/{orderId}" && o["verb"] == "DELETE"),
        "{full}"
    );
    assert!(
        full["tags"].as_array().unwrap().contains(&"pizza".into()),
        "{full}"
    );
    assert!(
        full["policies"]
            .as_array()
            .unwrap()
            .contains(&"Gold".into()),
        "{full}"
    );
    let docs = ok_json(
        flow.get(flow.publisher(&format!("/apis/{api_id}/documents")))
            .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(docs["list"][0]["name"], "PizzaShack Guide", "{docs}");
    assert_eq!(docs["list"][0]["sourceType"], "MARKDOWN", "{docs}");
    let deployments = ok_json(
        flow.get(flow.publisher(&format!("/apis/{api_id}/deployments")))
            .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(
        deployments["list"].as_array().map(Vec::len),
        Some(1),
        "{deployments}"
    );
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
                && t["defaultLimit"]["requestCount"]["requestCount"] == 200),
        "{tiers}"
    );
}
