//! The token endpoint's checks, one function per step, in the order the
//! parent module's documentation (and README) lists them. The first failure
//! wins; [`Mock::grant`] runs the steps and mints the token.

use super::case::Case;
use super::clients::{Client, ClientAuth, nine_digits};
use super::replay::Remember;
use super::{
    ClientState, GRANT_TYPE, MAX_ASSERTION, MAX_CACHED_CHAINS, MAX_GRANT_LIFETIME, MAX_JTI,
    MAX_PATH, MAX_X5C, Mock, lock,
};
use crate::cert::Certificate;
use crate::cert::path::{self, Policy};
use crate::jwt::decode::MASKINPORTEN_CLAIMS;
use crate::jwt::jws::Alg;
use crate::key::PublicKey;
use crate::orgnr;
use base64::Engine;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use serde_json::{Map, Value, json};
use sha2::{Digest, Sha256};
use std::sync::Arc;

/// What goes into an error description's placeholders.
#[derive(Debug, Default)]
pub(super) struct Fill {
    pub(super) scope: String,
    pub(super) consumer: String,
    pub(super) supplier: String,
}

/// Why a grant gets no token.
pub(super) enum Fail {
    /// A documented case, with its placeholders for MP-250 and MP-251.
    Case(Case, Option<Fill>),
    /// Step 1.
    UnsupportedGrantType,
    /// The replay store is full.
    Busy,
    /// Randomness, serialization or signing failed.
    Internal,
}

impl From<Case> for Fail {
    fn from(c: Case) -> Fail {
        Fail::Case(c, None)
    }
}

/// A validated x5c chain.
pub(super) struct Verified {
    key: PublicKey,
    org: Option<String>,
    /// The validity window common to every certificate on the path.
    not_before: i64,
    not_after: i64,
    /// From when a certificate of the x5c is revoked (the revocation list).
    revoked_from: Option<i64>,
}

/// The key a grant must be signed with.
enum KeyRef<'a> {
    Registered(&'a PublicKey),
    Certificate(Arc<Verified>),
}

impl KeyRef<'_> {
    fn public(&self) -> &PublicKey {
        match self {
            KeyRef::Registered(k) => k,
            KeyRef::Certificate(v) => &v.key,
        }
    }
    fn amr(&self) -> &'static str {
        match self {
            KeyRef::Registered(_) => "private_key_jwt",
            KeyRef::Certificate(_) => "virksomhetssertifikat",
        }
    }
}

/// The assertion, split and decoded (step 2).
struct Assertion {
    header: Map<String, Value>,
    claims: Map<String, Value>,
    signature: Vec<u8>,
    /// `header.payload`, as sent.
    signing_input: String,
}

/// What the grant asks for, read once the client is known (step 5).
struct Ask<'c> {
    scopes: Vec<&'c str>,
    consumer_org: Option<&'c str>,
}

impl Mock {
    /// `POST /token`: every step in order, then the token.
    pub(super) fn grant(&self, form_body: &[u8], now: i64) -> Result<Value, Fail> {
        let assertion = grant_type_and_assertion(form_body)?; // 1
        let a = decode_assertion(&assertion)?; // 2
        let alg = alg_of(&a.header)?; // 3
        documented_claims_only(&a.claims)?; // 4
        let state = self.client_of(&a.claims)?; // 5
        let client = &state.client;
        let ask = Ask {
            scopes: a
                .claims
                .get("scope")
                .and_then(Value::as_str)
                .unwrap_or("")
                .split_ascii_whitespace()
                .collect(),
            consumer_org: a.claims.get("consumer_org").and_then(Value::as_str),
        };
        forced_error(state, &ask)?; // 6
        self.audience(&a.claims)?; // 7
        let key = self.key_for(client, &a.header, now)?; // 8
        signature(alg, &key, &a)?; // 9
        let exp = self.times_and_claim_types(&a.claims, &ask, now)?; // 10
        self.replay(client, &a.claims, exp, now)?; // 11
        consumer_org_not_own(client, &ask)?; // 12
        if let Some(ad) = a.claims.get("authorization_details") {
            check_authorization_details(ad)?; // 13
        }
        self.scopes(state, &ask)?; // 14
        self.token_for(client, &key, &a.claims, &ask, now) // 15
    }

