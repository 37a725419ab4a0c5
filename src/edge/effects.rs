//! The core's effect traits over the Workers runtime: `fetch`, R2, timers.

use crate::cache::{Cache, CacheObject};
use crate::clock::{Clock, Entropy};
use crate::github::http::{HttpClient, HttpRequest, HttpResponse, SendError};
use std::collections::HashMap;
use std::time::Duration;
use worker::{
    console_error, AbortController, Bucket, Delay, Fetch, Headers, Method, Request, RequestInit,
};

/// HTTP through the Workers `fetch`. With `max_body`, an answer over that many bytes
/// is refused while it streams in, never held whole, and redirects are not followed
/// (a 3xx is the answer): for documents fetched from anywhere, such as client
/// metadata documents, whose address was checked and must not move.
pub(super) struct FetchHttp {
    pub(super) max_body: Option<usize>,
}

impl HttpClient for FetchHttp {
    async fn send(&self, request: HttpRequest) -> Result<HttpResponse, SendError> {
        let failed = |what: String| SendError::from_runtime(what);
        let headers = Headers::new();
        for (k, v) in &request.headers {
            headers
                .set(k, v)
                .map_err(|e| failed(format!("bad header {k}: {e}")))?;
        }
        let mut init = RequestInit::new();
        init.with_method(Method::from(request.method.to_string()))
            .with_headers(headers);
        if self.max_body.is_some() {
            init.with_redirect(worker::RequestRedirect::Manual);
        }
        if let Some(body) = request.body {
            init.with_body(Some(worker::wasm_bindgen::JsValue::from_str(&body)));
        }
        let req = Request::new_with_init(&request.url, &init)
            .map_err(|e| failed(format!("bad request: {e}")))?;
        // Abort the request if this future is dropped (a timeout, or a caller's
        // deadline): GitHub's connection is not left open for nothing.
        let mut abort = AbortOnDrop(Some(AbortController::default()));
        let signal = abort.0.as_ref().map(AbortController::signal);
        let sent = match &signal {
            Some(s) => Fetch::Request(req).send_with_signal(s).await,
            None => Fetch::Request(req).send().await,
        };
        let mut resp = sent.map_err(|e| failed(e.to_string()))?;
        let headers = resp
            .headers()
            .entries()
            .map(|(k, v)| (k.to_ascii_lowercase(), v))
            .collect();
        let status = resp.status_code();
        let body = match self.max_body {
            None => resp
                .bytes()
                .await
                .map_err(|e| failed(format!("reading the answer: {e}")))?,
            Some(cap) => read_at_most(&mut resp, cap).await?,
        };
        abort.0 = None;
        Ok(HttpResponse {
            status,
            headers,
            body,
        })
    }
}

/// The body of `resp` if it is at most `cap` bytes: a larger declared length is
/// refused before reading, a longer stream as soon as it passes the cap.
async fn read_at_most(resp: &mut worker::Response, cap: usize) -> Result<Vec<u8>, SendError> {
    use futures::StreamExt;
    let over = || SendError::Failed(format!("the answer is over {cap} bytes"));
    let declared = resp.headers().get("content-length").ok().flatten();
    if declared
        .and_then(|v| v.trim().parse::<usize>().ok())
        .is_some_and(|n| n > cap)
    {
        return Err(over());
    }
    let mut stream = resp
        .stream()
        .map_err(|e| SendError::Failed(format!("reading the answer: {e}")))?;
    let mut body = Vec::new();
    while let Some(chunk) = stream.next().await {
        let chunk = chunk.map_err(|e| SendError::Failed(format!("reading the answer: {e}")))?;
        if body.len() + chunk.len() > cap {
            return Err(over());
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body)
}

/// Aborts a fetch that is still running when dropped.
struct AbortOnDrop(Option<AbortController>);

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        if let Some(c) = self.0.take() {
            c.abort();
        }
    }
}

/// The cache in an R2 bucket: the object body plus custom metadata.
pub(super) struct R2Cache {
    bucket: Bucket,
}

impl R2Cache {
    pub(super) fn new(bucket: Bucket) -> Self {
        R2Cache { bucket }
    }
}

impl Cache for R2Cache {
    async fn get(&self, key: &str) -> Option<CacheObject> {
        let object = match self.bucket.get(key).execute().await {
            Ok(o) => o?,
            Err(e) => {
                console_error!("R2 get {key}: {e}");
                return None;
            }
        };
        let meta = object
            .custom_metadata()
            .unwrap_or_default()
            .into_iter()
            .collect();
        let body = match object.body()?.bytes().await {
            Ok(b) => b,
            Err(e) => {
                console_error!("R2 read {key}: {e}");
                return None;
            }
        };
        Some(CacheObject { body, meta })
    }

    async fn put(&self, key: &str, object: CacheObject) {
        let meta: HashMap<String, String> = object.meta.into_iter().collect();
        if let Err(e) = self
            .bucket
            .put(key, object.body)
            .custom_metadata(meta)
            .execute()
            .await
        {
            console_error!("R2 put {key}: {e}");
        }
    }

    async fn delete(&self, key: &str) {
        if let Err(e) = self.bucket.delete(key).await {
            console_error!("R2 delete {key}: {e}");
        }
    }
}

/// `Date.now`, timers and `Math.random`.
pub(super) struct WorkerClock;

