//! `publisher::documents`: an API's documents — who may write and read them, what each source
//! type requires, names unique per API, content of the right kind for the source; no event
//! (gateways do not serve documents).

use tollgate_model::{DocumentSource, DocumentType, DocumentVisibility};
use tollgate_operations::publisher::documents::{
    create_document, delete_document, document_content, document_exists, get_document,
    list_documents, set_document_content, update_document, DocumentContent, DocumentInput,
    ServedContent, MAX_CONTENT_BYTES,
};
use tollgate_operations::Page;
use tollgate_store::{DocumentFile, DocumentRow};
use tollgate_testbed::{Refused, TestBed};

const ALL: Page = Page {
    limit: 100,
    offset: 0,
};

fn input(name: &str, source_type: DocumentSource) -> DocumentInput {
    DocumentInput {
        name: name.into(),
        doc_type: DocumentType::HowTo,
        other_type_name: None,
        summary: None,
        source_type,
        source_url: None,
        visibility: None,
        inline_content: None,
    }
}

fn file(bytes: usize) -> DocumentContent {
    DocumentContent::File(DocumentFile {
        name: "menu.pdf".into(),
        content_type: "application/pdf".into(),
        content: vec![b'%'; bytes],
    })
}

async fn document(bed: &TestBed, api_id: &str, input: DocumentInput) -> DocumentRow {
    create_document(bed.services(), &bed.admin(), api_id, input)
        .await
        .expect("create a document")
}

#[tokio::test]
async fn creators_write_documents_and_viewers_read_them() {
    let bed = TestBed::sqlite().await;
    let api = bed.api("Pizza", "/pizza").await;
    let services = bed.services();
    for who in ["publisher", "alice"] {
        create_document(
            services,
            &bed.user(who),
            &api.id,
            input("Menu", DocumentSource::Inline),
        )
        .await
        .forbidden();
    }
    let writer = bed.with_scopes("writer", &["apim:document_create"]);
    let doc = create_document(
        services,
        &writer,
        &api.id,
        DocumentInput {
            summary: Some("What we bake".into()),
            inline_content: Some("Margherita".into()),
            ..input("  Menu ", DocumentSource::Inline)
        },
    )
    .await
    .unwrap();
    assert_eq!(
        (doc.name.as_str(), doc.created_by.as_str()),
        ("Menu", "writer")
    );
    assert_eq!(doc.visibility, DocumentVisibility::ApiLevel);
    assert_eq!(bed.events().await, Vec::<&str>::new());
    list_documents(services, &bed.user("alice"), &api.id, ALL)
        .await
        .forbidden();
    get_document(services, &bed.user("alice"), &api.id, &doc.id)
        .await
        .forbidden();
    let listed = list_documents(services, &bed.user("publisher"), &api.id, ALL)
        .await
        .unwrap();
    assert_eq!(
        (listed.total, listed.items[0].id.as_str()),
        (1, doc.id.as_str())
    );
    let read = get_document(services, &bed.user("creator"), &api.id, &doc.id)
        .await
        .unwrap();
    assert_eq!(read.inline_content.as_deref(), Some("Margherita"));
}

#[tokio::test]
async fn documents_of_an_unknown_api_or_unknown_documents_are_not_found() {
    let bed = TestBed::sqlite().await;
    let api = bed.api("Pizza", "/pizza").await;
    let other = bed.api("Pasta", "/pasta").await;
    let doc = document(&bed, &other.id, input("Menu", DocumentSource::Inline)).await;
    let (services, admin) = (bed.services(), bed.admin());
    let text = || DocumentContent::Text("x".into());
    list_documents(services, &admin, "no-such-api", ALL)
        .await
        .not_found();
    create_document(
        services,
        &admin,
        "no-such-api",
        input("Menu", DocumentSource::Inline),
    )
    .await
    .not_found();
    // A document is found only under its own API.
    get_document(services, &admin, &api.id, &doc.id)
        .await
        .not_found();
    update_document(
        services,
        &admin,
        &api.id,
        &doc.id,
        input("Menu", DocumentSource::Inline),
    )
    .await
    .not_found();
    delete_document(services, &admin, &api.id, &doc.id)
        .await
        .not_found();
    set_document_content(services, &admin, &api.id, &doc.id, text())
        .await
        .not_found();
    document_content(services, &admin, &api.id, &doc.id)
        .await
        .map(|_| ())
        .not_found();
    for api_id in ["no-such-api", other.id.as_str()] {
        get_document(services, &admin, api_id, "no-such-document")
            .await
            .not_found();
    }
}

