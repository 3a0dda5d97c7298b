//! The collection token Cairn hands an app (`cairn_core::collections::app_collection_token`)
//! against the real hub: it writes `collection/<item>` (what blockstack-collections
//! writes) and nothing beside the collection, such as `collectionX/…`.

#![allow(clippy::unwrap_used)] // a test that unwraps fails, which is what it should do

mod common;

use cairn_core::collections::{HubContext, app_collection_token, owner_archival_token};
use cairn_core::keys::PrivateKey;
use cairn_core::protocol::gaia::challenge_text;
use common::{HubProc, SERVER_NAME, client, now_s};

#[tokio::test]
async fn collection_tokens_write_only_inside_the_collection() {
    let hub = HubProc::spawn(&[]);
    let c = client();
    let bucket_key = PrivateKey::random().expect("rng");
    let address = bucket_key.public_key().address();
    let ctx = HubContext {
        hub_url: hub.url.clone(),
        read_url_prefix: hub.read_prefix(),
        challenge_text: challenge_text(SERVER_NAME),
    };
    let iat = now_s() - 5;
    for token in [
        app_collection_token(&bucket_key, &ctx, iat, [9; 16]),
        owner_archival_token(&bucket_key, &ctx, iat),
    ] {
        let store = |path: &'static str| {
            c.post(format!("{}/store/{address}/{path}", hub.url))
                .header("Authorization", format!("bearer {token}"))
                .header("Content-Type", "application/octet-stream")
                .body("x")
                .send()
        };
        let inside = store("collection/Ada Lovelace").await.expect("store");
        assert_eq!(
            inside.status().as_u16(),
            202,
            "{}",
            inside.text().await.unwrap_or_default()
        );
        for outside in ["collectionX/a", "collection.json", "collections/a"] {
            let r = store(outside).await.expect("store");
            let status = r.status().as_u16();
            let text = r.text().await.unwrap_or_default();
            assert!(status == 401 || status == 403, "{outside}: {status} {text}");
            assert!(text.contains("not authorized"), "{outside}: {text}");
        }
    }
}
