//! IndexedDB as promises: database `cairn` with stores `vault`, `prefs` and `session`
//! (out-of-line keys). Values are JSON text, except session records (structured clones
//! of `{iv, ct, expires}`: the Secret Key encrypted under a key that only the tab's
//! `sessionStorage` holds, see [`crate::session`]). Failures are
//! [`ErrorKind::Browser`] with [`Api::IndexedDb`].

use crate::wait::pending;
use crate::{Api, Error};
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::JsFuture;
use web_sys::{Event, IdbDatabase, IdbRequest, IdbTransactionMode};

/// Database name.
pub const DB_NAME: &str = "cairn";
/// The sealed Secret Key record (key `"vault"`).
pub const VAULT: &str = "vault";
/// Non-secret preferences (key `"prefs"`).
pub const PREFS: &str = "prefs";
/// Per-tab unlock sessions (key: the tab's random session id).
pub const SESSION: &str = "session";

const STORES: [&str; 3] = [VAULT, PREFS, SESSION];

/// Waits for an IndexedDB request to succeed (its `result`) or fail (its `error`).
async fn finish(req: &IdbRequest) -> Result<JsValue, JsValue> {
    let (promise, resolve, reject) = pending();
    let ok_req = req.clone();
    let ok = Closure::<dyn FnMut(Event)>::new(move |_| {
        let _ = resolve.call1(
            &JsValue::NULL,
            &ok_req.result().unwrap_or(JsValue::UNDEFINED),
        );
    });
    let err_req = req.clone();
    let err = Closure::<dyn FnMut(Event)>::new(move |_| {
        let e = err_req
            .error()
            .ok()
            .flatten()
            .map(JsValue::from)
            .unwrap_or_else(|| "IndexedDB request failed".into());
        let _ = reject.call1(&JsValue::NULL, &e);
    });
    req.set_onsuccess(Some(ok.as_ref().unchecked_ref()));
    req.set_onerror(Some(err.as_ref().unchecked_ref()));
    let out = JsFuture::from(promise).await;
    req.set_onsuccess(None);
    req.set_onerror(None);
    out
}

/// An IndexedDB exception as an [`Error`].
fn failed(e: JsValue) -> Error {
    Error::js(Api::IndexedDb, &e)
}

/// Opens (and creates or upgrades) the database.
pub async fn open() -> Result<IdbDatabase, Error> {
    open_js().await.map_err(failed)
}

async fn open_js() -> Result<IdbDatabase, JsValue> {
    let factory = web_sys::window()
        .ok_or("no window")?
        .indexed_db()?
        .ok_or("IndexedDB is not available")?;
    let req = factory.open_with_u32(DB_NAME, 1)?;
    let up_req = req.clone();
    let upgrade = Closure::<dyn FnMut(Event)>::new(move |_| {
        if let Ok(db) = up_req.result().and_then(|r| r.dyn_into::<IdbDatabase>()) {
            let names = db.object_store_names();
            for s in STORES {
                if !names.contains(s) {
                    let _ = db.create_object_store(s);
                }
            }
        }
    });
    req.set_onupgradeneeded(Some(upgrade.as_ref().unchecked_ref()));
    let db = finish(&req).await;
    req.set_onupgradeneeded(None);
    db?.dyn_into::<IdbDatabase>()
}

/// Reads `key` from `store`; `None` when absent.
pub async fn get(store: &str, key: &str) -> Result<Option<JsValue>, Error> {
    async {
        let db = open_js().await?;
        let tx = db.transaction_with_str(store)?;
        let req = tx.object_store(store)?.get(&key.into())?;
        let v = finish(&req).await?;
        db.close();
        Ok((!v.is_undefined()).then_some(v))
    }
    .await
    .map_err(failed)
}

/// Reads a text value.
pub async fn get_text(store: &str, key: &str) -> Result<Option<String>, Error> {
    Ok(get(store, key).await?.and_then(|v| v.as_string()))
}

/// Writes `value` under `key` in `store`.
pub async fn put(store: &str, key: &str, value: &JsValue) -> Result<(), Error> {
    async {
        let db = open_js().await?;
        let tx = db.transaction_with_str_and_mode(store, IdbTransactionMode::Readwrite)?;
        let req = tx.object_store(store)?.put_with_key(value, &key.into())?;
        finish(&req).await?;
        db.close();
        Ok(())
    }
    .await
    .map_err(failed)
}

/// Deletes `key` from `store`.
pub async fn delete(store: &str, key: &str) -> Result<(), Error> {
    async {
        let db = open_js().await?;
        let tx = db.transaction_with_str_and_mode(store, IdbTransactionMode::Readwrite)?;
        let req = tx.object_store(store)?.delete(&key.into())?;
        finish(&req).await?;
        db.close();
        Ok(())
    }
    .await
    .map_err(failed)
}

/// Every key of `store` (as strings; other key types are skipped).
pub async fn keys(store: &str) -> Result<Vec<String>, Error> {
    async {
        let db = open_js().await?;
        let tx = db.transaction_with_str(store)?;
        let req = tx.object_store(store)?.get_all_keys()?;
        let v = finish(&req).await?;
        db.close();
        Ok(js_sys::Array::from(&v)
            .iter()
            .filter_map(|k| k.as_string())
            .collect())
    }
    .await
    .map_err(failed)
}