#[tokio::test]
async fn a_document_needs_a_short_name_and_what_its_type_and_source_require() {
    let bed = TestBed::sqlite().await;
    let api = bed.api("Pizza", "/pizza").await;
    let cases: Vec<(DocumentInput, &[&str])> = vec![
        (input(" ", DocumentSource::Inline), &["name"]),
        (input(&"x".repeat(61), DocumentSource::Inline), &["name"]),
        (input("Menu\u{7}", DocumentSource::Inline), &["name"]),
        (
            DocumentInput {
                summary: Some("x".repeat(32767)),
                ..input("Menu", DocumentSource::Inline)
            },
            &["summary"],
        ),
        (
            DocumentInput {
                doc_type: DocumentType::Other,
                other_type_name: Some("  ".into()),
                ..input("Menu", DocumentSource::Inline)
            },
            &["otherTypeName"],
        ),
        (input("Menu", DocumentSource::Url), &["sourceUrl"]),
        (
            DocumentInput {
                source_url: Some("ftp://pizza.example/menu".into()),
                ..input("Menu", DocumentSource::Url)
            },
            &["sourceUrl"],
        ),
        (
            DocumentInput {
                inline_content: Some("x".repeat(MAX_CONTENT_BYTES + 1)),
                ..input("Menu", DocumentSource::Markdown)
            },
            &["inlineContent"],
        ),
    ];
    for (input, fields) in cases {
        create_document(bed.services(), &bed.admin(), &api.id, input.clone())
            .await
            .invalid_fields(fields);
    }
    let listed = list_documents(bed.services(), &bed.admin(), &api.id, ALL)
        .await
        .unwrap();
    assert_eq!(listed.total, 0);
    // What a source type does not use is dropped.
    let doc = document(
        &bed,
        &api.id,
        DocumentInput {
            doc_type: DocumentType::Other,
            other_type_name: Some("Recipe".into()),
            source_url: Some("https://pizza.example".into()),
            inline_content: Some("x".repeat(MAX_CONTENT_BYTES + 1)),
            ..input("Menu", DocumentSource::File)
        },
    )
    .await;
    assert_eq!((doc.source_url, doc.inline_content), (None, None));
}

#[tokio::test]
async fn document_names_are_unique_within_an_api() {
    let bed = TestBed::sqlite().await;
    let api = bed.api("Pizza", "/pizza").await;
    let other = bed.api("Pasta", "/pasta").await;
    document(&bed, &api.id, input("Menu", DocumentSource::Inline)).await;
    let faq = document(&bed, &api.id, input("FAQ", DocumentSource::Inline)).await;
    let message = create_document(
        bed.services(),
        &bed.admin(),
        &api.id,
        input("Menu", DocumentSource::Markdown),
    )
    .await
    .conflict();
    assert!(message.contains("Menu"), "{message}");
    update_document(
        bed.services(),
        &bed.admin(),
        &api.id,
        &faq.id,
        input("Menu", DocumentSource::Inline),
    )
    .await
    .conflict();
    document(&bed, &other.id, input("Menu", DocumentSource::Inline)).await;
    let names: Vec<String> = list_documents(bed.services(), &bed.admin(), &api.id, ALL)
        .await
        .unwrap()
        .items
        .into_iter()
        .map(|d| d.name)
        .collect();
    assert_eq!(names.len(), 2);
    assert!(names.contains(&"FAQ".to_string()), "{names:?}");
}

#[tokio::test]
async fn an_update_checks_like_a_create_and_keeps_what_it_does_not_give() {
    let bed = TestBed::sqlite().await;
    let api = bed.api("Pizza", "/pizza").await;
    let doc = document(
        &bed,
        &api.id,
        DocumentInput {
            summary: Some("What we bake".into()),
            visibility: Some(DocumentVisibility::Private),
            inline_content: Some("Margherita".into()),
            ..input("Menu", DocumentSource::Inline)
        },
    )
    .await;
    let services = bed.services();
    update_document(
        services,
        &bed.user("publisher"),
        &api.id,
        &doc.id,
        input("Menu", DocumentSource::Inline),
    )
    .await
    .forbidden();
    update_document(
        services,
        &bed.admin(),
        &api.id,
        &doc.id,
        input("", DocumentSource::Inline),
    )
    .await
    .invalid("name");
    let updated = update_document(
        services,
        &bed.user("creator"),
        &api.id,
        &doc.id,
        input("Menu card", DocumentSource::Markdown),
    )
    .await
    .unwrap();
    assert_eq!(updated.name, "Menu card");
    assert_eq!(updated.source_type, DocumentSource::Markdown);
    assert_eq!(updated.summary, "What we bake");
    assert_eq!(updated.visibility, DocumentVisibility::Private);
    assert_eq!(updated.inline_content.as_deref(), Some("Margherita"));
    assert_eq!(updated.updated_by, "creator");
    let stored = get_document(services, &bed.admin(), &api.id, &doc.id)
        .await
        .unwrap();
    assert_eq!(stored.name, "Menu card");
    assert_eq!(bed.events().await, Vec::<&str>::new());
}

