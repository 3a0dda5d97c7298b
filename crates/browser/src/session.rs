//! The per-tab unlock session, so that apps can redirect to the page and back (and the
//! tab can reload) without asking for the password each time.
//!
//! The session is split in two halves that are useless apart (docs/SECURITY.md, "The
//! tab session"):
//! - IndexedDB (`session` store, under a random id) holds `{iv, ct, expires}`: the
//!   Secret Key encrypted with AES-256-GCM;
//! - this tab's `sessionStorage` holds `{id, key}`: the id and the 32 raw bytes of that
//!   AES key. `sessionStorage` belongs to the tab: a reload keeps it, closing the tab
//!   drops it, and no other tab or page can read it.
//!
//! A closed tab therefore leaves only ciphertext whose key is gone. The ciphertext is
//! deleted too: each tab holds a Web Lock named after its session id while it lives,
//! and every tab that starts deletes the records whose lock nobody holds (closed tabs)
//! and the expired ones. A record dies 15 idle minutes after its last use or on Lock.

use crate::wait::now_ms;
use crate::{Error, idb};
use cairn_core::support::encoding::{from_base64, to_base64, to_hex};
use js_sys::{Array, Function, Object, Promise, Reflect, Uint8Array};
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::JsFuture;
use web_sys::{AesGcmParams, CryptoKey, Storage, SubtleCrypto};
use zeroize::Zeroizing;

/// Idle time after which the page locks itself.
pub const IDLE_LOCK_MS: f64 = 15.0 * 60.0 * 1000.0;

/// The `sessionStorage` entry holding this tab's `{id, key}`.
const SESSION_KEY: &str = "cairn-session";

/// Prefix of the Web Lock a tab holds for its session id.
const LOCK_PREFIX: &str = "cairn-session-";

fn subtle() -> Result<SubtleCrypto, JsValue> {
    Ok(web_sys::window().ok_or("no window")?.crypto()?.subtle())
}

fn session_storage() -> Result<Storage, JsValue> {
    web_sys::window()
        .ok_or("no window")?
        .session_storage()?
        .ok_or_else(|| "sessionStorage is not available".into())
}

fn random_bytes<const N: usize>() -> Result<Zeroizing<[u8; N]>, JsValue> {
    let mut b = Zeroizing::new([0u8; N]);
    getrandom::fill(b.as_mut()).map_err(|_| JsValue::from("no random numbers"))?;
    Ok(b)
}

fn field(obj: &JsValue, key: &str) -> Result<JsValue, JsValue> {
    Reflect::get(obj, &key.into())
}

/// A JS copy of secret bytes that is overwritten with zeros when dropped, so the
/// plaintext does not linger in the JS heap until the garbage collector runs.
struct JsSecret(Uint8Array);

impl JsSecret {
    fn new(bytes: &[u8]) -> JsSecret {
        JsSecret(Uint8Array::from(bytes))
    }
}

impl Drop for JsSecret {
    fn drop(&mut self) {
        self.0.fill(0, 0, self.0.length());
    }
}

/// This tab's half: the session id and the AES key's raw bytes.
struct TabHalf {
    id: String,
    key: Zeroizing<Vec<u8>>,
}

fn read_tab_half() -> Result<Option<TabHalf>, JsValue> {
    let Some(text) = session_storage()?.get_item(SESSION_KEY)? else {
        return Ok(None);
    };
    let text = Zeroizing::new(text);
    let Ok(v) = cairn_core::support::json::from_str(&text) else {
        return Ok(None);
    };
    let id = v.get("id").and_then(|i| i.as_str()).map(str::to_string);
    let key = v.get("key").and_then(|k| k.as_str()).map(from_base64);
    match (id, key) {
        (Some(id), Some(Ok(key))) if key.len() == 32 => Ok(Some(TabHalf {
            id,
            key: Zeroizing::new(key),
        })),
        _ => Ok(None),
    }
}

/// A non-extractable AES-GCM key from raw bytes (the JS copy is zeroed at once).
async fn import_key(raw: &[u8]) -> Result<CryptoKey, JsValue> {
    let bytes = JsSecret::new(raw);
    let usages = Array::of2(&"encrypt".into(), &"decrypt".into());
    let key =
        JsFuture::from(subtle()?.import_key_with_str("raw", &bytes.0, "AES-GCM", false, &usages)?)
            .await?;
    key.dyn_into()
}

/// `navigator.locks`, where the browser has Web Locks.
fn lock_manager() -> Option<JsValue> {
    let window: JsValue = web_sys::window()?.into();
    let navigator = Reflect::get(&window, &"navigator".into()).ok()?;
    Reflect::get(&navigator, &"locks".into())
        .ok()
        .filter(|l| l.is_object())
}

/// Holds the Web Lock named after `id` for as long as this page lives, so other tabs
/// can tell that the session record is in use. Without Web Locks, records still expire.
fn hold_lock(id: &str) {
    let Some(locks) = lock_manager() else {
        return;
    };
    let Ok(request) =
        Reflect::get(&locks, &"request".into()).and_then(|r| r.dyn_into::<Function>())
    else {
        return;
    };
    // The callback's promise never settles: the lock is released when the page goes.
    let hold = Closure::<dyn FnMut(JsValue) -> Promise>::new(|_| Promise::new(&mut |_, _| {}));
    let _ = request.call2(&locks, &format!("{LOCK_PREFIX}{id}").into(), hold.as_ref());
    hold.forget();
}

