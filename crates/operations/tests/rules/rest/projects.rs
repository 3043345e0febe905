//! Export and import through the Publisher API: an API's whole project (definition,
//! documents and their files, thumbnail, deployments) in WSO2's layout, imported into another
//! installation as it was, a conflict unless overwriting, a project exported by WSO2 4.2, and
//! what is not a project. (That the other installation's gateway then serves the API is the
//! end-to-end suite's.)

use std::path::Path;

use serde_json::json;
use tollgate_testbed::archives::{zip_directory, zip_entries, zip_of};
use tollgate_testbed::{Part, Reply, TestBed};

use super::{named_api, publish_api, publisher, NOWHERE};

async fn import(bed: &TestBed, archive: Vec<u8>, query: &str) -> Reply {
    bed.post(&publisher(&format!("/apis/import{query}")))
        .as_user("admin")
        .multipart(&[Part::file("file", "api.zip", archive)])
        .send()
        .await
}

async fn get(bed: &TestBed, path: &str) -> Reply {
    bed.get(&publisher(path)).as_user("admin").send().await
}

#[tokio::test]
async fn exports_import_into_another_installation_and_wso2_exports_import() {
    let (source, target) = (TestBed::sqlite().await, TestBed::sqlite().await);

    // An API with everything: documents (text and a file), a thumbnail, a deployed revision.
    let id = publish_api(&source, &named_api("Travel", "/travel", "2.1.0", NOWHERE)).await;
    let documents = publisher(&format!("/apis/{id}/documents"));
    source
        .post(&documents)
        .as_user("admin")
        .json(&json!({"name": "Guide", "type": "HOWTO", "sourceType": "MARKDOWN", "inlineContent": "# Travel"}))
        .send()
        .await
        .expect(201);
    let file_doc = source
        .post(&documents)
        .as_user("admin")
        .json(&json!({"name": "Terms", "type": "OTHER", "otherTypeName": "Legal", "sourceType": "FILE"}))
        .send()
        .await
        .expect(201);
    let terms = b"%PDF terms and conditions".to_vec();
    source
        .post(&publisher(&format!(
            "/apis/{id}/documents/{}/content",
            file_doc["documentId"].as_str().unwrap()
        )))
        .as_user("admin")
        .multipart(&[Part::file("file", "terms.pdf", terms.clone()).typed("application/pdf")])
        .send()
        .await
        .expect(200);
    let png = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR".to_vec();
    source
        .put(&publisher(&format!("/apis/{id}/thumbnail")))
        .as_user("admin")
        .multipart(&[Part::file("file", "icon.png", png)])
        .send()
        .await
        .expect(200);

    let exported = get(
        &source,
        "/apis/export?name=Travel&version=2.1.0&format=YAML",
    )
    .await;
    assert_eq!(exported.status, 200);
    assert_eq!(exported.header("content-type"), Some("application/zip"));
    let archive = exported.body.to_vec();
    let mut entries = zip_entries(&archive);
    entries.sort();
    assert_eq!(
        entries,
        [
            "Travel-2.1.0/Definitions/swagger.yaml",
            "Travel-2.1.0/Docs/Guide/Guide",
            "Travel-2.1.0/Docs/Guide/document.yaml",
            "Travel-2.1.0/Docs/Terms/document.yaml",
            "Travel-2.1.0/Docs/Terms/terms.pdf",
            "Travel-2.1.0/Image/icon.png",
            "Travel-2.1.0/api.yaml",
            "Travel-2.1.0/deployment_environments.yaml",
        ]
    );

    // Into the other installation: the same API, published and deployed there.
    import(&target, archive.clone(), "").await.expect(200);
    let listed = get(&target, "/apis?query=name:Travel").await.expect(200);
    assert_eq!(listed["count"], 1);
    let copy_id = listed["list"][0]["id"].as_str().unwrap().to_string();
    let copy = get(&target, &format!("/apis/{copy_id}")).await.expect(200);
    assert_eq!(copy["lifeCycleStatus"], "PUBLISHED");
    assert_eq!(copy["hasThumbnail"], true);
    assert_eq!(copy["operations"].as_array().unwrap().len(), 6);
    let docs = get(&target, &format!("/apis/{copy_id}/documents"))
        .await
        .expect(200);
    assert_eq!(docs["count"], 2);
    let terms_copy = docs["list"]
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["name"] == "Terms")
        .unwrap();
    let download = get(
        &target,
        &format!(
            "/apis/{copy_id}/documents/{}/content",
            terms_copy["documentId"].as_str().unwrap()
        ),
    )
    .await;
    assert_eq!(download.body.to_vec(), terms);
    let deployments = get(&target, &format!("/apis/{copy_id}/deployments"))
        .await
        .expect(200);
    assert_eq!(deployments["list"][0]["name"], "Default");

    // Again: a conflict, unless overwriting; overwriting makes a new revision.
    import(&target, archive.clone(), "").await.refused(409);
    import(&target, archive.clone(), "?overwrite=true")
        .await
        .expect(200);
    let revisions = get(&target, &format!("/apis/{copy_id}/revisions"))
        .await
        .expect(200);
    assert_eq!(revisions["count"], 2);

    // A project exported by WSO2 4.2 (its layout, with apictl's api_meta.yaml).
    let fixtures =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../tollgate/tests/fixtures/wso2-4.2-export");
    let wso2 = zip_directory(&fixtures, &fixtures.join("PizzaShackAPI-1.0.0"));
    import(&target, wso2, "?preserveProvider=true")
        .await
        .expect(200);
    let listed = get(&target, "/apis?query=name:PizzaShackAPI")
        .await
        .expect(200);
    let pizza_id = listed["list"][0]["id"].as_str().unwrap().to_string();
    let pizza = get(&target, &format!("/apis/{pizza_id}")).await.expect(200);
    assert_eq!(pizza["lifeCycleStatus"], "PUBLISHED");
    assert_eq!(pizza["operations"].as_array().unwrap().len(), 5);
    assert_eq!(pizza["businessInformation"]["businessOwner"], "Jane Roe");
    assert_eq!(
        pizza["gatewayType"], "wso2/synapse",
        "unknown fields are kept"
    );
    let swagger = get(&target, &format!("/apis/{pizza_id}/swagger"))
        .await
        .expect(200);
    assert!(swagger["components"]["schemas"]["Order"].is_object());
    let docs = get(&target, &format!("/apis/{pizza_id}/documents"))
        .await
        .expect(200);
    assert_eq!(docs["list"][0]["name"], "PizzaShack Guide");
    let guide = get(
        &target,
        &format!(
            "/apis/{pizza_id}/documents/{}/content",
            docs["list"][0]["documentId"].as_str().unwrap()
        ),
    )
    .await;
    assert!(guide.text().starts_with("# Ordering"));

    // What is refused: not a zip, a zip with no api.yaml.
    assert_eq!(
        import(&target, b"not a zip".to_vec(), "")
            .await
            .bad_fields(),
        vec!["file"]
    );
    let empty = zip_of(&[("x/readme.txt", b"hello")]);
    import(&target, empty, "").await.refused(400);
}