    /// Step 5: `iss` names a known client.
    fn client_of(&self, claims: &Map<String, Value>) -> Result<&ClientState, Fail> {
        let iss = claims
            .get("iss")
            .and_then(Value::as_str)
            .ok_or(Case::Mp100)?;
        Ok(self.clients.get(iss).ok_or(Case::Mp100NotFound)?)
    }

    /// Step 7: `aud` is exactly the issuer.
    fn audience(&self, claims: &Map<String, Value>) -> Result<(), Fail> {
        if claims.get("aud").and_then(Value::as_str) != Some(self.issuer.as_str()) {
            return Err(Case::Mp110.into());
        }
        Ok(())
    }

    /// Step 8: the key that must have signed the grant.
    fn key_for<'a>(
        &'a self,
        client: &'a Client,
        header: &Map<String, Value>,
        now: i64,
    ) -> Result<KeyRef<'a>, Fail> {
        if let Some(kid) = header.get("kid") {
            let k = kid
                .as_str()
                .and_then(|kid| client.keys.iter().find(|k| k.kid == kid))
                .ok_or(Case::UnknownKid)?;
            if k.expires.is_some_and(|e| e <= now) {
                return Err(Case::Mp121.into());
            }
            return Ok(KeyRef::Registered(&k.public));
        }
        if client.auth == ClientAuth::Key {
            return Err(Case::KidRequired.into());
        }
        let x5c = header
            .get("x5c")
            .and_then(Value::as_array)
            .ok_or(Case::Mp123)?;
        if x5c.is_empty() || x5c.len() > MAX_X5C {
            return Err(Case::Mp123.into());
        }
        let ders = x5c
            .iter()
            .map(|v| v.as_str().and_then(|s| STANDARD.decode(s).ok()))
            .collect::<Option<Vec<Vec<u8>>>>()
            .ok_or(Case::Mp123)?;
        let verified = self.cached_chain(&ders, now)?;
        if now < verified.not_before
            || now > verified.not_after
            || verified.revoked_from.is_some_and(|t| t <= now)
        {
            return Err(Case::Mp120.into());
        }
        if verified.org.as_deref() != Some(client.org.as_str()) {
            return Err(Case::Mp122.into());
        }
        Ok(KeyRef::Certificate(verified))
    }

    /// The validated chain for these x5c certificates, from the cache (keyed
    /// by the SHA-256 of the certificates) or validated now.
    fn cached_chain(&self, ders: &[Vec<u8>], now: i64) -> Result<Arc<Verified>, Fail> {
        let mut h = Sha256::new();
        for d in ders {
            h.update((d.len() as u64).to_be_bytes());
            h.update(d);
        }
        let id = h.finalize().to_vec();
        let cached = lock(&self.chains).get(&id).cloned();
        Ok(match cached {
            Some(v) => v,
            None => {
                let v = Arc::new(self.validate_chain(ders, now)?);
                let mut cache = lock(&self.chains);
                if cache.len() >= MAX_CACHED_CHAINS {
                    cache.clear();
                }
                cache.insert(id, Arc::clone(&v));
                v
            }
        })
    }

    /// Parse the x5c certificates and validate the leaf's path to an
    /// anchor (the one path validator, `cert::path`, signing purpose).
    fn validate_chain(&self, ders: &[Vec<u8>], now: i64) -> Result<Verified, Fail> {
        let certs = ders
            .iter()
            .map(|d| Certificate::from_der(d).ok())
            .collect::<Option<Vec<Certificate>>>()
            .ok_or(Case::Mp123)?;
        let (leaf, extra) = certs.split_first().ok_or(Case::Mp123)?;
        let key = leaf.public_key.clone().map_err(|_| Case::Mp120)?;
        let policy = Policy {
            max_depth: MAX_PATH,
            ..Policy::signing(&self.anchors, now)
        };
        let valid = path::validate(leaf, extra, &policy).map_err(|_| Case::Mp120)?;
        Ok(Verified {
            key,
            org: leaf.org_number().map(|(o, _)| o),
            not_before: valid.not_before,
            not_after: valid.not_after,
            revoked_from: certs
                .iter()
                .filter_map(|c| self.revoked.lookup(c).map(|r| r.date))
                .min(),
        })
    }

    /// Step 10: `exp` and `iat` against the clock and each other, then the
    /// types of the optional claims. Returns `exp`.
    fn times_and_claim_types(
        &self,
        claims: &Map<String, Value>,
        ask: &Ask<'_>,
        now: i64,
    ) -> Result<i64, Fail> {
        let int = |name: &str| claims.get(name).and_then(Value::as_i64).ok_or(Case::Mp011);
        let exp = int("exp")?;
        let iat = int("iat")?;
        if exp <= now {
            return Err(Case::Mp130.into());
        }
        if iat > now.saturating_add(self.iat_skew) {
            return Err(Case::IatFuture.into());
        }
        if iat < now.saturating_sub(self.iat_skew) {
            return Err(Case::Mp130.into());
        }
        let lifetime = exp.saturating_sub(iat);
        if lifetime <= 0 || lifetime > MAX_GRANT_LIFETIME {
            return Err(Case::Mp011.into());
        }
        let string_or_absent = |name: &str| match claims.get(name) {
            None | Some(Value::String(_)) => Ok(()),
            Some(_) => Err(Case::Mp011),
        };
        for name in ["jti", "pid", "consumer_org", "iss_onbehalfof"] {
            string_or_absent(name)?;
        }
        let jti = claims.get("jti").and_then(Value::as_str);
        if jti.is_some_and(|j| j.is_empty() || j.len() > MAX_JTI) {
            return Err(Case::Mp011.into());
        }
        match claims.get("resource") {
            None | Some(Value::String(_)) => {}
            Some(Value::Array(a)) if a.iter().all(Value::is_string) => {}
            Some(_) => return Err(Case::Mp011.into()),
        }
        if ask.consumer_org.is_some_and(|c| !nine_digits(c)) {
            return Err(Case::Mp011.into());
        }
        Ok(exp)
    }

    /// Step 11: a `jti` is used once per client until its grant expires.
    fn replay(
        &self,
        client: &Client,
        claims: &Map<String, Value>,
        exp: i64,
        now: i64,
    ) -> Result<(), Fail> {
        if let Some(jti) = claims.get("jti").and_then(Value::as_str) {
            let key = format!("{}\n{jti}", client.client_id);
            match lock(&self.jtis).remember(key, exp, now) {
                Remember::New => {}
                Remember::Seen => return Err(Case::Mp012.into()),
                Remember::Full => return Err(Fail::Busy),
            }
        }
        Ok(())
    }

    /// Step 14: scopes known to the client first, so that a typo is named as
    /// one and not as a missing delegation; then delegated by the consumer,
    /// and open to the consumer.
    fn scopes(&self, state: &ClientState, ask: &Ask<'_>) -> Result<(), Fail> {
        let client = &state.client;
        let scopes = &ask.scopes;
        if scopes.iter().any(|s| self.user_login.contains(*s)) {
            return Err(Case::Mp201.into());
        }
        if scopes.is_empty() || scopes.iter().any(|s| !state.scopes.contains(*s)) {
            return Err(Case::Mp200.into());
        }
        if let Some(c) = ask.consumer_org {
            let granted = client.consumers.get(c);
            if let Some(s) = scopes
                .iter()
                .find(|s| !granted.is_some_and(|g| g.iter().any(|x| x == **s)))
            {
                return Err(Fail::Case(
                    Case::Mp251,
                    Some(Fill {
                        scope: (*s).to_string(),
                        consumer: c.to_string(),
                        supplier: client.org.clone(),
                    }),
                ));
            }
        }
        let consumer = ask.consumer_org.unwrap_or(&client.org);
        if let Some(s) = scopes.iter().find(|s| {
            self.access
                .get(**s)
                .is_some_and(|orgs| !orgs.contains(consumer))
        }) {
            return Err(Fail::Case(
                Case::Mp250,
                Some(Fill {
                    scope: (*s).to_string(),
                    ..Fill::default()
                }),
            ));
        }
        Ok(())
    }

    /// Step 15: the access token and the answer's body.
    fn token_for(
        &self,
        client: &Client,
        key: &KeyRef<'_>,
        claims: &Map<String, Value>,
        ask: &Ask<'_>,
        now: i64,
    ) -> Result<Value, Fail> {
        let lifetime = client.token_lifetime.unwrap_or(self.token_lifetime);
        let scope = ask.scopes.join(" ");
        let consumer = ask.consumer_org.unwrap_or(&client.org);
        let mut t = Map::new();
        t.insert("iss".into(), json!(self.issuer));
        t.insert("client_amr".into(), json!(key.amr()));
        t.insert("token_type".into(), json!("Bearer"));
        // Maskinporten's tokens say "unspecified" when no resource was asked for.
        t.insert(
            "aud".into(),
            claims
                .get("resource")
                .cloned()
                .unwrap_or_else(|| json!("unspecified")),
        );
        t.insert("scope".into(), json!(scope));
        t.insert("client_id".into(), json!(client.client_id));
        t.insert("consumer".into(), org_id(consumer));
        if ask.consumer_org.is_some() {
            t.insert("supplier".into(), org_id(&client.org));
        }
        if let Some(pid) = claims.get("pid") {
            t.insert("pid".into(), pid.clone());
        }
        if let Some(ad) = claims.get("authorization_details") {
            t.insert("authorization_details".into(), ad.clone());
        }
        t.insert("iat".into(), json!(now));
        t.insert("exp".into(), json!(now.saturating_add(lifetime)));
        let mut r = [0u8; 16];
        getrandom::fill(&mut r).map_err(|_| Fail::Internal)?;
        t.insert("jti".into(), json!(crate::jwt::mint::uuid_v4(&r)));
        let payload = serde_json::to_vec(&t).map_err(|_| Fail::Internal)?;
        let token = self
            .signer
            .sign(&self.header, &payload)
            .map_err(|_| Fail::Internal)?;
        Ok(json!({
            "access_token": token,
            "token_type": "Bearer",
            "expires_in": lifetime,
            "scope": scope,
        }))
    }
}

