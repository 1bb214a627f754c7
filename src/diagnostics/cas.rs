//! The Norwegian business-certificate CAs (Buypass, Commfides), test and
//! production, told apart by the issuer name of a certificate. This is the one
//! place the names live.
//!
//! Maskinporten accepts production certificates only in production and test
//! certificates only in test (`docs/maskinporten-errors.md`, "Certificates and
//! organisation numbers").
//!
//! Sources (public material, read 2026-11; names verified, nothing copied):
//!
//! | id | source |
//! | --- | --- |
//! | S1 | magnuswatn/sertifikatsok `api/src/sertifikatsok/constants.py`: `KNOWN_CERT_TYPES` (issuer DN + policy OID → "Buypass TEST virksomhetssertifikat", ...) and `DISCONTINUED_CAS` |
//! | S2 | magnuswatn/sertifikatsok `api/src/sertifikatsok/ldap.py`: `LDAP_SERVERS`, split into `Environment.TEST` (ldap.test4.buypass.no, ldap.test.commfides.com) and `Environment.PROD` |
//! | S3 | navikt emottak CRL checker (Kotlin, `no.nav.emottak.util.cert`, `issuerList`): full issuer DNs with test CRLs at crl.test4.buypassca.com / crl.test.commfides.com |
//! | S4 | magnuswatn/sertifikatsok `api/certs/test/BPCl3CaG2STBS.pem`, decoded with `openssl x509 -subject`: `C=NO, organizationIdentifier=NTRNO-983163327, O=Buypass AS, CN=Buypass Class 3 Test4 CA G2 ST Business` |
//! | S5 | Posten/Digipost signering-docs `buy-enterprise-certificates.rst`: asks Commfides for test certificates from `CN=Commfides CPN Enterprise-Norwegian SHA256 CA - TEST2` |
//!
//! | issuer CN | CA | environment | sources |
//! | --- | --- | --- | --- |
//! | Buypass Class 3 CA 1 | Buypass | prod (discontinued) | S1, S2 |
//! | Buypass Class 3 CA 3 | Buypass | prod | S1, S2, S3 |
//! | Buypass Class 3 CA G2 ST Business | Buypass | prod | S1, S2, S3 |
//! | Buypass Class 3 CA G2 HT Business | Buypass | prod | S1, S2, S3 |
//! | Buypass Class 3 Test4 CA 1 | Buypass | test (discontinued) | S1, S2 |
//! | Buypass Class 3 Test4 CA 3 | Buypass | test | S1, S2, S3 |
//! | Buypass Class 3 Test4 CA G2 ST Business | Buypass | test | S1, S2, S3, S4 |
//! | Buypass Class 3 Test4 CA G2 HT Business | Buypass | test | S1, S2, S3 |
//! | CPN Enterprise SHA256 CLASS 3 | Commfides | prod | S1, S3 |
//! | Commfides Legal Person - G3 | Commfides | prod | S1, S3 |
//! | Commfides CPN Enterprise-Norwegian SHA256 CA - TEST | Commfides | test (discontinued) | S1, S3 |
//! | Commfides CPN Enterprise-Norwegian SHA256 CA - TEST2 | Commfides | test (discontinued) | S1, S5 |
//! | Commfides Legal Person - G3 - TEST | Commfides | test | S1, S3 |
//!
//! Person-certificate CAs (`... HT Person`, `Commfides Natural Person - G3`)
//! are left out on purpose: Maskinporten takes business certificates. Names
//! that could not be confirmed in any source were left out too (for example
//! "Buypass Class 3 Test4 CA 2"); an issuer not in this table gives the
//! `env-unknown-issuer` warning, never a guess.

use crate::cert::{Name, oid};
use crate::target::MaskinportenEnv;

/// The CA vendor.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Vendor {
    Buypass,
    Commfides,
}

impl Vendor {
    pub fn name(self) -> &'static str {
        match self {
            Vendor::Buypass => "Buypass",
            Vendor::Commfides => "Commfides",
        }
    }
}

/// A known issuing CA.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct IssuingCa {
    /// The issuer's common name, exactly as in the certificate.
    pub common_name: &'static str,
    pub vendor: Vendor,
    pub env: MaskinportenEnv,
}

const fn ca(common_name: &'static str, vendor: Vendor, env: MaskinportenEnv) -> IssuingCa {
    IssuingCa {
        common_name,
        vendor,
        env,
    }
}

