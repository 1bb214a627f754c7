//! Revocation: has the CA revoked a certificate, and the test CA's side.
//!
//! - [`asn1`]: the OCSP (RFC 6960) and CRL (RFC 5280) structures, decoded and
//!   encoded, shared by the client and the test CA's responder;
//! - [`check`]: the client: OCSP first, then CRLs, each answer verified
//!   against the issuer before it is believed;
//! - [`findings`]: what `check` reports about it;
//! - [`list`]: the revocation list a user edits (`keygen --revoke`);
//! - [`issue`]: the CRLs and OCSP answers made from it (`serve revocation`).

pub mod asn1;
pub mod check;
pub mod findings;
pub mod issue;
pub mod list;

#[cfg(feature = "client")]
use crate::cert::Certificate;
#[cfg(feature = "client")]
use crate::diagnostics::check::CheckReport;
#[cfg(feature = "client")]
use crate::keystore::Store;

#[cfg(feature = "client")]
/// Check the revocation of the entry `report` checked (its certificate and
/// its CA certificates) and add the result and its findings to the report:
/// what `check --revocation` and `token --revocation` do. `extra` holds CA
/// certificates given besides the store. Fails only when no HTTP client can
/// be made.
pub fn add_to_report(
    report: &mut CheckReport,
    store: &Store,
    extra: &[Certificate],
    now: i64,
) -> Result<(), String> {
    let Some(index) = report.checked_index else {
        return Ok(());
    };
    let http = check::http()?;
    if let Some(rev) = check::check_entry(store, index, extra, &http, now) {
        let entry = report.entry.clone();
        report.add_findings(findings::findings(&rev, entry.as_deref()));
        report.revocation = Some(rev);
    }
    Ok(())
}