/// Step 1: `grant_type` is the JWT bearer grant; returns the `assertion`
/// (missing or repeated parameters are step 2's MP-011).
fn grant_type_and_assertion(form_body: &[u8]) -> Result<String, Fail> {
    let mut grant_type: Option<String> = None;
    let mut assertion: Option<String> = None;
    let mut repeated = false;
    for (k, v) in url::form_urlencoded::parse(form_body) {
        let slot = match k.as_ref() {
            "grant_type" => &mut grant_type,
            "assertion" => &mut assertion,
            _ => continue,
        };
        if slot.replace(v.into_owned()).is_some() {
            repeated = true;
        }
    }
    if grant_type.as_deref() != Some(GRANT_TYPE) {
        return Err(Fail::UnsupportedGrantType);
    }
    let assertion = assertion.ok_or(Case::Mp011)?;
    if repeated || assertion.len() > MAX_ASSERTION {
        return Err(Case::Mp011.into());
    }
    Ok(assertion)
}

/// Step 2: three base64url parts, header and payload JSON objects.
fn decode_assertion(assertion: &str) -> Result<Assertion, Fail> {
    let mut parts = assertion.split('.');
    let (Some(h), Some(p), Some(s), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(Case::Mp011.into());
    };
    let header = b64_json(h).ok_or(Case::Mp011)?;
    let claims = b64_json(p).ok_or(Case::Mp011)?;
    let signature = URL_SAFE_NO_PAD
        .decode(s.as_bytes())
        .map_err(|_| Case::Mp011)?;
    Ok(Assertion {
        header,
        claims,
        signature,
        signing_input: assertion[..h.len() + 1 + p.len()].to_string(),
    })
}

