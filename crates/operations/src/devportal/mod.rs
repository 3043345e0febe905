//! The developer portal's operations (WSO2's Developer Portal API): what a consumer does with
//! their own applications. Another user's application is "not found", never "forbidden", so
//! ids do not leak.

pub mod applications;
pub mod subscriptions;

use tollgate_store::ApplicationRow;

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
        .await
        .map_err(|_| OpError::NotFound(format!("application {application_id}")))?;
    if app.owner != actor.username {
        return Err(OpError::NotFound(format!("application {application_id}")));
    }
    Ok(app)
}
