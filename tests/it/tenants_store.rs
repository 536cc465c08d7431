//! Tenants at the store, on SQLite and PostgreSQL: deleting a tenant removes every row
//! stamped with it and nothing of anyone else's; the audit trail cannot be changed or
//! shortened; a token is found by its secret's hash only while it is live.

use super::common::{TestStore, profile};
use empla::api::auth::digest;
use empla::model::{Role, Tenant, TenantStatus, TokenInfo};
use empla::store::{NewAudit, NewHire, Store, StoredSession};

fn token(tenant: &str, name: &str) -> TokenInfo {
    TokenInfo {
        id: format!("tok-{tenant}-{name}"),
        tenant: tenant.into(),
        name: name.into(),
        role: Role::Admin,
        created_by: "node-admin".into(),
        created_at: chrono::Utc::now(),
        last_used_at: None,
        revoked_at: None,
    }
}

async fn new_tenant(store: &Store, id: &str) -> String {
    let t = Tenant {
        id: id.into(),
        name: id.to_uppercase(),
        domain: String::new(),
        status: TenantStatus::Active,
        created_at: chrono::Utc::now(),
        node_tenant: false,
    };
    let secret = format!("empla_secret_of_{id}");
    store
        .create_tenant(&t, &token(id, "admin"), &digest(&secret))
        .await
        .unwrap();
    secret
}

async fn hire(store: &Store, tenant: &str, name: &str, email: &str) {
    store
        .insert_employees(&[NewHire {
            profile: profile(tenant, "sales_ae", name, email),
            config_key: None,
            schedules: Vec::new(),
        }])
        .await
        .unwrap();
}

async fn deleting_a_tenant_removes_its_rows_only_and_keeps_the_audit_trail(ts: TestStore) {
    let store = &ts.store;
    let acme = new_tenant(store, "acme").await;
    let globex = new_tenant(store, "globex").await;
    hire(store, "acme", "Ada Acme", "ada@acme.example").await;
    hire(store, "globex", "Gus Globex", "gus@globex.example").await;
    store
        .audit(&NewAudit {
            tenant: "acme".into(),
            actor: "admin".into(),
            token_id: "tok-acme-admin".into(),
            role: Role::Admin,
            face: "api",
            action: "POST /api/v1/employees".into(),
            target: String::new(),
            status: 201,
        })
        .await
        .unwrap();
    assert!(store.token_by_hash(&digest(&acme)).await.unwrap().is_some());

    assert!(store.delete_tenant("acme").await.unwrap());

    let acme_id = empla::model::TenantId::new("acme");
    let globex_id = empla::model::TenantId::new("globex");
    assert!(store.employees(&acme_id, 10, 0).await.unwrap().is_empty());
    assert!(store.token_by_hash(&digest(&acme)).await.unwrap().is_none());
    assert!(store.tenant_row("acme", "default").await.unwrap().is_none());
    let left = store.employees(&globex_id, 10, 0).await.unwrap();
    assert_eq!(left.len(), 1, "the other tenant's employee stays");
    assert!(
        store
            .token_by_hash(&digest(&globex))
            .await
            .unwrap()
            .is_some()
    );
    let trail = store.audit_trail("acme", None, None, 0, 10).await.unwrap();
    assert_eq!(trail.len(), 1, "the deleted tenant's audit trail stays");
    assert!(!store.delete_tenant("acme").await.unwrap(), "gone already");
}

async fn the_audit_trail_cannot_be_changed_or_shortened(ts: TestStore) {
    ts.store
        .audit(&NewAudit {
            tenant: "default".into(),
            actor: "node-admin".into(),
            token_id: String::new(),
            role: Role::Admin,
            face: "cli",
            action: "POST /api/v1/approvals/{id}/approve".into(),
            target: "id=1".into(),
            status: 200,
        })
        .await
        .unwrap();
    let update = ts.try_exec("UPDATE audit SET actor = 'someone else'").await;
    assert!(
        update.as_ref().is_err_and(|e| e.contains("append-only")),
        "{update:?}"
    );
    let delete = ts.try_exec("DELETE FROM audit").await;
    assert!(
        delete.as_ref().is_err_and(|e| e.contains("append-only")),
        "{delete:?}"
    );
    let trail = ts
        .store
        .audit_trail("default", None, Some("node-admin"), 0, 10)
        .await
        .unwrap();
    assert_eq!(trail.len(), 1);
    assert_eq!(trail[0].actor, "node-admin");
    assert_eq!(trail[0].face, "cli");
}

async fn a_revoked_token_is_not_found_and_its_name_can_be_used_again(ts: TestStore) {
    let store = &ts.store;
    let secret = new_tenant(store, "acme").await;
    let found = store
        .token_by_hash(&digest(&secret))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(found.info.role, Role::Admin);
    assert_eq!(found.tenant_status, TenantStatus::Active);
    assert!(
        store.token_by_hash(&secret).await.unwrap().is_none(),
        "the secret itself is not what is stored"
    );
    let again = store.create_token(&token("acme", "admin2"), "x").await;
    assert!(again.is_ok());
    let mut same_name = token("acme", "admin");
    same_name.id = "tok-other".into();
    assert!(
        store.create_token(&same_name, "y").await.is_err(),
        "a live token has the name"
    );
    let revoked = store
        .revoke_token("acme", "tok-acme-admin")
        .await
        .unwrap()
        .unwrap();
    assert!(revoked.revoked_at.is_some());
    assert!(
        store
            .token_by_hash(&digest(&secret))
            .await
            .unwrap()
            .is_none()
    );
    assert!(store.create_token(&same_name, "y").await.is_ok());
    assert!(
        store
            .revoke_token("globex", "tok-other")
            .await
            .unwrap()
            .is_none(),
        "another tenant cannot revoke it"
    );
}

async fn a_session_ends_when_it_expires_or_its_token_is_revoked(ts: TestStore) {
    let store = &ts.store;
    new_tenant(store, "acme").await;
    let session = |token_id: &str, minutes: i64| StoredSession {
        tenant: "acme".into(),
        token_id: token_id.into(),
        role: Role::Admin,
        actor: "admin".into(),
        csrf: "c".into(),
        expires_at: chrono::Utc::now() + chrono::Duration::minutes(minutes),
    };
    store
        .open_session("live", &session("tok-acme-admin", 10))
        .await
        .unwrap();
    store
        .open_session("old", &session("tok-acme-admin", -1))
        .await
        .unwrap();
    assert!(store.session("live").await.unwrap().is_some());
    assert!(
        store.session("old").await.unwrap().is_none(),
        "an expired session is refused"
    );
    store.revoke_token("acme", "tok-acme-admin").await.unwrap();
    assert!(
        store.session("live").await.unwrap().is_none(),
        "a revoked token's session ends with it"
    );
}

macro_rules! on_both {
    ($($name:ident),* $(,)?) => {
        mod sqlite {
            $(#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn $name() {
                super::$name(crate::common::sqlite().await).await;
            })*
        }
        mod postgres {
            $(#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn $name() {
                let Some(s) = crate::common::postgres().await else { return };
                super::$name(s).await;
            })*
        }
    };
}

on_both!(
    deleting_a_tenant_removes_its_rows_only_and_keeps_the_audit_trail,
    the_audit_trail_cannot_be_changed_or_shortened,
    a_revoked_token_is_not_found_and_its_name_can_be_used_again,
    a_session_ends_when_it_expires_or_its_token_is_revoked,
);