/// The table (see the module documentation for the sources).
pub const ISSUING_CAS: &[IssuingCa] = &[
    ca(
        "Buypass Class 3 CA 1",
        Vendor::Buypass,
        MaskinportenEnv::Prod,
    ),
    ca(
        "Buypass Class 3 CA 3",
        Vendor::Buypass,
        MaskinportenEnv::Prod,
    ),
    ca(
        "Buypass Class 3 CA G2 ST Business",
        Vendor::Buypass,
        MaskinportenEnv::Prod,
    ),
    ca(
        "Buypass Class 3 CA G2 HT Business",
        Vendor::Buypass,
        MaskinportenEnv::Prod,
    ),
    ca(
        "Buypass Class 3 Test4 CA 1",
        Vendor::Buypass,
        MaskinportenEnv::Test,
    ),
    ca(
        "Buypass Class 3 Test4 CA 3",
        Vendor::Buypass,
        MaskinportenEnv::Test,
    ),
    ca(
        "Buypass Class 3 Test4 CA G2 ST Business",
        Vendor::Buypass,
        MaskinportenEnv::Test,
    ),
    ca(
        "Buypass Class 3 Test4 CA G2 HT Business",
        Vendor::Buypass,
        MaskinportenEnv::Test,
    ),
    ca(
        "CPN Enterprise SHA256 CLASS 3",
        Vendor::Commfides,
        MaskinportenEnv::Prod,
    ),
    ca(
        "Commfides Legal Person - G3",
        Vendor::Commfides,
        MaskinportenEnv::Prod,
    ),
    ca(
        "Commfides CPN Enterprise-Norwegian SHA256 CA - TEST",
        Vendor::Commfides,
        MaskinportenEnv::Test,
    ),
    ca(
        "Commfides CPN Enterprise-Norwegian SHA256 CA - TEST2",
        Vendor::Commfides,
        MaskinportenEnv::Test,
    ),
    ca(
        "Commfides Legal Person - G3 - TEST",
        Vendor::Commfides,
        MaskinportenEnv::Test,
    ),
];

const ORGANIZATION_NAME: &str = "2.5.4.10";

/// The known CA that issued a certificate with this issuer name: its CN must be
/// in the table (compared exactly, after trimming) and its O must name the vendor.
pub fn lookup(issuer: &Name) -> Option<&'static IssuingCa> {
    let cn = issuer.get(oid::COMMON_NAME)?.trim();
    let org = issuer.get(ORGANIZATION_NAME).unwrap_or_default();
    ISSUING_CAS.iter().find(|ca| {
        ca.common_name == cn
            && org
                .to_ascii_lowercase()
                .contains(&ca.vendor.name().to_ascii_lowercase())
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cert::NameAttribute;

    fn name(attrs: &[(&str, &str)]) -> Name {
        Name {
            attributes: attrs
                .iter()
                .map(|(oid, v)| NameAttribute {
                    name: String::new(),
                    oid: (*oid).into(),
                    value: (*v).into(),
                    string_type: "UTF8String".into(),
                })
                .collect(),
            raw: Vec::new(),
        }
    }

    #[test]
    fn known_names_and_environments() {
        let bp_test = name(&[
            ("2.5.4.6", "NO"),
            ("2.5.4.97", "NTRNO-983163327"),
            (ORGANIZATION_NAME, "Buypass AS"),
            (oid::COMMON_NAME, "Buypass Class 3 Test4 CA G2 ST Business"),
        ]);
        let found = lookup(&bp_test).expect("known");
        assert_eq!(found.env, MaskinportenEnv::Test);
        assert_eq!(found.vendor, Vendor::Buypass);

        let cf_prod = name(&[
            (ORGANIZATION_NAME, "Commfides Norge AS - 988 312 495"),
            (oid::COMMON_NAME, "CPN Enterprise SHA256 CLASS 3"),
        ]);
        assert_eq!(lookup(&cf_prod).map(|c| c.env), Some(MaskinportenEnv::Prod));
    }

    #[test]
    fn the_organisation_must_match_the_vendor() {
        let fake = name(&[
            (ORGANIZATION_NAME, "Credkit Test CA"),
            (oid::COMMON_NAME, "Buypass Class 3 CA 3"),
        ]);
        assert!(lookup(&fake).is_none());
        let unknown = name(&[
            (ORGANIZATION_NAME, "Buypass AS"),
            (oid::COMMON_NAME, "Buypass Class 3 Test4 CA 2"),
        ]);
        assert!(lookup(&unknown).is_none());
    }

    #[test]
    fn test_and_prod_names_never_collide() {
        for a in ISSUING_CAS {
            let n = ISSUING_CAS
                .iter()
                .filter(|b| b.common_name == a.common_name)
                .count();
            assert_eq!(n, 1, "{} is listed twice", a.common_name);
            let looks_test = a.common_name.contains("Test") || a.common_name.contains("TEST");
            assert_eq!(
                looks_test,
                a.env == MaskinportenEnv::Test,
                "{}",
                a.common_name
            );
        }
    }
}
