//! `environments`: gateway environments, those `deployment.toml` declares (read-only) and those
//! an administrator adds; who may see and change them, and when one may go.

use tollgate_operations::environments::{
    create_environment, delete_environment, list_environments, update_environment, Environment,
    EnvironmentInput, Vhost,
};
use tollgate_operations::publisher::revisions::{self, DeploymentTarget};
use tollgate_testbed::{Refused, TestBed};

fn vhost(host: &str) -> Vhost {
    Vhost {
        host: host.into(),
        http_context: String::new(),
        http_port: Some(8290),
        https_port: Some(8253),
        ws_port: None,
        wss_port: None,
    }
}

fn environment(name: &str) -> EnvironmentInput {
    EnvironmentInput {
        name: name.into(),
        display_name: None,
        description: None,
        provider: None,
        vhosts: vec![vhost("edge.example.com")],
    }
}

/// The environment `deployment.toml` declares in every bed (`Default`).
async fn configured(bed: &TestBed) -> Environment {
    list_environments(bed.services(), &bed.admin())
        .await
        .unwrap()
        .remove(0)
}

#[tokio::test]
async fn environments_are_seen_by_api_makers_and_changed_by_administrators_only() {
    let bed = TestBed::sqlite().await;
    let services = bed.services();
    let edge = create_environment(services, &bed.admin(), environment("edge"))
        .await
        .unwrap();
    list_environments(services, &bed.user("alice"))
        .await
        .forbidden();
    for who in [bed.user("creator"), bed.user("publisher")] {
        assert_eq!(list_environments(services, &who).await.unwrap().len(), 2);
        create_environment(services, &who, environment("west"))
            .await
            .forbidden();
        update_environment(services, &who, &edge.id, environment("edge"))
            .await
            .forbidden();
        delete_environment(services, &who, &edge.id)
            .await
            .forbidden();
    }
    let reader = bed.with_scopes("reader", &["apim:environment_read"]);
    assert_eq!(list_environments(services, &reader).await.unwrap().len(), 2);
    create_environment(services, &reader, environment("west"))
        .await
        .forbidden();
    let manager = bed.with_scopes("manager", &["apim:environment_manage"]);
    create_environment(services, &manager, environment("west"))
        .await
        .unwrap();
    // Gateways learn environments from their own configuration: no event.
    assert_eq!(bed.events().await, Vec::<&str>::new());
}

#[tokio::test]
async fn an_added_environment_is_listed_after_the_configured_ones_by_name() {
    let bed = TestBed::sqlite().await;
    let (services, admin) = (bed.services(), bed.admin());
    let west = create_environment(services, &admin, environment(" west "))
        .await
        .unwrap();
    assert_eq!(
        (west.name.as_str(), west.display_name.as_str()),
        ("west", "west")
    );
    assert_eq!(
        (west.provider.as_str(), west.description.as_str()),
        ("wso2", "")
    );
    assert!(!west.read_only);
    assert_eq!(west.vhosts, [vhost("edge.example.com")]);
    let mut input = environment("east");
    input.display_name = Some("East".into());
    input.provider = Some("acme".into());
    create_environment(services, &admin, input).await.unwrap();
    let all = list_environments(services, &admin).await.unwrap();
    let names: Vec<_> = all.iter().map(|e| e.name.as_str()).collect();
    assert_eq!(names, ["Default", "east", "west"]);
    // The configured one is read-only, with its ports taken from its endpoints.
    assert!(all[0].read_only);
    assert_eq!(
        (all[0].vhosts[0].http_port, all[0].vhosts[0].https_port),
        (Some(8280), Some(8243))
    );
    assert_eq!(
        (all[1].display_name.as_str(), all[1].provider.as_str()),
        ("East", "acme")
    );
    assert_eq!(bed.events().await, Vec::<&str>::new());
}

#[tokio::test]
async fn every_problem_with_an_environment_is_named_by_its_field() {
    let bed = TestBed::sqlite().await;
    let (services, admin) = (bed.services(), bed.admin());
    let mut input = environment("has space");
    input.display_name = Some("d".repeat(256));
    input.description = Some("d".repeat(1024));
    input.vhosts = vec![
        vhost("edge.example.com"),
        Vhost {
            host: "-bad-.example.com".into(),
            http_context: "/a/b".into(),
            http_port: Some(0),
            https_port: Some(0),
            ws_port: Some(0),
            wss_port: Some(0),
        },
    ];
    create_environment(services, &admin, input)
        .await
        .invalid_fields(&[
            "name",
            "displayName",
            "description",
            "vhosts[1].host",
            "vhosts[1].httpContext",
            "vhosts[1].httpPort",
            "vhosts[1].httpsPort",
            "vhosts[1].wsPort",
            "vhosts[1].wssPort",
        ]);
    let mut no_hosts = environment("edge");
    no_hosts.vhosts.clear();
    create_environment(services, &admin, no_hosts)
        .await
        .invalid_fields(&["vhosts"]);
    for name in ["", "a&b", &"n".repeat(256)] {
        create_environment(services, &admin, environment(name))
            .await
            .invalid_fields(&["name"]);
    }
    for host in [
        "",
        "a..b",
        &format!("{}.com", "l".repeat(64)),
        "under_score",
    ] {
        let mut input = environment("edge");
        input.vhosts = vec![vhost(host)];
        create_environment(services, &admin, input)
            .await
            .invalid_fields(&["vhosts[0].host"]);
    }
    assert_eq!(list_environments(services, &admin).await.unwrap().len(), 1);
}