impl Clock for WorkerClock {
    fn now_ms(&self) -> u64 {
        worker::Date::now().as_millis()
    }
    async fn sleep(&self, ms: u64) {
        Delay::from(Duration::from_millis(ms)).await;
    }
    async fn yield_now(&self) {
        // A timer is a macrotask: requests waiting at the object run first.
        Delay::from(Duration::from_millis(0)).await;
    }
}

impl Entropy for WorkerClock {
    fn random_u64(&self) -> u64 {
        let hi = (worker::js_sys::Math::random() * 4_294_967_296.0) as u64;
        let lo = (worker::js_sys::Math::random() * 4_294_967_296.0) as u64;
        (hi << 32) | lo
    }
}

/// The GitHub App's signature with WebCrypto (`crypto.subtle`): RSASSA-PKCS1-v1_5
/// with SHA-256, the key imported from PKCS#8 for each signature (one per token made,
/// about one an hour per repository).
pub(super) struct WebCryptoSigner {
    pub(super) key_pkcs8: Vec<u8>,
}

mod subtle {
    use worker::js_sys::{Array, Promise, Uint8Array};
    use worker::wasm_bindgen::prelude::*;

    #[wasm_bindgen]
    extern "C" {
        #[wasm_bindgen(js_namespace = ["crypto", "subtle"], js_name = importKey, catch)]
        pub(super) fn import_key(
            format: &str,
            key: &Uint8Array,
            algorithm: &JsValue,
            extractable: bool,
            usages: &Array,
        ) -> Result<Promise, JsValue>;

        #[wasm_bindgen(js_namespace = ["crypto", "subtle"], js_name = sign, catch)]
        pub(super) fn sign(
            algorithm: &JsValue,
            key: &JsValue,
            data: &Uint8Array,
        ) -> Result<Promise, JsValue>;
    }
}

impl crate::github::app::AppSigner for WebCryptoSigner {
    async fn sign(&self, message: &[u8]) -> Result<Vec<u8>, String> {
        use worker::js_sys::{Array, ArrayBuffer, Object, Reflect, Uint8Array};
        use worker::wasm_bindgen::JsValue;
        use worker::wasm_bindgen_futures::JsFuture;
        let why = |e: JsValue| format!("{e:?}");
        let algorithm = Object::new();
        let name = JsValue::from_str("RSASSA-PKCS1-v1_5");
        Reflect::set(&algorithm, &"name".into(), &name).map_err(why)?;
        Reflect::set(&algorithm, &"hash".into(), &"SHA-256".into()).map_err(why)?;
        let usages = Array::of1(&"sign".into());
        let key_bytes = Uint8Array::from(self.key_pkcs8.as_slice());
        let imported =
            subtle::import_key("pkcs8", &key_bytes, &algorithm, false, &usages).map_err(why)?;
        let key = JsFuture::from(imported)
            .await
            .map_err(|e| format!("the key was refused: {e:?}"))?;
        let signed = subtle::sign(&name, &key, &Uint8Array::from(message)).map_err(why)?;
        let signature = JsFuture::from(signed).await.map_err(why)?;
        Ok(Uint8Array::new(&ArrayBuffer::from(signature)).to_vec())
    }
}

mod random {
    use worker::js_sys::Uint8Array;
    use worker::wasm_bindgen::prelude::*;

    #[wasm_bindgen]
    extern "C" {
        #[wasm_bindgen(js_namespace = crypto, js_name = getRandomValues, catch)]
        pub(super) fn get_random_values(buf: &Uint8Array) -> Result<JsValue, JsValue>;
    }
}

/// 32 bytes from the platform's cryptographic random source (`crypto.getRandomValues`),
/// base64url.
pub(super) fn secret() -> String {
    use base64::Engine;
    let buf = worker::js_sys::Uint8Array::new_with_length(32);
    let bytes = match random::get_random_values(&buf) {
        Ok(_) => buf.to_vec(),
        Err(e) => {
            // workerd always has it; should it ever fail, never hand out a weak secret
            // silently: say so, and mix what entropy there is through SHA-256.
            console_error!("crypto.getRandomValues failed: {e:?}");
            let noise: Vec<u8> = (0..8)
                .flat_map(|_| worker::js_sys::Math::random().to_bits().to_le_bytes())
                .chain(worker::Date::now().as_millis().to_le_bytes())
                .collect();
            sha2::Digest::finalize(<sha2::Sha256 as sha2::Digest>::new_with_prefix(&noise)).to_vec()
        }
    };
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

/// POSTs `body` to a Durable Object (with these extra headers): its status and text.
/// The one way the Worker calls its objects.
pub(super) async fn post_to_object(
    stub: &worker::Stub,
    url: &str,
    body: &str,
    headers: &[(&str, &str)],
) -> worker::Result<(u16, String)> {
    let h = Headers::new();
    for (k, v) in headers {
        h.set(k, v)?;
    }
    let mut init = RequestInit::new();
    init.with_method(Method::Post)
        .with_headers(h)
        .with_body(Some(worker::wasm_bindgen::JsValue::from_str(body)));
    let req = Request::new_with_init(url, &init)?;
    let mut resp = stub.fetch_with_request(req).await?;
    let text = resp.text().await?;
    Ok((resp.status_code(), text))
}
