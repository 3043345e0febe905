//! `operations::devportal`: what consumers do with their own applications — subscriptions,
//! OAuth keys, API keys, approvals they wait for — and what they find, rate and discuss. Another
//! user's application (or subscription, or key) is "not found", never "forbidden".

mod api_keys;
mod applications;
mod discovery;
mod feedback;
mod invocation;
mod keys;
mod settings;
mod subscriptions;
mod try_it;
mod workflows;

use tollgate_operations::devportal::workflows::Approvals;
use tollgate_operations::key_managers::{self, KeyManagerInput};
use tollgate_operations::Page;
use tollgate_store::KeyManagerRow;
use tollgate_testbed::stub::{serve, Answer};
use tollgate_testbed::{Settings, TestBed};

/// A page holding everything these tests make.
const ALL: Page = Page {
    limit: 100,
    offset: 0,
};

/// A bed where these changes wait for an administrator.
async fn approving(approvals: Approvals) -> TestBed {
    let mut settings = Settings::default();
    settings.devportal.approvals = approvals;
    TestBed::sqlite_with(settings).await
}

/// An authorization server on loopback answering every request with `status` (a token for
/// 200); its token endpoint.
async fn token_endpoint(status: u16) -> String {
    let token =
        serde_json::json!({"access_token": "t", "token_type": "Bearer", "expires_in": 3600});
    format!("{}/oauth2/token", serve(Answer::json(status, &token)).await)
}

/// The admin adds an external key manager `name` (of type `custom`) proving clients at
/// `token_endpoint`, when given.
async fn external_key_manager(
    bed: &TestBed,
    name: &str,
    token_endpoint: Option<&str>,
) -> KeyManagerRow {
    let issuer = format!("https://{}.example.com", name.to_lowercase());
    key_managers::create(
        bed.services(),
        &bed.admin(),
        KeyManagerInput {
            name: name.into(),
            kind: "custom".into(),
            certificate_value: Some(format!("{issuer}/jwks")),
            issuer: Some(issuer),
            endpoints: token_endpoint
                .map(|url| vec![("tokenEndpoint".to_string(), url.to_string())])
                .unwrap_or_default(),
            ..KeyManagerInput::default()
        },
    )
    .await
    .expect("add the key manager")
}