#[tokio::test]
async fn an_environment_name_is_taken_by_the_configuration_or_by_an_earlier_one() {
    let bed = TestBed::sqlite().await;
    let (services, admin) = (bed.services(), bed.admin());
    let message = create_environment(services, &admin, environment("Default"))
        .await
        .conflict();
    assert!(message.contains("in deployment.toml"), "{message}");
    create_environment(services, &admin, environment("edge"))
        .await
        .unwrap();
    let message = create_environment(services, &admin, environment("edge"))
        .await
        .conflict();
    assert!(message.contains("'edge' already exists"), "{message}");
    assert_eq!(list_environments(services, &admin).await.unwrap().len(), 2);
}

#[tokio::test]
async fn a_configured_environment_is_not_changed_or_deleted_here() {
    let bed = TestBed::sqlite().await;
    let (services, admin) = (bed.services(), bed.admin());
    let default = configured(&bed).await;
    let message = update_environment(services, &admin, &default.id, environment("Default"))
        .await
        .not_allowed();
    assert!(message.contains("deployment.toml"), "{message}");
    delete_environment(services, &admin, &default.id)
        .await
        .not_allowed();
    assert_eq!(configured(&bed).await, default);
}

#[tokio::test]
async fn an_added_environment_keeps_its_name_when_changed() {
    let bed = TestBed::sqlite().await;
    let (services, admin) = (bed.services(), bed.admin());
    let mut input = environment("edge");
    input.provider = Some("acme".into());
    let edge = create_environment(services, &admin, input).await.unwrap();
    update_environment(services, &admin, &edge.id, environment("renamed"))
        .await
        .invalid_fields(&["name"]);
    let mut bad = environment("edge");
    bad.vhosts.clear();
    update_environment(services, &admin, &edge.id, bad)
        .await
        .invalid_fields(&["vhosts"]);
    update_environment(services, &admin, "no-such-environment", environment("edge"))
        .await
        .not_found();
    let mut change = environment("edge");
    change.display_name = Some("Edge".into());
    change.description = Some("the edge gateways".into());
    change.vhosts = vec![vhost("a.example.com"), vhost("b.example.com")];
    let changed = update_environment(services, &admin, &edge.id, change)
        .await
        .unwrap();
    // A provider left out stays as it was.
    assert_eq!(changed.provider, "acme");
    assert_eq!(
        (changed.display_name.as_str(), changed.vhosts.len()),
        ("Edge", 2)
    );
    let listed = list_environments(services, &admin).await.unwrap();
    assert_eq!(listed[1], changed);
    assert_eq!(bed.events().await, Vec::<&str>::new());
}

#[tokio::test]
async fn an_environment_an_api_is_deployed_to_cannot_be_deleted() {
    let bed = TestBed::sqlite().await;
    let (services, admin) = (bed.services(), bed.admin());
    let edge = create_environment(services, &admin, environment("edge"))
        .await
        .unwrap();
    let api = bed.api("Pizza", "/pizza").await;
    let revision = revisions::create_revision(services, &admin, &api.id, None)
        .await
        .unwrap();
    revisions::deploy_revision(
        services,
        &admin,
        &api.id,
        &revision.id,
        &[DeploymentTarget {
            environment: "edge".into(),
            vhost: None,
            display_on_devportal: true,
        }],
    )
    .await
    .unwrap();
    bed.events().await;
    let message = delete_environment(services, &admin, &edge.id)
        .await
        .conflict();
    assert!(
        message.contains("1 API(s) are deployed to 'edge'"),
        "{message}"
    );
    assert_eq!(list_environments(services, &admin).await.unwrap().len(), 2);
    assert_eq!(bed.events().await, Vec::<&str>::new());
}

#[tokio::test]
async fn an_unused_environment_is_deleted() {
    let bed = TestBed::sqlite().await;
    let (services, admin) = (bed.services(), bed.admin());
    let edge = create_environment(services, &admin, environment("edge"))
        .await
        .unwrap();
    delete_environment(services, &admin, &edge.id)
        .await
        .unwrap();
    assert_eq!(list_environments(services, &admin).await.unwrap().len(), 1);
    delete_environment(services, &admin, &edge.id)
        .await
        .not_found();
    assert_eq!(bed.events().await, Vec::<&str>::new());
    // Its name is free again.
    create_environment(services, &admin, environment("edge"))
        .await
        .unwrap();
}