/// Step 3: RS256, RS384 or RS512.
fn alg_of(header: &Map<String, Value>) -> Result<Alg, Fail> {
    match header.get("alg").and_then(Value::as_str) {
        Some("RS256") => Ok(Alg::RS256),
        Some("RS384") => Ok(Alg::RS384),
        Some("RS512") => Ok(Alg::RS512),
        _ => Err(Case::Mp124.into()),
    }
}

/// Step 4: only the claims Maskinporten documents.
fn documented_claims_only(claims: &Map<String, Value>) -> Result<(), Fail> {
    if claims
        .keys()
        .any(|k| !MASKINPORTEN_CLAIMS.contains(&k.as_str()))
    {
        return Err(Case::ExtraClaim.into());
    }
    Ok(())
}

/// Step 6: a forced error for the client, before any check of the key.
fn forced_error(state: &ClientState, ask: &Ask<'_>) -> Result<(), Fail> {
    if let Some(case) = state.forced {
        let client = &state.client;
        let fill = Fill {
            scope: ask.scopes.first().copied().unwrap_or_default().to_string(),
            consumer: ask.consumer_org.unwrap_or(&client.org).to_string(),
            supplier: client.org.clone(),
        };
        return Err(Fail::Case(case, Some(fill)));
    }
    Ok(())
}

