//! What gateway nodes ask of the control plane over the internal data API (behind the node
//! credential): the runtime snapshot they start from, and reports of what they have applied.

use tollgate_model::wire::GatewayReport;
use tollgate_model::Snapshot;

use crate::{OpError, OpResult, Problems, Services};

/// The most characters a gateway's node id may have.
const MAX_NODE_ID: usize = 200;
/// The most environment labels a gateway may report.
const MAX_LABELS: usize = 100;

/// Everything gateways enforce, folded to the outbox's current position; with `labels`
/// (comma-separated environments), only the APIs deployed to those.
pub async fn runtime_snapshot(services: &Services, labels: Option<&str>) -> OpResult<Snapshot> {
    let mut snapshot = services.store.snapshot().await?;
    if let Some(labels) = labels.filter(|l| !l.trim().is_empty()) {
        let labels: Vec<&str> = labels.split(',').map(str::trim).collect();
        if labels.len() > MAX_LABELS {
            return Err(OpError::invalid(
                "gatewayLabels",
                format!("names more than {MAX_LABELS} environments"),
            ));
        }
        snapshot
            .apis
            .retain(|d| labels.contains(&d.environment.as_str()));
    }
    Ok(snapshot)
}

/// Records which outbox position a gateway has applied (deployments then say how many
/// gateways serve them).
pub async fn record_report(services: &Services, report: &GatewayReport) -> OpResult<()> {
    let mut problems = Problems::default();
    if report.node_id.is_empty() || report.node_id.chars().count() > MAX_NODE_ID {
        problems.add(
            "nodeId",
            format!("must name the gateway in at most {MAX_NODE_ID} characters"),
        );
    }
    if report.labels.len() > MAX_LABELS {
        problems.add(
            "labels",
            format!("must name at most {MAX_LABELS} environments"),
        );
    }
    problems.into_result(())?;
    Ok(services.store.record_gateway_report(report).await?)
}
