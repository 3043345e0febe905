//! Documents through the Publisher API: every kind and source, each bad field named, files
//! uploaded and downloaded with their type, inline and Markdown content, URL documents as
//! redirects, and copies of an API carrying them.

use serde_json::{json, Value};
use tollgate_testbed::{Part, TestBed};

use super::{create_api, named_api, publisher, urlencode, NOWHERE};

#[tokio::test]
async fn documents_of_every_kind_and_copies_carry_them() {
    let bed = TestBed::sqlite().await;
    let created = create_api(&bed, &named_api("Docs", "/docs", "1.0.0", NOWHERE)).await;
    let id = created["id"].as_str().unwrap();
    let docs = format!("/apis/{id}/documents");
    let add = |body: Value| {
        let (bed, path) = (&bed, publisher(&docs));
        async move { bed.post(&path).as_user("admin").json(&body).send().await }
    };
    let get = |path: String| {
        let bed = &bed;
        async move { bed.get(&publisher(&path)).as_user("admin").send().await }
    };

    let inline = add(json!({"name": "Getting started", "type": "HOWTO", "summary": "How to order", "sourceType": "INLINE",
                   "inlineContent": "Call GET /menu.", "visibility": "API_LEVEL"}))
        .await
        .expect(201);
    let markdown = add(json!({"name": "Samples", "type": "SAMPLES", "sourceType": "MARKDOWN", "inlineContent": "# Samples"}))
        .await
        .expect(201);
    let url = add(json!({"name": "Forum", "type": "PUBLIC_FORUM", "sourceType": "URL", "sourceUrl": "https://forum.example.com/pizza"}))
        .await
        .expect(201);
    let file = add(
        json!({"name": "Guide", "type": "OTHER", "otherTypeName": "Guide", "sourceType": "FILE"}),
    )
    .await
    .expect(201);
    assert_eq!(inline["createdBy"], "admin");

    // Bad documents: each field named.
    for (body, field) in [
        (
            json!({"name": "X", "type": "NOVEL", "sourceType": "INLINE"}),
            "type",
        ),
        (
            json!({"name": "X", "type": "HOWTO", "sourceType": "FAX"}),
            "sourceType",
        ),
        (
            json!({"name": "X", "type": "HOWTO", "sourceType": "URL"}),
            "sourceUrl",
        ),
        (
            json!({"name": "X", "type": "OTHER", "sourceType": "INLINE"}),
            "otherTypeName",
        ),
        (
            json!({"name": "", "type": "HOWTO", "sourceType": "INLINE"}),
            "name",
        ),
        (
            json!({"name": "X", "type": "HOWTO", "sourceType": "INLINE", "visibility": "EVERYONE"}),
            "visibility",
        ),
    ] {
        assert_eq!(
            add(body.clone()).await.bad_fields(),
            vec![field.to_string()],
            "{body}"
        );
    }
    add(json!({"name": "Samples", "type": "SAMPLES", "sourceType": "INLINE"}))
        .await
        .refused(409);

    // Upload a file and download it with its content type.
    let file_id = file["documentId"].as_str().unwrap();
    let pdf = b"%PDF-1.4 not really a pdf\x00\x01\x02".to_vec();
    let uploaded = bed
        .post(&publisher(&format!("{docs}/{file_id}/content")))
        .as_user("admin")
        .multipart(&[Part::file("file", "guide.pdf", pdf.clone()).typed("application/pdf")])
        .send()
        .await
        .expect(200);
    assert_eq!(uploaded["fileName"], "guide.pdf");
    let download = get(format!("{docs}/{file_id}/content")).await;
    assert_eq!(download.status, 200);
    assert_eq!(download.header("content-type"), Some("application/pdf"));
    assert!(download
        .header("content-disposition")
        .unwrap()
        .contains("guide.pdf"));
    assert_eq!(download.body.to_vec(), pdf);

    // Inline content is replaced through the same endpoint; Markdown is served as such.
    let inline_id = inline["documentId"].as_str().unwrap();
    bed.post(&publisher(&format!("{docs}/{inline_id}/content")))
        .as_user("admin")
        .multipart(&[Part::text(
            "inlineContent",
            "Call GET /menu, then POST /order.",
        )])
        .send()
        .await;
    let text = get(format!("{docs}/{inline_id}/content")).await;
    assert_eq!(text.text(), "Call GET /menu, then POST /order.");
    let md = get(format!(
        "{docs}/{}/content",
        markdown["documentId"].as_str().unwrap()
    ))
    .await;
    assert!(md
        .header("content-type")
        .unwrap()
        .starts_with("text/markdown"));
    // A URL document's content is where it points.
    let moved = get(format!(
        "{docs}/{}/content",
        url["documentId"].as_str().unwrap()
    ))
    .await;
    assert_eq!(moved.status, 303);
    assert_eq!(moved.location(), "https://forum.example.com/pizza");
    // A file where text belongs is refused, naming the field.
    let wrong = bed
        .post(&publisher(&format!("{docs}/{file_id}/content")))
        .as_user("admin")
        .multipart(&[Part::text("inlineContent", "text")])
        .send()
        .await;
    assert_eq!(wrong.bad_fields(), vec!["file"]);

    // Update, validate by name, list in pages, delete.
    let updated = bed
        .put(&publisher(&format!("{docs}/{inline_id}")))
        .as_user("admin")
        .json(&json!({"name": "Quick start", "type": "HOWTO", "sourceType": "INLINE", "summary": "Renamed"}))
        .send()
        .await
        .expect(200);
    assert_eq!(updated["name"], "Quick start");
    assert_eq!(
        updated["inlineContent"],
        "Call GET /menu, then POST /order."
    );
    let exists = |name: &str| {
        let (bed, path) = (
            &bed,
            publisher(&format!("{docs}/validate?name={}", urlencode(name))),
        );
        async move { bed.post(&path).as_user("admin").send().await.status }
    };
    assert_eq!(exists("Quick start").await, 200);
    assert_eq!(exists("Getting started").await, 404);
    let page = get(format!("{docs}?limit=2&offset=2")).await.expect(200);
    assert_eq!(page["count"], 2);
    assert_eq!(page["pagination"]["total"], 4);

    // A new version carries the documents, files included.
    let copy = bed
        .post(&publisher(&format!(
            "/apis/copy-api?apiId={id}&newVersion=2.0.0"
        )))
        .as_user("admin")
        .send()
        .await
        .expect(201);
    let copy_id = copy["id"].as_str().unwrap();
    let copied = get(format!("/apis/{copy_id}/documents")).await.expect(200);
    assert_eq!(copied["count"], 4);
    let copied_file = copied["list"]
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["name"] == "Guide")
        .unwrap();
    let download = get(format!(
        "/apis/{copy_id}/documents/{}/content",
        copied_file["documentId"].as_str().unwrap()
    ))
    .await;
    assert_eq!(download.body.to_vec(), pdf);

    let deleted = bed
        .delete(&publisher(&format!("{docs}/{file_id}")))
        .as_user("admin")
        .send()
        .await;
    assert_eq!(deleted.status, 200);
    get(format!("{docs}/{file_id}")).await.refused(404);
}