/// The session ids whose Web Lock is held by a live page; `None` without Web Locks.
async fn live_ids() -> Option<Vec<String>> {
    let locks = lock_manager()?;
    let query = Reflect::get(&locks, &"query".into())
        .ok()?
        .dyn_into::<Function>()
        .ok()?;
    let promise: Promise = query.call0(&locks).ok()?.dyn_into().ok()?;
    let snapshot = JsFuture::from(promise).await.ok()?;
    let held = Reflect::get(&snapshot, &"held".into()).ok()?;
    Some(
        Array::from(&held)
            .iter()
            .filter_map(|l| Reflect::get(&l, &"name".into()).ok()?.as_string())
            .filter_map(|n| n.strip_prefix(LOCK_PREFIX).map(str::to_string))
            .collect(),
    )
}

/// Deletes the session records of closed tabs and expired sessions (called at start,
/// before this tab takes its own lock; `own` is this tab's id, kept for [`resume`]).
pub async fn purge_stale(own: Option<&str>) -> Result<(), Error> {
    let live = live_ids().await;
    let now = now_ms();
    for id in idb::keys(idb::SESSION).await? {
        if Some(id.as_str()) == own {
            continue;
        }
        let closed = live.as_ref().is_some_and(|l| !l.contains(&id));
        let expired = match idb::get(idb::SESSION, &id).await? {
            Some(r) => field(&r, "expires")?.as_f64().is_none_or(|e| e <= now),
            None => false,
        };
        if closed || expired {
            idb::delete(idb::SESSION, &id).await?;
        }
    }
    Ok(())
}

/// Starts (or replaces) this tab's session for `phrase`.
pub async fn start(phrase: &str) -> Result<(), Error> {
    let raw = random_bytes::<32>()?;
    let key = import_key(raw.as_ref()).await?;
    let storage = session_storage()?;
    let id = match read_tab_half()? {
        Some(half) => half.id,
        None => to_hex(random_bytes::<16>()?.as_ref()),
    };
    let iv = random_bytes::<12>()?;
    let iv_js = Uint8Array::from(&iv[..]);
    let plain = JsSecret::new(phrase.as_bytes());
    let ct = JsFuture::from(subtle()?.encrypt_with_object_and_buffer_source(
        &AesGcmParams::new("AES-GCM", &iv_js),
        &key,
        &plain.0,
    )?)
    .await?;
    drop(plain);
    let record = Object::new();
    Reflect::set(&record, &"iv".into(), &iv_js)?;
    Reflect::set(&record, &"ct".into(), &ct)?;
    Reflect::set(
        &record,
        &"expires".into(),
        &(now_ms() + IDLE_LOCK_MS).into(),
    )?;
    idb::put(idb::SESSION, &id, &record).await?;
    let half = Zeroizing::new(cairn_core::support::json::to_string(&cairn_core::json!({
        "id": id.as_str(),
        "key": to_base64(raw.as_ref()),
    })));
    storage.set_item(SESSION_KEY, &half)?;
    hold_lock(&id);
    Ok(())
}

/// The Secret Key of this tab's live session, if there is one (an expired session is
/// deleted). Also deletes the records of closed tabs and takes this tab's lock.
pub async fn resume() -> Result<Option<Zeroizing<String>>, Error> {
    let half = read_tab_half()?;
    purge_stale(half.as_ref().map(|h| h.id.as_str())).await?;
    let Some(half) = half else {
        return Ok(None);
    };
    let Some(record) = idb::get(idb::SESSION, &half.id).await? else {
        session_storage()?.remove_item(SESSION_KEY)?;
        return Ok(None);
    };
    let expires = field(&record, "expires")?.as_f64().unwrap_or(0.0);
    if expires <= now_ms() {
        end().await?;
        return Ok(None);
    }
    hold_lock(&half.id);
    let key = import_key(&half.key).await?;
    let iv: Uint8Array = field(&record, "iv")?.dyn_into()?;
    let ct: js_sys::ArrayBuffer = field(&record, "ct")?.dyn_into()?;
    let plain = JsFuture::from(subtle()?.decrypt_with_object_and_buffer_source(
        &AesGcmParams::new("AES-GCM", &iv),
        &key,
        &ct,
    )?)
    .await?;
    let plain = JsSecret(Uint8Array::new(&plain));
    let bytes = Zeroizing::new(plain.0.to_vec());
    drop(plain);
    match std::str::from_utf8(&bytes) {
        Ok(s) => Ok(Some(Zeroizing::new(s.to_owned()))),
        Err(_) => Ok(None),
    }
}

/// Pushes this tab's session expiry to 15 minutes from now (user activity).
pub async fn touch() -> Result<(), Error> {
    let Some(half) = read_tab_half()? else {
        return Ok(());
    };
    let Some(record) = idb::get(idb::SESSION, &half.id).await? else {
        return Ok(());
    };
    Reflect::set(
        &record,
        &"expires".into(),
        &(now_ms() + IDLE_LOCK_MS).into(),
    )?;
    idb::put(idb::SESSION, &half.id, &record).await
}

/// Ends this tab's session (Lock, auto-lock).
pub async fn end() -> Result<(), Error> {
    let storage = session_storage()?;
    let half = read_tab_half()?;
    storage.remove_item(SESSION_KEY)?;
    if let Some(half) = half {
        idb::delete(idb::SESSION, &half.id).await?;
    }
    Ok(())
}
