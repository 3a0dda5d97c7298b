//! Moving a user's data to another hub — the survey that comes before anything is
//! written: which buckets Cairn holds the keys of (the identity bucket, every app it
//! can derive the key of, every collection), every file in each with its size (history
//! versions included), and what it cannot move, with the reason.
//!
//! An app's bucket key is derived from its origin, so Cairn holds it for every origin it
//! knows — from the settings file's connected apps and from the profile's `apps` map.
//! A bucket the profile lists at an address that is not the derived one was made by
//! another wallet's derivation: Cairn has no key for it and says so.

use super::calls;
use super::hub_io::Hub;
use crate::collections::history::is_history_file;
use crate::collections::settings::Settings;
use crate::keys::PrivateKey;
use crate::keys::keychain::{Keychain, KeychainError};
use crate::protocol::gaia::{ListedFile, V1TokenOptions, make_v1_token};
use crate::support::sorting::sort_by;

/// What a bucket holds, in the user's words.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum BucketKind {
    /// The identity's own bucket (profile, settings).
    Identity,
    /// A connected app's bucket.
    App {
        /// The app's origin.
        origin: String,
        /// Its name, as the settings file knows it (else the origin).
        name: String,
    },
    /// A collection's bucket.
    Collection {
        /// The collection's name.
        name: String,
    },
}

impl BucketKind {
    /// The bucket in words ("your identity", "the app Contacts", "the collection contact").
    pub fn describe(&self) -> String {
        match self {
            BucketKind::Identity => "your identity".to_string(),
            BucketKind::App { name, .. } => format!("the app {name}"),
            BucketKind::Collection { name } => format!("the collection {name}"),
        }
    }
}

/// A bucket Cairn can move: it holds the bucket's key.
#[derive(Debug, Clone)]
pub struct Bucket {
    /// What it is.
    pub kind: BucketKind,
    /// Its address.
    pub address: String,
    /// Its key (never leaves the page; signs the tokens of both hubs).
    pub key: PrivateKey,
}

/// Something that will not be moved, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NotMoved {
    /// What (an app's origin).
    pub what: String,
    /// Why, in plain words.
    pub reason: String,
}

/// The last path segment of a bucket URL (`https://hub/read/<address>/` → address).
fn address_of(bucket_url: &str) -> Option<&str> {
    bucket_url
        .trim_end_matches('/')
        .rsplit('/')
        .next()
        .filter(|a| !a.is_empty())
}

/// The buckets of identity `index` that Cairn can move, and the apps it cannot: from
/// the settings (connected apps, collections and the apps they are granted to) and the
/// profile's `apps` map
/// (`(origin, bucket URL)` pairs). Each address appears once.
pub fn buckets(
    keychain: &Keychain,
    index: u32,
    settings: &Settings,
    profile_apps: &[(String, String)],
) -> Result<(Vec<Bucket>, Vec<NotMoved>), KeychainError> {
    let identity = keychain.identity(index)?;
    let mut out = vec![Bucket {
        kind: BucketKind::Identity,
        address: identity.address.clone(),
        key: identity.key.clone(),
    }];
    let mut not_moved = Vec::new();
    let mut origins: Vec<&str> = settings.apps.iter().map(|a| a.origin.as_str()).collect();
    // Apps holding a collection grant have a key file in their bucket, connected or not.
    origins.extend(
        settings
            .collections
            .values()
            .flat_map(|c| c.grants.iter().map(|g| g.app.as_str())),
    );
    origins.extend(profile_apps.iter().map(|(o, _)| o.as_str()));
    sort_by(&mut origins, |a, b| a.cmp(b));
    origins.dedup();
    for origin in origins {
        let name = settings
            .app(origin)
            .map(|a| a.display_name().to_string())
            .unwrap_or_else(|| origin.to_string());
        let key = match keychain.app_private_key(index, origin) {
            Ok(k) => k,
            Err(e) => {
                not_moved.push(NotMoved {
                    what: origin.to_string(),
                    reason: format!("Cairn cannot derive its key: {e}"),
                });
                continue;
            }
        };
        let address = key.public_key().address();
        let listed = profile_apps
            .iter()
            .find(|(o, _)| o == origin)
            .and_then(|(_, url)| address_of(url));
        if let Some(listed) = listed
            && listed != address
        {
            not_moved.push(NotMoved {
                what: origin.to_string(),
                reason: format!(
                    "its bucket {listed} was made by another wallet, whose key Cairn does not hold"
                ),
            });
            continue;
        }
        out.push(Bucket {
            kind: BucketKind::App {
                origin: origin.to_string(),
                name,
            },
            address,
            key,
        });
    }
    for name in settings.collections.keys() {
        let key = keychain.collection_bucket_key(index, name)?;
        out.push(Bucket {
            kind: BucketKind::Collection { name: name.clone() },
            address: key.public_key().address(),
            key,
        });
    }
    let mut seen: Vec<String> = Vec::new();
    out.retain(|b| {
        let new = !seen.contains(&b.address);
        seen.push(b.address.clone());
        new
    });
    Ok((out, not_moved))
}

/// One bucket's files as the old hub lists them.
#[derive(Debug, Clone)]
pub struct BucketSurvey {
    /// The bucket.
    pub bucket: Bucket,
    /// Its files (history versions included), with sizes.
    pub files: Vec<ListedFile>,
}

/// What a move would copy, before anything is written.
#[derive(Debug, Clone)]
pub struct MoveSurvey {
    /// Every bucket Cairn can move, with its files.
    pub buckets: Vec<BucketSurvey>,
    /// What it cannot move, and why.
    pub not_moved: Vec<NotMoved>,
}

impl MoveSurvey {
    /// Files to copy, history versions included.
    pub fn files(&self) -> u64 {
        self.buckets.iter().map(|b| b.files.len() as u64).sum()
    }

    /// Of those, history versions.
    pub fn history_files(&self) -> u64 {
        self.buckets
            .iter()
            .flat_map(|b| &b.files)
            .filter(|f| is_history_file(&f.name))
            .count() as u64
    }

    /// Bytes to copy.
    pub fn bytes(&self) -> u64 {
        self.buckets
            .iter()
            .flat_map(|b| &b.files)
            .map(|f| f.content_length)
            .sum()
    }
}

/// Lists every bucket of `buckets` on the hub at `hub_url` (challenge `challenge_text`),
/// with sizes, each with a token of its own key.
pub async fn survey<H: Hub>(
    hub: &H,
    hub_url: &str,
    challenge_text: &str,
    buckets: Vec<Bucket>,
    not_moved: Vec<NotMoved>,
) -> Result<MoveSurvey, H::Error> {
    let mut out = Vec::with_capacity(buckets.len());
    for bucket in buckets {
        let token = make_v1_token(
            &bucket.key,
            challenge_text,
            &V1TokenOptions {
                hub_url: Some(hub_url.to_string()),
                ..V1TokenOptions::default()
            },
        );
        let files = calls::list_entries(hub, hub_url, &bucket.address, &token, true).await?;
        out.push(BucketSurvey { bucket, files });
    }
    Ok(MoveSurvey {
        buckets: out,
        not_moved,
    })
}