#[tokio::test]
async fn deleting_a_document_needs_a_writer() {
    let bed = TestBed::sqlite().await;
    let api = bed.api("Pizza", "/pizza").await;
    let doc = document(&bed, &api.id, input("Menu", DocumentSource::Inline)).await;
    delete_document(bed.services(), &bed.user("publisher"), &api.id, &doc.id)
        .await
        .forbidden();
    delete_document(bed.services(), &bed.user("creator"), &api.id, &doc.id)
        .await
        .unwrap();
    get_document(bed.services(), &bed.admin(), &api.id, &doc.id)
        .await
        .not_found();
    delete_document(bed.services(), &bed.admin(), &api.id, &doc.id)
        .await
        .not_found();
    assert_eq!(bed.events().await, Vec::<&str>::new());
}

#[tokio::test]
async fn content_must_be_of_the_kind_the_source_type_says() {
    let bed = TestBed::sqlite().await;
    let api = bed.api("Pizza", "/pizza").await;
    let inline = document(&bed, &api.id, input("Inline", DocumentSource::Inline)).await;
    let pdf = document(&bed, &api.id, input("File", DocumentSource::File)).await;
    let link = document(
        &bed,
        &api.id,
        DocumentInput {
            source_url: Some("https://pizza.example/menu".into()),
            ..input("Link", DocumentSource::Url)
        },
    )
    .await;
    let (services, admin) = (bed.services(), bed.admin());
    let text = |n: usize| DocumentContent::Text("x".repeat(n));
    set_document_content(services, &bed.user("alice"), &api.id, &inline.id, text(1))
        .await
        .forbidden();
    for (doc, content, field) in [
        (&inline, text(MAX_CONTENT_BYTES + 1), "inlineContent"),
        (&inline, file(10), "inlineContent"),
        (&pdf, file(MAX_CONTENT_BYTES + 1), "file"),
        (&pdf, text(10), "file"),
        (&link, text(10), "sourceType"),
        (&link, file(10), "sourceType"),
    ] {
        set_document_content(services, &admin, &api.id, &doc.id, content)
            .await
            .invalid_fields(&[field]);
    }
    let stored = get_document(services, &admin, &api.id, &inline.id)
        .await
        .unwrap();
    assert_eq!(stored.inline_content, None);
    assert_eq!(
        bed.store()
            .document_file(&pdf.id)
            .await
            .unwrap()
            .map(|f| f.name),
        None
    );
}

#[tokio::test]
async fn content_is_served_as_text_file_or_a_link() {
    let bed = TestBed::sqlite().await;
    let api = bed.api("Pizza", "/pizza").await;
    let markdown = document(&bed, &api.id, input("Markdown", DocumentSource::Markdown)).await;
    let pdf = document(&bed, &api.id, input("File", DocumentSource::File)).await;
    let link = document(
        &bed,
        &api.id,
        DocumentInput {
            source_url: Some("https://pizza.example/menu".into()),
            ..input("Link", DocumentSource::Url)
        },
    )
    .await;
    let services = bed.services();
    let creator = bed.user("creator");
    // A file document with no file yet has no content.
    document_content(services, &creator, &api.id, &pdf.id)
        .await
        .map(|_| ())
        .not_found();
    let updated = set_document_content(services, &creator, &api.id, &pdf.id, file(3))
        .await
        .unwrap();
    assert_eq!(updated.file_name.as_deref(), Some("menu.pdf"));
    set_document_content(
        services,
        &creator,
        &api.id,
        &markdown.id,
        DocumentContent::Text("# Menu".into()),
    )
    .await
    .unwrap();
    let viewer = bed.user("publisher");
    match document_content(services, &viewer, &api.id, &pdf.id)
        .await
        .unwrap()
    {
        ServedContent::File(f) => assert_eq!(
            (f.content_type.as_str(), f.content.len()),
            ("application/pdf", 3)
        ),
        _ => panic!("a file"),
    }
    match document_content(services, &viewer, &api.id, &markdown.id)
        .await
        .unwrap()
    {
        ServedContent::Text { markdown, text } => assert!(markdown && text == "# Menu"),
        _ => panic!("text"),
    }
    match document_content(services, &viewer, &api.id, &link.id)
        .await
        .unwrap()
    {
        ServedContent::Redirect(url) => assert_eq!(url, "https://pizza.example/menu"),
        _ => panic!("a link"),
    }
    document_content(services, &bed.user("alice"), &api.id, &link.id)
        .await
        .map(|_| ())
        .forbidden();
    assert_eq!(bed.events().await, Vec::<&str>::new());
}

#[tokio::test]
async fn document_exists_needs_a_name_and_an_api() {
    let bed = TestBed::sqlite().await;
    let api = bed.api("Pizza", "/pizza").await;
    document(&bed, &api.id, input("Menu", DocumentSource::Inline)).await;
    let (services, creator) = (bed.services(), bed.user("creator"));
    document_exists(services, &bed.user("alice"), &api.id, "Menu")
        .await
        .forbidden();
    document_exists(services, &creator, &api.id, "  ")
        .await
        .invalid("name");
    document_exists(services, &creator, "no-such-api", "Menu")
        .await
        .not_found();
    assert!(document_exists(services, &creator, &api.id, " Menu ")
        .await
        .unwrap());
    assert!(!document_exists(services, &creator, &api.id, "FAQ")
        .await
        .unwrap());
}
