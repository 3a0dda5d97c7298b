//! The permission manager's model, computed from the settings.

use crate::collections::settings::{AccessMode, Settings};

/// One row of the permission manager: an app with access to a collection.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GrantRow {
    /// App origin.
    pub origin: String,
    /// Name to show.
    pub name: String,
    /// Its mode.
    pub mode: AccessMode,
    /// Granted when (ms).
    pub granted_at: i64,
    /// Last sign-in (ms), if it is a connected app.
    pub last_sign_in: Option<i64>,
}

/// One collection section of the permission manager.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CollectionView {
    /// Collection name.
    pub name: String,
    /// Current key generation.
    pub generation: u32,
    /// Apps with access.
    pub rows: Vec<GrantRow>,
}

/// One connected app in the permission manager.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AppView {
    /// Origin.
    pub origin: String,
    /// Name to show.
    pub name: String,
    /// Scopes granted at its last sign-in.
    pub scopes: Vec<String>,
    /// Collections it can use, with mode.
    pub collections: Vec<(String, AccessMode)>,
    /// Known collections it could be granted.
    pub grantable: Vec<String>,
}

/// The permission manager's model, computed from the settings.
pub fn permission_view(settings: &Settings) -> (Vec<CollectionView>, Vec<AppView>) {
    let name_of = |origin: &str| {
        settings
            .app(origin)
            .map(|a| a.display_name().to_string())
            .unwrap_or_else(|| origin.to_string())
    };
    let collections = settings
        .collections
        .iter()
        .map(|(name, state)| CollectionView {
            name: name.clone(),
            generation: state.generation,
            rows: state
                .grants
                .iter()
                .map(|g| GrantRow {
                    origin: g.app.clone(),
                    name: name_of(&g.app),
                    mode: g.mode,
                    granted_at: g.granted_at,
                    last_sign_in: settings.app(&g.app).map(|a| a.last_sign_in),
                })
                .collect(),
        })
        .collect();
    let apps = settings
        .apps
        .iter()
        .map(|a| {
            let have: Vec<(String, AccessMode)> = settings
                .collections
                .iter()
                .filter_map(|(n, s)| {
                    s.grants
                        .iter()
                        .find(|g| g.app == a.origin)
                        .map(|g| (n.clone(), g.mode))
                })
                .collect();
            AppView {
                origin: a.origin.clone(),
                name: a.display_name().to_string(),
                scopes: a.scopes.clone(),
                grantable: settings
                    .collections
                    .keys()
                    .filter(|n| !have.iter().any(|(h, _)| h == *n))
                    .cloned()
                    .collect(),
                collections: have,
            }
        })
        .collect();
    (collections, apps)
}
