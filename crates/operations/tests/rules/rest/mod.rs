//! The REST APIs' edge in process: the Publisher, Developer Portal and Admin APIs, SCIM and
//! self sign-up through the control plane's real router over a test bed — what reaches a client
//! of the rules above: WSO2's JSON field names, its error body (`code`, `message`,
//! `description`, one `error` entry per bad field), status codes, query and paging parameters,
//! multipart bodies. These were end-to-end tests once; a real process adds nothing to them.

mod api_keys;
mod apis;
mod applications;
mod definitions;
mod discovery;
mod documents;
mod key_managers;
mod keys;
mod lifecycle;
mod projects;
mod scopes;
mod settings;
mod subscriptions;
mod tiers;
mod users;
mod workflows;

use serde_json::{json, Value};
use tollgate_testbed::TestBed;

pub use tollgate_testbed::testkit::flow::{named_api, pizzashack, urlencode};

/// A path of the Publisher v4 API.
pub fn publisher(path: &str) -> String {
    format!("/api/am/publisher/v4{path}")
}

/// A path of the Developer Portal v3 API.
pub fn devportal(path: &str) -> String {
    format!("/api/am/devportal/v3{path}")
}

/// A path of the Admin v4 API.
pub fn admin(path: &str) -> String {
    format!("/api/am/admin/v4{path}")
}

/// A backend address nothing listens on (the APIs here are never called).
pub const NOWHERE: &str = "http://127.0.0.1:9";

/// The admin creates an API from WSO2's API object; the API as stored.
pub async fn create_api(bed: &TestBed, body: &Value) -> Value {
    bed.post(&publisher("/apis"))
        .as_user("admin")
        .json(body)
        .send()
        .await
        .expect(201)
}

/// The admin creates, revises, deploys (to Default) and publishes an API; its id.
pub async fn publish_api(bed: &TestBed, body: &Value) -> String {
    let id = create_api(bed, body).await["id"]
        .as_str()
        .unwrap()
        .to_string();
    deploy(
        bed,
        &id,
        json!([{"name": "Default", "vhost": "localhost", "displayOnDevportal": true}]),
    )
    .await;
    change_lifecycle(bed, &id, "Publish").await;
    id
}

/// The admin cuts a revision and deploys it to `targets`; the revision's id.
pub async fn deploy(bed: &TestBed, api_id: &str, targets: Value) -> String {
    let revision = bed
        .post(&publisher(&format!("/apis/{api_id}/revisions")))
        .as_user("admin")
        .json(&json!({"description": "deployed"}))
        .send()
        .await
        .expect(201);
    let revision_id = revision["id"].as_str().unwrap().to_string();
    bed.post(&publisher(&format!(
        "/apis/{api_id}/deploy-revision?revisionId={revision_id}"
    )))
    .as_user("admin")
    .json(&targets)
    .send()
    .await
    .expect(200);
    revision_id
}

/// The admin moves the API through its lifecycle; the answer.
pub async fn change_lifecycle(bed: &TestBed, api_id: &str, action: &str) -> Value {
    bed.post(&publisher(&format!(
        "/apis/change-lifecycle?apiId={api_id}&action={}",
        urlencode(action)
    )))
    .as_user("admin")
    .send()
    .await
    .expect(200)
}

/// `user` creates an application (Unlimited); its id.
pub async fn application(bed: &TestBed, user: &str, name: &str) -> String {
    bed.post(&devportal("/applications"))
        .as_user(user)
        .json(&json!({"name": name, "throttlingPolicy": "Unlimited", "tokenType": "JWT"}))
        .send()
        .await
        .expect(201)["applicationId"]
        .as_str()
        .unwrap()
        .to_string()
}

/// `user` subscribes an application to an API at `tier`; the subscription.
pub async fn subscribe(bed: &TestBed, user: &str, app_id: &str, api_id: &str, tier: &str) -> Value {
    bed.post(&devportal("/subscriptions"))
        .as_user(user)
        .json(&json!({"applicationId": app_id, "apiId": api_id, "throttlingPolicy": tier}))
        .send()
        .await
        .expect(201)
}

/// A client of the admin's registered through DCR with these grant types: (id, secret).
pub async fn register_client(bed: &TestBed, grant_types: &str) -> (String, String) {
    let registered = bed
        .post("/client-registration/v0.17/register")
        .as_user("admin")
        .json(&json!({"clientName": "rest-rules", "owner": "admin", "grantType": grant_types}))
        .send()
        .await
        .expect(200);
    (
        registered["clientId"].as_str().unwrap().to_string(),
        registered["clientSecret"].as_str().unwrap().to_string(),
    )
}

/// The token endpoint's answer to `client` (Basic credentials) with this form.
pub async fn token_request(
    bed: &TestBed,
    client: &(String, String),
    form: &[(&str, &str)],
) -> tollgate_testbed::Reply {
    bed.post("/oauth2/token")
        .basic_auth(&client.0, &client.1)
        .form(form)
        .send()
        .await
}

/// Whether introspection (as `client`) finds the token active.
pub async fn is_active(bed: &TestBed, client: &(String, String), token: &str) -> bool {
    bed.post("/oauth2/introspect")
        .basic_auth(&client.0, &client.1)
        .form(&[("token", token)])
        .send()
        .await
        .expect(200)["active"]
        == true
}