/// Step 9: the signature, with the key step 8 chose.
fn signature(alg: Alg, key: &KeyRef<'_>, a: &Assertion) -> Result<(), Fail> {
    if !crate::jwt::jws::verify(alg, key.public(), a.signing_input.as_bytes(), &a.signature) {
        return Err(Case::Mp124.into());
    }
    Ok(())
}

/// Step 12: `consumer_org` is not the client's own organisation.
fn consumer_org_not_own(client: &Client, ask: &Ask<'_>) -> Result<(), Fail> {
    if ask.consumer_org.is_some_and(|c| c == client.org) {
        return Err(Case::ConsumerOrgOwn.into());
    }
    Ok(())
}

/// Step 13: `authorization_details` entries of known types and shapes.
fn check_authorization_details(ad: &Value) -> Result<(), Fail> {
    let list = ad.as_array().ok_or(Case::Mp011)?;
    for item in list {
        let obj = item.as_object().ok_or(Case::Mp011)?;
        match obj.get("type").and_then(Value::as_str) {
            Some("urn:altinn:systemuser") => {}
            Some("urn:altinn:consent") => continue,
            _ => return Err(Case::Mp301.into()),
        }
        if obj
            .keys()
            .any(|k| !["type", "systemuser_org", "externalRef"].contains(&k.as_str()))
        {
            return Err(Case::Mp302.into());
        }
        let org_ok = obj
            .get("systemuser_org")
            .and_then(Value::as_object)
            .is_some_and(|o| {
                o.len() == 2
                    && o.get("authority").and_then(Value::as_str) == Some(orgnr::ISO6523_AUTHORITY)
                    && o.get("ID")
                        .and_then(Value::as_str)
                        .and_then(orgnr::from_iso6523)
                        .is_some()
            });
        let ref_ok = obj.get("externalRef").is_none_or(Value::is_string);
        if !org_ok || !ref_ok {
            return Err(Case::Mp303.into());
        }
    }
    Ok(())
}

fn b64_json(part: &str) -> Option<Map<String, Value>> {
    let bytes = URL_SAFE_NO_PAD.decode(part.as_bytes()).ok()?;
    match serde_json::from_slice(&bytes).ok()? {
        Value::Object(m) => Some(m),
        _ => None,
    }
}

fn org_id(org: &str) -> Value {
    json!({"authority": orgnr::ISO6523_AUTHORITY, "ID": orgnr::iso6523(org)})
}
