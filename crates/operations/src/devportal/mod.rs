//! The developer portal's operations (WSO2's Developer Portal API): what a consumer does with
//! their own applications. Another user's application is "not found", never "forbidden", so
//! ids do not leak.

pub mod api_keys;
pub mod applications;
pub mod discovery;
pub mod feedback;
pub mod invocation;
pub mod keys;
pub mod settings;
pub mod subscriptions;
pub mod try_it;
pub mod workflows;

use tollgate_store::ApplicationRow;

/// What the developer portal lets visitors do, and which changes wait for an administrator.
#[derive(Debug, Clone)]
pub struct DevportalSettings {
    /// Visitors who are not signed in may browse public APIs (`[apim.devportal]
    /// enable_anonymous_mode`).
    pub anonymous_mode: bool,
    pub approvals: workflows::Approvals,
    /// The attributes applications carry (`[[apim.devportal.application_attributes]]`).
    pub application_attributes: Vec<ApplicationAttribute>,
}

/// An application attribute the configuration declares (WSO2's
/// `[[apim.devportal.application_attributes]]`): the portals ask for it; a required one must
/// be given (or have a default).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApplicationAttribute {
    pub name: String,
    pub description: String,
    pub required: bool,
    pub hidden: bool,
    /// Given to applications that leave the attribute out.
    pub default: Option<String>,
    pub tooltip: String,
}

impl Default for DevportalSettings {
    fn default() -> Self {
        DevportalSettings {
            anonymous_mode: true,
            approvals: workflows::Approvals::default(),
            application_attributes: Vec::new(),
        }
    }
}

use crate::{Actor, OpError, OpResult, Services};

/// The caller's own application; others' are invisible (404), as in WSO2.
pub async fn own_application(
    services: &Services,
    actor: &Actor,
    application_id: &str,
) -> OpResult<ApplicationRow> {
    let app = services
        .store
        .application(&actor.tenant, application_id)
        .await?;
    if app.owner != actor.username {
        return Err(OpError::NotFound(format!("application {application_id}")));
    }
    Ok(app)
}

/// Keys (OAuth or API keys) are for approved applications only: one whose creation waits for
/// approval, or was rejected, gets none, as in WSO2.
pub(crate) fn approved(app: &ApplicationRow) -> OpResult<()> {
    if app.status == tollgate_model::ApplicationStatus::Approved {
        Ok(())
    } else {
        Err(OpError::NotAllowed(format!(
            "Application {} is {}, not approved: it cannot have keys yet",
            app.name, app.status
        )))
    }
}
