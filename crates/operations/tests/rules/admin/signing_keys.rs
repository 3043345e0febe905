//! `admin::signing_keys`: the key manager's published signing keys, and their rotation.

use tollgate_operations::admin::signing_keys::{list, rotate};
use tollgate_testbed::{Refused, TestBed};

#[tokio::test]
async fn signing_keys_are_listed_by_key_administrators_and_rotated_by_key_managers_only() {
    let bed = TestBed::sqlite().await;
    let services = bed.services();
    for who in ["alice", "creator", "publisher"] {
        list(services, &bed.user(who)).await.forbidden();
        rotate(services, &bed.user(who)).await.forbidden();
    }
    // Admin operations may see the keys but not rotate them.
    let operations = bed.with_scopes("ops", &["apim:admin_operations"]);
    assert_eq!(list(services, &operations).await.unwrap().len(), 1);
    rotate(services, &operations).await.forbidden();
    assert_eq!(bed.events().await, Vec::<&str>::new());
    assert_eq!(list(services, &bed.admin()).await.unwrap().len(), 1);
    let keys = bed.with_scopes("keys", &["apim:keymanagers_manage"]);
    rotate(services, &keys).await.unwrap();
    assert_eq!(bed.events().await, ["KEY_ROTATION"]);
}

#[tokio::test]
async fn a_rotated_key_signs_from_now_on_and_the_old_one_stays_published_for_a_while() {
    let bed = TestBed::sqlite().await;
    let (services, admin) = (bed.services(), bed.admin());
    let before = list(services, &admin).await.unwrap();
    assert_eq!(before.len(), 1);
    assert_eq!(before[0].retire_after, None);
    let new = rotate(services, &admin).await.unwrap();
    assert_eq!((new.algorithm.as_str(), new.retire_after), ("RS256", None));
    let events = bed.event_bodies().await;
    assert!(
        matches!(&events[..], [tollgate_model::Event::KeyRotation(key)] if key.kid == new.kid),
        "{events:?}"
    );
    let after = list(services, &admin).await.unwrap();
    let kids: Vec<_> = after.iter().map(|k| k.kid.as_str()).collect();
    assert_eq!(kids, [new.kid.as_str(), before[0].kid.as_str()]);
    assert_eq!(after[0].retire_after, None);
    let retire_after = after[1].retire_after.expect("the old key retires");
    assert!(
        retire_after > tollgate_model::now_millis() / 1000,
        "{retire_after}"
    );
}
